/**
 * Propagation latency over time: for each time bucket, p50 and p99 of "change received → applied at a
 * target", one sample per (change event, target, agent) delivery. There is no stored time series; the
 * samples are the change events' receipt times and their deliveries' applied times, which every delivery
 * already records (event_deliveries), so the series is derived on read and can never disagree with them.
 */
import { AppError } from '../../domain/errors.js';

export interface LatencyBucket {
  /** Start of the bucket (change events received in [start, start + bucketSeconds)). */
  readonly start: Date;
  /** Deliveries sampled; 0 when nothing was applied for changes received in this bucket. */
  readonly count: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

export interface LatencySeries {
  readonly from: Date;
  readonly to: Date;
  readonly bucketSeconds: number;
  /** Every bucket of the window, oldest first; empty buckets included so the time axis is honest. */
  readonly buckets: readonly LatencyBucket[];
}

/** Port: percentiles of received → applied per bucket, only for buckets that have samples. */
export interface LatencyReader {
  latencyBuckets(from: Date, to: Date, bucketSeconds: number): Promise<LatencyBucket[]>;
}

export interface LatencyQuery {
  readonly minutes: number;
  readonly bucketSeconds: number;
}

/** A chart is a few hundred points at most: a wider window needs a coarser bucket. */
export const MAX_BUCKETS = 720;

export async function propagationLatency(deps: { reader: LatencyReader; clock: () => Date }, query: LatencyQuery): Promise<LatencySeries> {
  const windowMs = query.minutes * 60_000;
  const bucketMs = query.bucketSeconds * 1000;
  if (windowMs / bucketMs > MAX_BUCKETS) {
    throw new AppError('invalid_input', 'too many buckets', { detail: `${query.minutes} minutes in ${query.bucketSeconds} s buckets is more than ${MAX_BUCKETS} buckets; use a larger bucketSeconds` });
  }
  // Bucket edges aligned to the epoch, so two requests a second apart agree on what each bucket holds.
  const to = new Date(Math.ceil(deps.clock().getTime() / bucketMs) * bucketMs);
  const from = new Date(to.getTime() - Math.ceil(windowMs / bucketMs) * bucketMs);
  const found = new Map((await deps.reader.latencyBuckets(from, to, query.bucketSeconds)).map((bucket) => [bucket.start.getTime(), bucket]));
  const buckets: LatencyBucket[] = [];
  for (let start = from.getTime(); start < to.getTime(); start += bucketMs) {
    buckets.push(found.get(start) ?? { start: new Date(start), count: 0, p50Ms: null, p99Ms: null });
  }
  return { from, to, bucketSeconds: query.bucketSeconds, buckets };
}
