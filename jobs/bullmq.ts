/**
 * The one module that imports BullMQ. It adapts the app's WorkQueue and QueueInspector ports and runs
 * the workers; processors stay thin and call the use cases.
 */
import { Queue, UnrecoverableError, Worker, type Job, type JobsOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { NotificationJob, NotificationQueue } from '../src/app/governance/notices.js';
import type { WorkQueue } from '../src/app/ports.js';
import type { QueueInspector } from '../src/app/queries/status.js';
import { AppError, isAppError } from '../src/domain/errors.js';
import {
  DIRECTORY_SYNC_QUEUE, directorySchedulerId, directorySyncJobSchema, DRIFT_QUEUE, driftJobSchema, driftSchedulerId, GOVERNANCE_QUEUE, governanceJobSchema,
  governanceSchedulerId, notificationJobSchema, notifyQueueName, pushJobId, pushJobSchema, pushQueueName, MAX_RECOMPUTE_IDS, RECOMPUTE_QUEUE, recomputeJobSchema,
  type DeadLetter, type DirectorySyncJob, type DriftJob, type GovernanceJob, type PushJob,
} from './queues.js';
import { retryDelayMs, type RetryPolicy } from './retry.js';

export interface QueueTarget {
  readonly id: string;
  readonly maxAttempts: number;
  readonly backoffMs: number;
  readonly concurrency: number;
  /** At most `max` jobs per `perMs` across every worker of this target (BullMQ limiter). */
  readonly rateLimit?: { readonly max: number; readonly perMs: number } | undefined;
  /** Scheduled drift check interval; 0 = none. */
  readonly driftIntervalMs?: number;
}

export interface BullSettings {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly targets: readonly QueueTarget[];
  /** Notification webhooks (`notifications.webhooks`): one queue each, with the target's retry settings. */
  readonly notificationWebhooks?: readonly QueueTarget[];
}

const RECOMPUTE_ATTEMPTS = 20;
const KEEP = { removeOnComplete: { count: 1000, age: 3600 }, removeOnFail: { count: 10_000 } } as const;

export function redisConnection(url: string, purpose: 'queue' | 'worker'): Redis {
  const options: RedisOptions = {
    // Workers block on Redis and must never give up a command; queues fail fast so HTTP requests do not hang.
    maxRetriesPerRequest: purpose === 'worker' ? null : 2,
    enableOfflineQueue: purpose === 'worker',
    connectionName: `tether-${purpose}`,
  };
  const connection = new Redis(url, options);
  // Reconnection is automatic; errors surface through the commands that fail.
  connection.on('error', () => undefined);
  return connection;
}

/** A directory source's schedule: delta polls every `pollMs`, full reconciliations every `reconcileMs` (0: none). */
export interface DirectorySchedule {
  readonly sourceId: string;
  readonly pollMs: number;
  readonly reconcileMs: number;
}

export interface BullQueues extends WorkQueue, NotificationQueue, QueueInspector {
  /** Queues one run now (admin API / CLI reconcile, a confirmed held run). */
  enqueueDirectorySync(job: DirectorySyncJob): Promise<void>;
  /** Makes the job schedulers match the configured sources; schedulers of removed sources are dropped. */
  scheduleDirectorySync(schedules: readonly DirectorySchedule[]): Promise<void>;
  /** Queues one drift check now (admin API / CLI); a request while one waits changes nothing. */
  enqueueDrift(job: DriftJob): Promise<void>;
  /** Job schedulers for targets with a drift interval; schedulers of other targets are dropped. */
  scheduleDrift(): Promise<void>;
  /**
   * The governance sweeps' job scheduler: one expiry sweep every `expirySweepMs` across all workers (BullMQ
   * runs each scheduled job once, whichever worker takes it).
   */
  scheduleGovernance(schedule: { readonly expirySweepMs: number }): Promise<void>;
  /** Failed pushes of a target, newest first. */
  deadLetters(targetId: string, offset: number, limit: number): Promise<{ items: DeadLetter[]; total: number }>;
  /** Moves one failed push back to the queue with fresh attempts; false when no such failed job exists. */
  retryDeadLetter(targetId: string, jobId: string): Promise<boolean>;
  /** Moves every failed push of a target back to the queue; returns how many. */
  retryAllDeadLetters(targetId: string): Promise<number>;
  /** Every queue this object created (recompute, each push.<target>, directory-sync, drift, governance, each notify.<webhook>), for read-only views such as the dashboard's bull-board. */
  instances(): readonly Queue[];
  close(): Promise<void>;
}

export function createBullQueues(settings: BullSettings): BullQueues {
  const connection = redisConnection(settings.redisUrl, 'queue');
  const recompute = new Queue(RECOMPUTE_QUEUE, { connection, prefix: settings.prefix });
  const pushes = new Map(
    settings.targets.map((target) => [target.id, { target, queue: new Queue(pushQueueName(target.id), { connection, prefix: settings.prefix }) }]),
  );
  const recomputeOptions: JobsOptions = { attempts: RECOMPUTE_ATTEMPTS, backoff: { type: 'tether' }, ...KEEP };
  const directory = new Queue(DIRECTORY_SYNC_QUEUE, { connection, prefix: settings.prefix });
  const drift = new Queue(DRIFT_QUEUE, { connection, prefix: settings.prefix });
  const governance = new Queue(GOVERNANCE_QUEUE, { connection, prefix: settings.prefix });
  const notifies = new Map(
    (settings.notificationWebhooks ?? []).map((webhook) => [webhook.id, { webhook, queue: new Queue(notifyQueueName(webhook.id), { connection, prefix: settings.prefix }) }]),
  );
  const all = () => [recompute, directory, drift, governance, ...[...pushes.values()].map((entry) => entry.queue), ...[...notifies.values()].map((entry) => entry.queue)];
  const pushQueue = (targetId: string) => {
    const entry = pushes.get(targetId);
    if (entry === undefined) throw new AppError('not_found', 'target not found', { detail: `Target ${targetId} not found` });
    return entry.queue;
  };
  return {
    async enqueueDrift(job) {
      const data = driftJobSchema.parse(job);
      await drift.add('drift', data, { ...KEEP, attempts: 1, deduplication: { id: `${data.targetId}.${data.agentId ?? 'all'}` } });
    },
    async scheduleDrift() {
      const wanted = new Set<string>();
      for (const target of settings.targets) {
        if ((target.driftIntervalMs ?? 0) <= 0) continue;
        const id = driftSchedulerId(target.id);
        wanted.add(id);
        await drift.upsertJobScheduler(id, { every: target.driftIntervalMs ?? 0 }, { name: 'drift', data: driftJobSchema.parse({ targetId: target.id, trigger: 'scheduled' }), opts: { ...KEEP, attempts: 1 } });
      }
      for (const existing of await drift.getJobSchedulers()) {
        if (existing.key !== '' && !wanted.has(existing.key)) await drift.removeJobScheduler(existing.key);
      }
    },
    async scheduleGovernance(schedule) {
      const id = governanceSchedulerId('expiry-sweep');
      const data = governanceJobSchema.parse({ task: 'expiry-sweep', trigger: 'scheduled' });
      await governance.upsertJobScheduler(id, { every: schedule.expirySweepMs }, { name: 'expiry-sweep', data, opts: { ...KEEP, attempts: 1 } });
    },
    async deadLetters(targetId, offset, limit) {
      const queue = pushQueue(targetId);
      const [jobs, total] = await Promise.all([queue.getFailed(offset, offset + limit - 1), queue.getFailedCount()]);
      const items = jobs.flatMap((job): DeadLetter[] => {
        const payload = pushJobSchema.safeParse(job.data);
        if (!payload.success || job.id === undefined) return [];
        return [{
          jobId: job.id, agentId: payload.data.agentId, version: payload.data.version, attempts: job.attemptsMade,
          lastError: job.failedReason, failedAt: job.finishedOn === undefined ? null : new Date(job.finishedOn),
        }];
      });
      return { items, total };
    },
    async retryDeadLetter(targetId, jobId) {
      const job = await pushQueue(targetId).getJob(jobId);
      if (job === undefined || !(await job.isFailed())) return false;
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      return true;
    },
    async retryAllDeadLetters(targetId) {
      const queue = pushQueue(targetId);
      // Bounded: at most the failures present now, a page at a time (a job failing again is not retried twice).
      let remaining = await queue.getFailedCount();
      let retried = 0;
      while (remaining > 0) {
        const page = await queue.getFailed(0, Math.min(remaining, 500) - 1);
        if (page.length === 0) break;
        for (const job of page) {
          await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true }).then(() => (retried += 1), () => undefined);
        }
        remaining -= page.length;
      }
      return retried;
    },
    async enqueueDirectorySync(job) {
      const data = directorySyncJobSchema.parse(job);
      // One on-demand run per source and mode waits at a time; asking again while it waits changes nothing.
      await directory.add('run', data, { ...KEEP, attempts: 1, deduplication: { id: `${data.mode}.${data.sourceId}.${data.confirmedRunId ?? 0}` } });
    },
    async scheduleDirectorySync(schedules) {
      const wanted = new Set<string>();
      for (const schedule of schedules) {
        const jobs: [kind: 'poll' | 'reconcile', every: number, mode: 'delta' | 'full'][] = [['poll', schedule.pollMs, 'delta'], ['reconcile', schedule.reconcileMs, 'full']];
        for (const [kind, every, mode] of jobs) {
          if (every <= 0) continue;
          const id = directorySchedulerId(kind, schedule.sourceId);
          wanted.add(id);
          await directory.upsertJobScheduler(id, { every }, { name: kind, data: directorySyncJobSchema.parse({ sourceId: schedule.sourceId, mode, trigger: 'scheduled' }), opts: { ...KEEP, attempts: 1 } });
        }
      }
      for (const existing of await directory.getJobSchedulers()) {
        if (existing.key !== '' && !wanted.has(existing.key)) await directory.removeJobScheduler(existing.key);
      }
    },
    async enqueueRecompute(personIds, origin = 'commit') {
      // One job per MAX_RECOMPUTE_IDS sponsors of this call, all in one round trip, and no deduplication per
      // sponsor. That is safe because a recompute is idempotent: it reads the sponsor's pending outbox rows
      // and current state in one snapshot, and one that finds the agents' entitlements unchanged writes no
      // version and queues no push; compare-and-set on current_version stops two runs from writing from the
      // same base. The cost: a sponsor can be in two jobs at once (a change arriving while its job waits or
      // runs, or the outbox relay re-enqueueing the rows of a backlog older than its grace), which costs one
      // more recompute that finds nothing to write. Within a worker process the batcher never runs one
      // sponsor in two flushes at once (the later waits and sees the earlier's commit); across processes the
      // loser of a race retries on `conflict`. Before, every sponsor was its own job, with a deduplication
      // check in the addJob script and its own moveToActive and moveToFinished in the worker.
      const unique = [...new Set(personIds)];
      if (unique.length === 0) return;
      const jobs: { name: string; data: { personIds: string[] }; opts: JobsOptions }[] = [];
      for (let start = 0; start < unique.length; start += MAX_RECOMPUTE_IDS) {
        // The outbox relay hands over the oldest pending rows every few seconds; during a backlog they are
        // the same rows each time and already queued. Each relay chunk is dropped while the previous round's
        // chunk in that position is still queued, running or retrying (BullMQ's simple deduplication: the key
        // goes when that job completes or fails for good; a ttl would keep it after completion). The relay
        // reads the outbox again next round, so nothing dropped is lost.
        const opts = origin === 'relay' ? { ...recomputeOptions, deduplication: { id: `outbox-relay.${start / MAX_RECOMPUTE_IDS}` } } : recomputeOptions;
        jobs.push({ name: 'recompute', data: recomputeJobSchema.parse({ personIds: unique.slice(start, start + MAX_RECOMPUTE_IDS) }), opts });
      }
      await recompute.addBulk(jobs);
    },
    async enqueuePush(jobs) {
      const byTarget = new Map<string, PushJob[]>();
      for (const job of jobs) byTarget.set(job.targetId, [...(byTarget.get(job.targetId) ?? []), pushJobSchema.parse({ agentId: job.agentId, version: job.version })]);
      await Promise.all(
        [...byTarget].map(async ([targetId, payloads]) => {
          const entry = pushes.get(targetId);
          if (entry === undefined) return;
          await entry.queue.addBulk(
            payloads.map((data) => ({
              name: 'push',
              data,
              opts: { jobId: pushJobId(data), attempts: entry.target.maxAttempts, backoff: { type: 'tether' }, ...KEEP },
            })),
          );
        }),
      );
    },
    async enqueueNotifications(jobs: readonly NotificationJob[]) {
      await Promise.all(
        [...notifies.values()].map(async ({ webhook, queue }) => {
          const mine = jobs.filter((job) => job.webhookId === webhook.id).map((job) => notificationJobSchema.parse({ event: job.event }));
          if (mine.length === 0) return;
          // The event id as job id: handing the same notice over twice (a relay crash before it marked the row)
          // adds nothing while the first job is kept; failed jobs stay in the queue for inspection.
          await queue.addBulk(mine.map((data) => ({
            name: 'notify', data, opts: { jobId: data.event.id, attempts: webhook.maxAttempts, backoff: { type: 'tether' }, ...KEEP },
          })));
        }),
      );
    },
    instances() {
      return all();
    },
    async counts() {
      return Promise.all(
        all().map(async (queue) => {
          const counts = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed');
          return {
            name: queue.name,
            waiting: (counts['waiting'] ?? 0) + (counts['prioritized'] ?? 0),
            active: counts['active'] ?? 0,
            delayed: counts['delayed'] ?? 0,
            failed: counts['failed'] ?? 0,
          };
        }),
      );
    },
    async close() {
      await Promise.all(all().map((queue) => queue.close()));
      await connection.quit().catch(() => undefined);
    },
  };
}

