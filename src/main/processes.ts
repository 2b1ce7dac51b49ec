import type { Server } from 'node:http';
import { eachSponsor, startBullWorkers } from '../../jobs/bullmq.js';
import { sweepExpiries } from '../app/governance/expiry.js';
import { deliverExpiryEvent } from '../app/governance/notices.js';
import { suspendOverdueReassignments } from '../app/governance/reassign.js';
import { personUpdates } from '../app/directory/person-updates.js';
import { deliverVersion } from '../app/pipeline/deliver.js';
import { relayOutboxOnce } from '../app/pipeline/outbox-relay.js';
import { recomputeBatcher } from '../app/pipeline/recompute-batcher.js';
import { propagationLatency } from '../app/queries/latency.js';
import { getStatus } from '../app/queries/status.js';
import { dashboardOps } from '../store/dashboard-ops.js';
import { createHttpApp } from '../http/app.js';
import { createHttpServer } from '../http/server.js';
import type { Container } from './container.js';

export interface Running {
  stop(): Promise<void>;
}

const VERSION = '0.1.0';

/** `tether serve`: the HTTP server (SCIM, admin API, health, metrics). Stateless; run as many as needed. */
export async function startServer(container: Container): Promise<Running & { port: number }> {
  const { store, queues, clock, logger } = container;
  const base = { queue: queues, clock, logger };
  const targets = container.config.targets.map((target) => ({ id: target.id, kind: target.kind }));
  const app = createHttpApp({
    logger,
    authenticate: (token) => container.authenticate(token),
    scim: {
      people: { ...base, store, updates: personUpdates({ ...base, store }) },
      groups: { ...base, store },
      directory: store,
      sourceIds: container.config.sources.filter((source) => source.kind === 'scim').map((source) => source.id),
      scimAuth: container.scimAuth,
      agents: { ...base, store, policy: () => container.policy(), governance: () => container.config.policy },
    },
    api: {
      agents: { ...base, store, policy: () => container.policy(), governance: () => container.config.policy },
      readModels: store.readModels,
      status: async () => {
        const [status, sources] = await Promise.all([getStatus({ readModels: store.readModels, queues, targets }), container.directory.api.list()]);
        const sync = new Map(sources.map((source) => [source.id, source.sync]));
        return { ...status, sources: status.sources.map((source) => ({ ...source, sync: sync.get(source.id) ?? null })) };
      },
      sources: container.directory.api,
      targets: container.targets.api,
      governance: {
        grants: { ...base, store },
        sponsorship: { ...base, store },
        explain: { store, clock, targetIds: () => container.queueTargets.map((target) => target.id) },
        whatIf: { store, clock, policy: () => container.policy(), governance: () => container.config.policy },
      },
      people: container.people,
      history: container.history,
      audit: {
        store,
        clock,
      },
      metrics: { propagationLatency: (query) => propagationLatency({ reader: dashboardOps(store.db), clock }, query) },
    },
    ui: container.adminUi === null ? null : {
      ...container.adminUi,
      clock,
      boardQueues: queues.instances(),
      audit: (entry) => store.transaction((tx) => tx.appendAudit(entry)),
    },
    readiness: async () => ({
      database: await store.db.ping().then(() => 'ok', () => 'unreachable'),
      redis: await queues.counts().then(() => 'ok', () => 'unreachable'),
    }),
    metrics: container.metrics,
    observeHttp: (method, route, status, seconds) => container.metrics.observeHttp(method, route, status, seconds),
    trustProxy: container.env.TETHER_TRUST_PROXY,
    version: VERSION,
  });
  const server: Server = await new Promise((done, fail) => {
    const listening = createHttpServer(app).listen(container.env.PORT, container.env.HOST, () => done(listening));
    listening.once('error', fail);
  });
  // Keep-alive longer than typical load balancer idle timeouts, so they never reuse a closed socket.
  server.keepAliveTimeout = 65_000;
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : container.env.PORT;
  logger.info({ port }, 'HTTP server listening');
  return {
    port,
    async stop() {
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeIdleConnections();
      });
    },
  };
}

/** Recompute jobs a worker takes, and sponsors one batch transaction holds, per unit of TETHER_WORKER_CONCURRENCY (see startWorkers). */
const RECOMPUTE_JOBS_PER_SLOT = 8;
const RECOMPUTE_BATCH_PER_SLOT = 8;

