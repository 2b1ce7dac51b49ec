import type { LatencyBucket } from '../app/queries/latency.js';
import type { Queryable } from './db.js';

/** Read-only queries the dashboard and its admin API endpoints need beyond the read models. */
export function dashboardOps(q: Queryable) {
  return {
    /**
     * p50/p99 of received → applied (ms) per bucket of receipt time, over deliveries of changes received in
     * [from, to). Bucket starts are epoch-aligned (floor(epoch / size) * size) to match the use case's grid.
     * Uses change_events_received_idx for the window; deliveries are joined by their primary key prefix.
     */
    async latencyBuckets(from: Date, to: Date, bucketSeconds: number): Promise<LatencyBucket[]> {
      const result = await q.query<{ bucket: number; n: string; p50: number | null; p99: number | null }>(
        `with samples as (
           select floor(extract(epoch from e.received_at) / $3)::float8 * $3 as bucket,
                  extract(epoch from d.applied_at - e.received_at)::float8 * 1000 as ms
             from change_events e join event_deliveries d on d.change_event_id = e.id
            where e.received_at >= $1 and e.received_at < $2)
         select bucket, count(*) as n,
                percentile_cont(0.5) within group (order by ms) as p50,
                percentile_cont(0.99) within group (order by ms) as p99
           from samples group by bucket order by bucket`,
        [from, to, bucketSeconds],
      );
      return result.rows.map((row) => ({
        start: new Date(Number(row.bucket) * 1000), count: Number(row.n),
        p50Ms: row.p50 === null ? null : Math.max(0, Number(row.p50)), p99Ms: row.p99 === null ? null : Math.max(0, Number(row.p99)),
      }));
    },
  };
}