export interface Processors {
  /**
   * The sponsors of one recompute job: one settled outcome per id, in order (see eachSponsor). The job
   * completes when every one is fulfilled; otherwise it keeps only the rejected ids and retries.
   */
  recompute(personIds: readonly string[]): Promise<readonly PromiseSettledResult<unknown>[]>;
  push(targetId: string, agentId: string, version: number): Promise<unknown>;
  directorySync?(job: DirectorySyncJob): Promise<unknown>;
  drift?(job: DriftJob): Promise<unknown>;
  governance?(job: GovernanceJob): Promise<unknown>;
  notify?(job: NotificationJob): Promise<unknown>;
}

/**
 * A job's processor from a per-sponsor one: every id starts at once, so with a batcher (recompute-batcher.ts)
 * the sponsors of all jobs running at the same time share transactions.
 */
export function eachSponsor(recompute: (personId: string) => Promise<unknown>): Processors['recompute'] {
  return (personIds) => Promise.allSettled(personIds.map(async (personId) => recompute(personId)));
}

export interface JobObserver {
  (queue: string, outcome: 'completed' | 'failed' | 'retry', seconds: number, error?: unknown): void;
}

export interface BullWorkers {
  close(): Promise<void>;
}

/** Maps the one error type to BullMQ: non-retryable AppErrors (and bad payloads) fail at once, the rest retry. */
async function runProcessor(work: () => Promise<unknown>): Promise<unknown> {
  try {
    return await work();
  } catch (error) {
    if (isAppError(error) && !error.retryable) throw new UnrecoverableError(`${error.code}: ${error.message}`);
    throw error;
  }
}

