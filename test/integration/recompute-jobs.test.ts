import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBullQueues, eachSponsor, startBullWorkers, type BullWorkers, type Processors } from '../../jobs/bullmq.js';
import { MAX_RECOMPUTE_IDS, RECOMPUTE_QUEUE, recomputeJobSchema } from '../../jobs/queues.js';
import { registerAgent } from '../../src/app/agents/register-agent.js';
import { changeGroup, createGroup } from '../../src/app/directory/groups.js';
import { createPerson } from '../../src/app/directory/people.js';
import { recomputeBatcher } from '../../src/app/pipeline/recompute-batcher.js';
import { recomputeSponsors, type RecomputeDeps } from '../../src/app/pipeline/recompute-sponsor.js';
import type { Policy, WorkQueue } from '../../src/app/ports.js';
import { AppError } from '../../src/domain/errors.js';
import type { Store } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { RecordingQueue, scimContext, silentLogger, storeWithPolicy } from '../support/pipeline.js';
import { waitFor } from '../support/ports.js';
import { deletePrefix, SHARED_REDIS_URL, uniquePrefix } from '../support/redis.js';

/**
 * Recompute jobs carry the sponsors of one enqueue (jobs/bullmq.ts): chunking, jobs queued by an older
 * Tether, partial failure and retry, on real Redis (a key prefix per run) and real PostgreSQL.
 */
