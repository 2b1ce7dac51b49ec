import { groupCommit } from '../group-commit.js';
import { recomputeSponsors, type RecomputeDeps, type RecomputeResult } from './recompute-sponsor.js';

export interface RecomputeBatcherOptions {
  /** Most sponsors recomputed in one transaction. */
  readonly maxBatch: number;
  /** Batches in flight at once (each holds one database connection). */
  readonly maxInFlight: number;
}

/**
 * The sponsors of recompute jobs that run at the same time share one transaction (recomputeSponsors): under
 * a burst of directory changes the workers' cost is per-statement and per-commit overhead, which batching
 * divides among the sponsors. A sponsor waits only while a batch is already in flight, so an idle system
 * pays no delay. A job submits each of its sponsors here (jobs/bullmq.ts eachSponsor) and each settles with
 * its own result, so a job retries only the sponsors that failed. One sponsor is never in two flushes at
 * once (a sponsor queued in two jobs runs twice, one after the other; the second finds nothing pending). A
 * batch that fails (a compare-and-set lost to a concurrent writer, a deadlock) is rolled back whole and its
 * sponsors are retried one per transaction, so the failure reaches only the sponsor that causes it.
 */
export function recomputeBatcher(deps: RecomputeDeps, options: RecomputeBatcherOptions): (personId: string) => Promise<RecomputeResult> {
  const batches = groupCommit<string, RecomputeResult>({
    key: (personId) => personId,
    maxBatch: options.maxBatch,
    maxInFlight: options.maxInFlight,
    flush: async (personIds) => (await recomputeSponsors(deps, personIds)).map((value) => ({ ok: true, value })),
  });
  return (personId) => batches.submit(personId);
}
