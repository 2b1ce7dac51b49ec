import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';

/** Prometheus metrics of one Tether process. Labels are low-cardinality: never ids or names. */
export interface MetricCollectors {
  readonly outboxPending: () => Promise<number>;
  /** BullMQ job counts per queue (read from Redis at scrape time). */
  readonly queueCounts: () => Promise<readonly { name: string; waiting: number; active: number; delayed: number; failed: number }[]>;
}

export function createMetrics(collectors: MetricCollectors) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tether_process_' });
  const httpDuration = new Histogram({
    name: 'tether_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const propagation = new Histogram({
    name: 'tether_propagation_seconds',
    help: 'Time from receiving a directory change to applying the resulting entitlements at a target',
    labelNames: ['target'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const jobs = new Counter({
    name: 'tether_jobs_total',
    help: 'Jobs processed by queue and outcome (completed, retry, failed)',
    labelNames: ['queue', 'outcome'] as const,
    registers: [registry],
  });
  const jobDuration = new Histogram({
    name: 'tether_job_duration_seconds',
    help: 'Job processing time by queue',
    labelNames: ['queue'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 15],
    registers: [registry],
  });
  const revocation = new Summary({
    name: 'tether_revocation_seconds',
    help: 'Time from receiving a change to the revocation it caused being applied / verified (read back) at a target; p50, p95, p99 over 10 minutes',
    labelNames: ['target', 'stage'] as const,
    percentiles: [0.5, 0.95, 0.99],
    maxAgeSeconds: 600,
    ageBuckets: 5,
    registers: [registry],
  });
  const delivery = new Histogram({
    name: 'tether_target_delivery_seconds',
    help: 'Time from receiving a change to its entitlements being applied / verified at a target',
    labelNames: ['target', 'stage'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const driftRepairs = new Counter({
    name: 'tether_drift_repairs_total',
    help: 'Rights repaired by drift checks per target: removed (held at the target, not computed) or restored (computed, missing)',
    labelNames: ['target', 'kind'] as const,
    registers: [registry],
  });
  const expiry = new Counter({
    name: 'tether_expiry_events_total',
    help: 'Expiry sweep: expiring notices sent and expired agents/delegations whose rights were queued for revocation',
    labelNames: ['event', 'subject'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'tether_outbox_pending',
    help: 'Committed work not yet done (recomputes and deliveries)',
    registers: [registry],
    async collect() {
      this.set(await collectors.outboxPending().catch(() => -1));
    },
  });
  new Gauge({
    name: 'tether_queue_jobs',
    help: 'BullMQ jobs per queue and state (push queues summed under queue="push")',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const counts = await collectors.queueCounts().catch(() => []);
      for (const queue of counts) {
        const name = queue.name.startsWith('push.') ? 'push' : queue.name;
        for (const state of ['waiting', 'active', 'delayed', 'failed'] as const) this.labels(name, state).inc(queue[state]);
      }
    },
  });
  const syncRuns = new Counter({
    name: 'tether_directory_sync_runs_total',
    help: 'LDAP delta polls and full reconciliations by mode and result (succeeded, held, skipped, failed)',
    labelNames: ['mode', 'result'] as const,
    registers: [registry],
  });
  const syncEntries = new Counter({
    name: 'tether_directory_sync_entries_total',
    help: 'Directory entries of finished runs: seen, changed, deleted, deactivated',
    labelNames: ['mode', 'kind'] as const,
    registers: [registry],
  });
  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    observeHttp(method: string, route: string, status: number, seconds: number) {
      httpDuration.labels(method, route, String(status)).observe(seconds);
    },
    observePropagation(target: string, seconds: number) {
      propagation.labels(target).observe(seconds);
    },
    observeDelivery(target: string, stage: 'applied' | 'verified', seconds: number, isRevocation: boolean) {
      delivery.labels(target, stage).observe(seconds);
      if (isRevocation) revocation.labels(target, stage).observe(seconds);
    },
    observeDriftRepair(target: string, removed: number, restored: number) {
      if (removed > 0) driftRepairs.labels(target, 'removed').inc(removed);
      if (restored > 0) driftRepairs.labels(target, 'restored').inc(restored);
    },
    observeExpiry(event: 'expired' | 'expiring', subject: 'agent' | 'delegation') {
      expiry.labels(event, subject).inc();
    },
    observeSyncRun(mode: 'delta' | 'full', result: 'succeeded' | 'held' | 'skipped' | 'failed', counts?: { seen: number; changed: number; deleted: number; deactivated: number }) {
      syncRuns.labels(mode, result).inc();
      if (counts === undefined) return;
      for (const kind of ['seen', 'changed', 'deleted', 'deactivated'] as const) syncEntries.labels(mode, kind).inc(counts[kind]);
    },
    observeJob(queue: string, outcome: 'completed' | 'failed' | 'retry', seconds: number) {
      const queueLabel = queue.startsWith('push.') ? 'push' : queue;
      jobs.labels(queueLabel, outcome).inc();
      if (outcome === 'completed') jobDuration.labels(queueLabel).observe(seconds);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
