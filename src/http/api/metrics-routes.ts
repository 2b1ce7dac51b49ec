import { z } from 'zod';
import type { LatencyQuery, LatencySeries } from '../../app/queries/latency.js';
import type { RouteSpec } from './route-spec.js';

const timestamp = z.iso.datetime({ offset: true });

export const latencySeriesSchema = z
  .object({
    from: timestamp,
    to: timestamp,
    bucketSeconds: z.number().int(),
    buckets: z.array(z.object({
      start: timestamp.describe('changes received from here to start + bucketSeconds'),
      count: z.number().int().describe('deliveries sampled (one per change event, target and agent)'),
      p50Ms: z.number().nullable(),
      p99Ms: z.number().nullable(),
    })),
  })
  .meta({ id: 'LatencySeries', description: 'Propagation latency (change received → applied at a target) per time bucket, oldest first' });

const latencyQuery = z.strictObject({
  minutes: z.coerce.number().int().min(1).max(10_080).default(60).describe('window ending now (at most 7 days)'),
  bucketSeconds: z.coerce.number().int().min(10).max(86_400).default(60).describe('bucket size; the window may hold at most 720 buckets'),
});

/** Time series the dashboard charts; wired in src/main from the read use cases in src/app/queries. */
export interface MetricsApi {
  propagationLatency(query: LatencyQuery): Promise<LatencySeries>;
}

function respond<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  return schema.parse(JSON.parse(JSON.stringify(value)));
}

export function metricsRoutes(api: MetricsApi): RouteSpec[] {
  return [
    {
      method: 'get', path: '/metrics/propagation-latency', operationId: 'getPropagationLatency', tag: 'status', role: 'viewer',
      summary: 'Propagation latency p50/p99 per time bucket, derived from change events and their deliveries',
      query: latencyQuery,
      responses: { 200: { description: 'The series', schema: latencySeriesSchema } },
      async handle({ query }) {
        return { status: 200, body: respond(latencySeriesSchema, await api.propagationLatency(query as z.output<typeof latencyQuery>)) };
      },
    },
  ];
}
