import type { Clock, Logger, WorkQueue } from '../ports.js';

export type PendingWork =
  | { readonly kind: 'recompute'; readonly personId: string }
  | { readonly kind: 'push'; readonly agentId: string; readonly version: number; readonly targetId: string };

export interface OutboxRelayDeps {
  readonly store: { pendingWork(createdBefore: Date, limit: number): Promise<PendingWork[]> };
  readonly queue: WorkQueue;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Rows younger than this are left to the fast path that follows each commit. */
  readonly graceMs: number;
  readonly batchSize: number;
}

/**
 * Re-enqueues committed work that is not done yet. Queue jobs are idempotent (a recompute that finds
 * nothing pending writes nothing; pushes are keyed per agent version), so enqueueing something already
 * queued is harmless; after a Redis restart or FLUSHALL this is what brings the lost jobs back. Recomputes
 * are handed over as `relay`: during a backlog the oldest pending rows are the same from one round to the
 * next and already queued, and the queue drops a hand-over while the previous one still waits.
 */
export async function relayOutboxOnce(deps: OutboxRelayDeps): Promise<number> {
  const pending = await deps.store.pendingWork(new Date(deps.clock().getTime() - deps.graceMs), deps.batchSize);
  if (pending.length === 0) return 0;
  const personIds = new Set<string>();
  const pushes = new Map<string, { targetId: string; agentId: string; version: number }>();
  for (const work of pending) {
    if (work.kind === 'recompute') personIds.add(work.personId);
    else pushes.set(`${work.targetId}|${work.agentId}|${work.version}`, work);
  }
  await deps.queue.enqueueRecompute([...personIds], 'relay');
  await deps.queue.enqueuePush([...pushes.values()]);
  deps.logger.info({ recompute: personIds.size, push: pushes.size }, 'outbox relay re-enqueued pending work');
  return pending.length;
}