export function startBullWorkers(
  settings: BullSettings & { readonly recomputeConcurrency: number },
  processors: Processors,
  observe: JobObserver,
): BullWorkers {
  const connections: Redis[] = [];
  const make = (name: string, concurrency: number, policy: RetryPolicy, handle: (job: Job) => Promise<unknown>, limiter?: QueueTarget['rateLimit']) => {
    const connection = redisConnection(settings.redisUrl, 'worker');
    connections.push(connection);
    const worker = new Worker(name, (job) => runProcessor(() => handle(job)), {
      connection,
      prefix: settings.prefix,
      concurrency,
      ...(limiter === undefined ? {} : { limiter: { max: limiter.max, duration: limiter.perMs } }),
      settings: { backoffStrategy: (attemptsMade, _type, error) => retryDelayMs(policy, attemptsMade, error) },
    });
    worker.on('completed', (job) => observe(name, 'completed', elapsed(job)));
    worker.on('failed', (job, error) => {
      if (job === undefined) return;
      const final = error instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
      observe(name, final ? 'failed' : 'retry', elapsed(job), error);
    });
    worker.on('error', () => undefined);
    return worker;
  };
  const workers = [
    make(RECOMPUTE_QUEUE, settings.recomputeConcurrency, { baseDelayMs: 200, maxDelayMs: 60_000 }, (job) => runRecompute(job, (personIds) => processors.recompute(personIds))),
    ...settings.targets.map((target) =>
      make(pushQueueName(target.id), target.concurrency, { baseDelayMs: target.backoffMs, maxDelayMs: 15 * 60_000 }, (job) => {
        const payload = parsePayload(pushJobSchema, job.data);
        return processors.push(target.id, payload.agentId, payload.version);
      }, target.rateLimit),
    ),
  ];
  if (processors.drift !== undefined) {
    // A failed drift run is not retried: the next scheduled one is.
    workers.push(make(DRIFT_QUEUE, 2, { baseDelayMs: 1000, maxDelayMs: 60_000 }, (job) => processors.drift?.(parsePayload(driftJobSchema, job.data)) ?? Promise.resolve()));
  }
  if (processors.governance !== undefined) {
    // A failed sweep is not retried: the next scheduled one covers the same ground (sweeps are idempotent).
    workers.push(make(GOVERNANCE_QUEUE, 1, { baseDelayMs: 1000, maxDelayMs: 60_000 }, (job) => processors.governance?.(parsePayload(governanceJobSchema, job.data)) ?? Promise.resolve()));
  }
  if (processors.notify !== undefined) {
    // 5xx, 408/425/429 and network failures retry with backoff; other 4xx fail at once and stay in the queue.
    for (const webhook of settings.notificationWebhooks ?? []) {
      workers.push(make(notifyQueueName(webhook.id), webhook.concurrency, { baseDelayMs: webhook.backoffMs, maxDelayMs: 15 * 60_000 }, (job) =>
        processors.notify?.({ webhookId: webhook.id, event: parsePayload(notificationJobSchema, job.data).event }) ?? Promise.resolve(), webhook.rateLimit));
    }
  }
  if (processors.directorySync !== undefined) {
    // Runs of one source never overlap (a lease in the store); a failed run is not retried: the next poll is.
    workers.push(make(DIRECTORY_SYNC_QUEUE, 2, { baseDelayMs: 1000, maxDelayMs: 60_000 }, (job) => processors.directorySync?.(parsePayload(directorySyncJobSchema, job.data)) ?? Promise.resolve()));
  }
  return {
    async close() {
      // Worker.close() waits for active jobs to finish: a SIGTERM never abandons a delivery halfway.
      await Promise.all(workers.map((worker) => worker.close()));
      await Promise.all(connections.map((connection) => connection.quit().catch(() => undefined)));
    },
  };
}