describe('recompute jobs carry several sponsors', () => {
  let database: TestDatabase;
  let store: Store;
  let policy: Policy;
  let salesId: string;
  const recording = new RecordingQueue();
  const clock = () => new Date();
  const prefixes: string[] = [];
  const base = (queue: WorkQueue = recording) => ({ store, queue, clock, logger: silentLogger });
  const deps = (queue: WorkQueue = recording): RecomputeDeps => ({ ...base(queue), policy: () => policy, targetIds: () => ['t1'] });

  /** Queues, a reader of the recompute queue and (optionally) workers, under a fresh key prefix. */
  function bull() {
    const prefix = uniquePrefix('recompute-jobs');
    prefixes.push(prefix);
    const settings = { redisUrl: SHARED_REDIS_URL, prefix, targets: [] };
    const queues = createBullQueues(settings);
    const reader = new Queue(RECOMPUTE_QUEUE, { connection: { url: SHARED_REDIS_URL }, prefix });
    let workers: BullWorkers | null = null;
    const events: { outcome: string; error?: unknown }[] = [];
    return {
      queues,
      reader,
      events,
      start: (recompute: Processors['recompute'], concurrency = 8) => {
        workers = startBullWorkers({ ...settings, recomputeConcurrency: concurrency }, { recompute, push: () => Promise.resolve() }, (queue, outcome, _seconds, error) => {
          if (queue === RECOMPUTE_QUEUE) events.push({ outcome, error });
        });
      },
      close: async () => {
        await workers?.close();
        await reader.close();
        await queues.close();
      },
    };
  }

  async function sponsor(userName: string) {
    const person = await createPerson(base(), scimContext(), { userName, externalId: null, displayName: null, active: true, attributes: {}, resource: { userName } });
    const agent = await registerAgent({ ...base(), policy: () => policy }, { type: 'system', id: 'test' }, {
      name: `${userName}-bot`, purpose: 'test', environment: 'production', sponsor: { id: person.id }, backupSponsors: [], owner: null,
      requestedTools: ['crm.contacts.read'], expiresAt: null,
      delegation: { approver: 'approver', justification: 'test', tools: null, targetSystems: [], notBefore: null, expiresAt: null },
    });
    return { personId: person.id, agentId: agent.id };
  }

  const pendingRecomputes = async (personIds: readonly string[]) =>
    (await database.db.query<{ n: number }>(`select count(*)::int as n from outbox where kind = 'recompute' and person_id = any($1::uuid[]) and done_at is null`, [personIds])).rows[0]?.n;
  const currentVersion = async (agentId: string) => (await store.readModels.getAgent(agentId))?.version;
  const finished = (reader: Queue, count: number) =>
    waitFor(async () => {
      const jobs = await reader.getJobs(['completed', 'failed']);
      return jobs.length >= count ? jobs : null;
    }, { timeoutMs: 15_000, what: `${count} recompute job(s) finished` });

  beforeAll(async () => {
    database = await createTestDatabase();
    ({ store, policy } = await storeWithPolicy(database.db));
    salesId = (await createGroup(base(), scimContext(), { displayName: 'Sales', externalId: null, resource: {} }, [])).id;
  });

  afterAll(async () => {
    for (const prefix of prefixes) await deletePrefix(SHARED_REDIS_URL, prefix);
    await database?.drop();
  });

  it('enqueues the unique ids of one call as jobs of at most MAX_RECOMPUTE_IDS, without per-sponsor deduplication', async () => {
    const { queues, reader, close } = bull();
    try {
      const ids = Array.from({ length: 2 * MAX_RECOMPUTE_IDS + 22 }, () => randomUUID());
      await queues.enqueueRecompute([...ids, ...ids.slice(0, 10)]);
      await queues.enqueueRecompute([]);
      const jobs = (await reader.getJobs(['waiting'])).sort((left, right) => Number(left.id) - Number(right.id));
      expect(jobs.map((job) => (job.data as { personIds: string[] }).personIds.length)).toEqual([MAX_RECOMPUTE_IDS, MAX_RECOMPUTE_IDS, 22]);
      expect(jobs.flatMap((job) => (job.data as { personIds: string[] }).personIds)).toEqual(ids);
      for (const job of jobs) {
        expect(Object.keys(job.data as object)).toEqual(['personIds']);
        expect(job.opts.attempts).toBe(20);
        expect(job.opts.deduplication).toBeUndefined();
      }
      // The same sponsor asked for again while its job waits is queued again (a recompute is idempotent).
      await queues.enqueueRecompute([ids[0] as string]);
      expect(await reader.getWaitingCount()).toBe(4);
    } finally {
      await close();
    }
  });

  it('drops an outbox-relay hand-over while the previous one still waits, never a commit\'s', async () => {
    const { queues, reader, close } = bull();
    try {
      const ids = Array.from({ length: MAX_RECOMPUTE_IDS + 5 }, () => randomUUID());
      await queues.enqueueRecompute(ids, 'relay');
      expect(await reader.getWaitingCount()).toBe(2);
      // The next relay round reads the same oldest rows of a backlog: nothing more is queued for them.
      await queues.enqueueRecompute(ids, 'relay');
      await queues.enqueueRecompute(ids.slice(0, 3), 'relay');
      expect(await reader.getWaitingCount()).toBe(2);
      // The commit path is never held back by the relay.
      await queues.enqueueRecompute(ids.slice(0, 3));
      expect(await reader.getWaitingCount()).toBe(3);
      // Once the relay's jobs are gone (done, or after Redis lost them), the relay hands over again.
      await reader.obliterate({ force: true });
      await queues.enqueueRecompute(ids.slice(0, 3), 'relay');
      expect(await reader.getWaitingCount()).toBe(1);
    } finally {
      await close();
    }
  });

  it('processes a { personId } job queued by an older Tether', async () => {
    const ann = await sponsor('legacy-ann');
    await changeGroup(base(), scimContext(), salesId, { addMemberIds: [ann.personId] }, null);
    const { reader, start, close } = bull();
    try {
      // As Tether queued it before jobs carried several sponsors.
      await reader.add('recompute', { personId: ann.personId }, { attempts: 20, backoff: { type: 'tether' }, deduplication: { id: ann.personId, keepLastIfActive: true } });
      start(eachSponsor(recomputeBatcher(deps(), { maxBatch: 8, maxInFlight: 1 })));
      const [job] = await finished(reader, 1);
      expect(await job?.getState()).toBe('completed');
      expect(job?.returnvalue).toEqual({ sponsors: 1 });
      expect(await currentVersion(ann.agentId)).toBe(1);
      expect((await store.readModels.getAgent(ann.agentId))?.effective.map((entitlement) => entitlement.toolId)).toEqual(['crm.contacts.read']);
      expect(await pendingRecomputes([ann.personId])).toBe(0);
    } finally {
      await close();
    }
  });

  it('a partly failed job keeps only the failed sponsors, and its retry recomputes just those', async () => {
    const sponsors = [await sponsor('part-amy'), await sponsor('part-ben'), await sponsor('part-cal')];
    const victim = sponsors[1]!;
    const { queues, reader, events, start, close } = bull();
    const calls: string[] = [];
    const batcher = recomputeBatcher(deps(), { maxBatch: 8, maxInFlight: 1 });
    let failures = 1;
    try {
      start(eachSponsor(async (personId) => {
        calls.push(personId);
        if (personId === victim.personId && failures > 0) {
          failures -= 1;
          throw new AppError('conflict', 'injected race');
        }
        return batcher(personId);
      }));
      await queues.enqueueRecompute(sponsors.map((entry) => entry.personId));
      const [job] = await finished(reader, 1);
      expect(await job?.getState()).toBe('completed');
      expect(job?.attemptsMade).toBe(2);
      expect(job?.data).toEqual({ personIds: [victim.personId] });
      expect(calls).toEqual([...sponsors.map((entry) => entry.personId), victim.personId]);
      expect(events.map((event) => event.outcome)).toEqual(['retry', 'completed']);
      expect((events[0]?.error as Error).message).toBe(`1 of 3 sponsors failed; first (${victim.personId}): conflict: injected race`);
      for (const { agentId } of sponsors) expect(await currentVersion(agentId)).toBe(1);
      expect(await pendingRecomputes(sponsors.map((entry) => entry.personId))).toBe(0);
    } finally {
      await close();
    }
  });

  it('fails for good at once only when every failure is non-retryable', async () => {
    const ok = await sponsor('final-ok');
    const broken = await sponsor('final-broken');
    const { queues, reader, events, start, close } = bull();
    const batcher = recomputeBatcher(deps(), { maxBatch: 8, maxInFlight: 1 });
    try {
      start(eachSponsor(async (personId) => {
        if (personId === broken.personId) throw new AppError('invalid_config', 'injected');
        return batcher(personId);
      }));
      await queues.enqueueRecompute([ok.personId, broken.personId]);
      const [job] = await finished(reader, 1);
      expect(await job?.getState()).toBe('failed');
      expect(job?.attemptsMade).toBe(1);
      expect(job?.data).toEqual({ personIds: [broken.personId] });
      expect(job?.failedReason).toBe(`1 of 2 sponsors failed; first (${broken.personId}): invalid_config: injected`);
      expect(events.map((event) => event.outcome)).toEqual(['failed']);
      expect(await currentVersion(ok.agentId)).toBe(1);
      // The failed sponsor's outbox row stays pending: the outbox relay queues it again.
      expect(await pendingRecomputes([broken.personId])).toBeGreaterThan(0);
    } finally {
      await close();
    }
  });

  it('a group change over more sponsors than one job holds recomputes every one of them', async () => {
    const count = MAX_RECOMPUTE_IDS + 6;
    const sponsors: { personId: string; agentId: string }[] = [];
    for (let index = 0; index < count; index += 1) sponsors.push(await sponsor(`wide-${index}`));
    const personIds = sponsors.map((entry) => entry.personId);
    // Version 1 (nothing covered yet), so the next version can only come from the group change.
    await recomputeSponsors(deps(), personIds);
    const { queues, reader, start, close } = bull();
    try {
      start(eachSponsor(recomputeBatcher(deps(queues), { maxBatch: 16, maxInFlight: 2 })));
      await changeGroup(base(queues), scimContext(), salesId, { addMemberIds: personIds }, null);
      const jobs = await finished(reader, 2);
      expect(jobs.map((job) => recomputeJobSchema.parse(job.data).personIds.length).sort((left, right) => left - right)).toEqual([6, MAX_RECOMPUTE_IDS]);
      await waitFor(async () => (await pendingRecomputes(personIds)) === 0, { timeoutMs: 15_000, what: 'every sponsor recomputed' });
      for (const { agentId } of sponsors) {
        const agent = await store.readModels.getAgent(agentId);
        expect(agent?.version).toBe(2);
        expect(agent?.effective.map((entitlement) => entitlement.toolId)).toEqual(['crm.contacts.read']);
      }
    } finally {
      await close();
    }
  });
});
