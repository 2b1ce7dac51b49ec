import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Prometheus metrics of one Tether process. Labels are low-cardinality: never ids or names. */
export function createMetrics(collectors: { outboxPending: () => Promise<number> }) {
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
  new Gauge({
    name: 'tether_outbox_pending',
    help: 'Committed work not yet done (recomputes and deliveries)',
    registers: [registry],
    async collect() {
      this.set(await collectors.outboxPending().catch(() => -1));
    },
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
    observeJob(queue: string, outcome: 'completed' | 'failed' | 'retry', seconds: number) {
      const queueLabel = queue.startsWith('push.') ? 'push' : queue;
      jobs.labels(queueLabel, outcome).inc();
      if (outcome === 'completed') jobDuration.labels(queueLabel).observe(seconds);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