/**
 * Runs the sponsors of one job. If some fail, the job keeps only those (job.updateData) and throws, so
 * BullMQ's retry (same attempts and backoff) re-runs only the failed sponsors. The job fails for good at
 * once only when every failure is a non-retryable AppError, as a one-sponsor job did before.
 */
async function runRecompute(job: Job, recompute: Processors['recompute']): Promise<{ sponsors: number }> {
  const { personIds } = parsePayload(recomputeJobSchema, job.data);
  const outcomes = await recompute(personIds);
  const failed = personIds.flatMap((personId, index) => {
    const outcome = outcomes[index];
    if (outcome?.status === 'fulfilled') return [];
    return [{ personId, error: outcome === undefined ? new Error('no outcome for this sponsor') : (outcome.reason as unknown) }];
  });
  const first = failed[0];
  if (first === undefined) return { sponsors: personIds.length };
  if (failed.length < personIds.length) {
    // If Redis refuses the update the retry re-runs every sponsor of the job, which is harmless (idempotent).
    await job.updateData({ personIds: failed.map((failure) => failure.personId) }).catch(() => undefined);
  }
  const message = `${failed.length} of ${personIds.length} sponsors failed; first (${first.personId}): ${describeError(first.error)}`;
  if (failed.every((failure) => isAppError(failure.error) && !failure.error.retryable)) throw new UnrecoverableError(message);
  throw new Error(message, { cause: first.error });
}

function describeError(error: unknown): string {
  if (isAppError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

function parsePayload<T>(schema: { safeParse(data: unknown): { success: true; data: T } | { success: false } }, data: unknown): T {
  const result = schema.safeParse(data);
  if (!result.success) throw new UnrecoverableError('invalid job payload');
  return result.data;
}

function elapsed(job: Job): number {
  const started = job.processedOn ?? job.timestamp;
  return Math.max(0, ((job.finishedOn ?? Date.now()) - started) / 1000);
}