/** `tether worker`: recompute and push workers plus the outbox relay. Stateless; scale out freely. */
export function startWorkers(container: Container): Running {
  const { store, queues, clock, logger, metrics } = container;
  // TETHER_WORKER_CONCURRENCY bounds recompute transactions: a quarter of it run at once (at least one), and
  // every sponsor of every concurrent job joins one of them, so a burst becomes a few large batches rather
  // than many small transactions. Sponsors waiting for a batch hold no database connection, hence the wider
  // BullMQ concurrency. It stays at 8 jobs per slot although a job now carries up to MAX_RECOMPUTE_IDS (64)
  // sponsors: one-sponsor jobs (admin API changes, handovers, a quiet SCIM source, jobs queued by an older
  // Tether) still need that many running at once to fill a batch, while large jobs fill one by themselves and
  // only wait in memory (at most 8 × 64 ids per slot). The batch stays at 8 sponsors per slot, so a
  // transaction, and what a rolled-back one wastes, is as large as before.
  const recomputeJobs = container.env.TETHER_WORKER_CONCURRENCY * RECOMPUTE_JOBS_PER_SLOT;
  const recompute = recomputeBatcher({
    store, queue: queues, clock, logger, policy: () => container.policy(), governance: () => container.config.policy,
    targetIds: () => container.queueTargets.map((target) => target.id),
  }, {
    maxBatch: container.env.TETHER_WORKER_CONCURRENCY * RECOMPUTE_BATCH_PER_SLOT,
    maxInFlight: Math.max(1, Math.ceil(container.env.TETHER_WORKER_CONCURRENCY / 4)),
  });
  const workers = startBullWorkers(
    {
      redisUrl: container.redis.url,
      prefix: container.env.TETHER_QUEUE_PREFIX,
      targets: container.queueTargets,
      notificationWebhooks: container.notificationQueues,
      recomputeConcurrency: recomputeJobs,
    },
    {
      recompute: eachSponsor(recompute),
      push: (targetId, agentId, version) =>
        deliverVersion(
          {
            store, connectors: container.connectors, clock, logger,
            onDelivered: (target, seconds) => metrics.observePropagation(target, seconds),
            onTiming: (target, stage, seconds, revocation) => metrics.observeDelivery(target, stage, seconds, revocation),
          },
          targetId,
          agentId,
          version,
        ),
      directorySync: async (job) => {
        try {
          const outcome = await container.directory.run(job);
          // The mode the run took (a delta job without a cursor yet runs as a full reconciliation).
          if (outcome.status === 'skipped') metrics.observeSyncRun(job.mode, 'skipped');
          else metrics.observeSyncRun(outcome.mode, outcome.status, outcome.counts);
          return outcome;
        } catch (error) {
          metrics.observeSyncRun(job.mode, 'failed');
          throw error;
        }
      },
      drift: (job) => container.targets.drift(job.targetId, job.trigger, job.agentId),
      governance: () => sweepExpiries({
        store, queue: queues, clock, logger, governance: () => container.config.policy,
        observe: (event, subject) => metrics.observeExpiry(event, subject),
        notifications: { store, queue: queues, webhooks: () => container.config.notifications.webhooks },
      }),
      notify: (job) => deliverExpiryEvent({ sender: container.notifier, logger }, job),
    },
    (queue, outcome, seconds, error) => {
      metrics.observeJob(queue, outcome, seconds);
      if (outcome !== 'completed') logger.warn({ queue, outcome, err: error }, 'job did not complete');
    },
  );
  let relaying = false;
  const relay = setInterval(() => {
    if (relaying) return;
    relaying = true;
    relayOutboxOnce({ store, queue: queues, clock, logger, graceMs: container.env.TETHER_OUTBOX_GRACE_MS, batchSize: 500 })
      .catch((error: unknown) => logger.warn({ err: error }, 'outbox relay failed; retrying next tick'))
      .finally(() => {
        relaying = false;
      });
  }, container.env.TETHER_OUTBOX_RELAY_MS);
  relay.unref();
  // Directory sources: report connection problems at startup, then let the job schedulers drive polls.
  void container.directory.checkAll();
  container.directory.schedule().catch((error: unknown) => logger.error({ err: error }, 'could not schedule directory sync jobs'));
  // Targets: report unreachable ones at startup; drift checks run on their job schedulers.
  void container.targets.checkAll();
  container.queues.scheduleDrift().catch((error: unknown) => logger.error({ err: error }, 'could not schedule drift checks'));
  container.queues.scheduleGovernance({ expirySweepMs: container.config.policy.expirySweepIntervalMs })
    .catch((error: unknown) => logger.error({ err: error }, 'could not schedule the expiry sweep'));
  const sealer = everyTick(container.env.TETHER_AUDIT_SEAL_MS, () => store.sealAudit(), (error) => logger.warn({ err: error }, 'audit sealing failed; retrying next tick'));
  // Agents nobody took over within the grace period are suspended; every worker may sweep (row locks decide).
  const succession = everyTick(
    container.config.policy.sweepIntervalMs,
    () => suspendOverdueReassignments({ store, clock, logger }),
    (error) => logger.warn({ err: error }, 'reassignment sweep failed; retrying next tick'),
  );
  logger.info({ targets: container.queueTargets.length }, 'workers started');
  return {
    async stop() {
      clearInterval(relay);
      await workers.close();
      await sealer.stop();
      await succession.stop();
    },
  };
}

/** Runs `work` every `ms`, never overlapping itself; stop() waits for a run in progress and does one last run. */
function everyTick(ms: number, work: () => Promise<unknown>, onError: (error: unknown) => void): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  const tick = (): Promise<void> => {
    running ??= work()
      .then(() => undefined, onError)
      .finally(() => {
        running = null;
      });
    return running;
  };
  const timer = setInterval(() => void tick(), ms);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await tick();
    },
  };
}
