import { describe, expect, it } from 'vitest';
import { propagationLatency, type LatencyBucket } from '../../../src/app/queries/latency.js';
import { latencyChart, niceCeiling, seriesPath } from '../../../src/http/ui/chart.js';

const at = (iso: string) => new Date(iso);

describe('propagation latency series', () => {
  it('aligns buckets to the epoch, fills empty buckets, and keeps the samples the store found', async () => {
    const asked: [Date, Date, number][] = [];
    const found: LatencyBucket[] = [{ start: at('2025-06-01T11:58:00Z'), count: 3, p50Ms: 40, p99Ms: 120 }];
    const series = await propagationLatency({
      reader: { latencyBuckets: async (from, to, size) => (asked.push([from, to, size]), found) },
      clock: () => at('2025-06-01T12:00:30Z'),
    }, { minutes: 5, bucketSeconds: 60 });
    expect(asked).toEqual([[at('2025-06-01T11:56:00Z'), at('2025-06-01T12:01:00Z'), 60]]);
    expect(series.buckets.map((bucket) => bucket.start.toISOString().slice(11, 16))).toEqual(['11:56', '11:57', '11:58', '11:59', '12:00']);
    expect(series.buckets[2]).toEqual(found[0]);
    expect(series.buckets.filter((bucket) => bucket.count === 0 && bucket.p50Ms === null)).toHaveLength(4);
  });

  it('refuses a window that would need more buckets than a chart can show', async () => {
    const reader = { latencyBuckets: async () => [] };
    await expect(propagationLatency({ reader, clock: () => new Date() }, { minutes: 10_080, bucketSeconds: 60 })).rejects.toMatchObject({ code: 'invalid_input' });
  });
});

describe('latency chart', () => {
  it('rounds the y axis up to 1, 2 or 5 times a power of ten', () => {
    expect([0, 7, 120, 4400, 9000].map(niceCeiling)).toEqual([1, 10, 200, 5000, 10000]);
  });

  it('leaves a gap where a bucket has no samples instead of drawing a line through it', () => {
    expect(seriesPath([10, 20, null, 30], (index) => index * 10, (value) => value)).toBe('M0.0,10.0 L10.0,20.0 M30.0,30.0');
    expect(seriesPath([null, null], (index) => index, (value) => value)).toBe('');
  });

  it('describes the data in words and a table, not only in colour', async () => {
    const series = await propagationLatency({
      reader: { latencyBuckets: async () => [{ start: at('2025-06-01T11:59:00Z'), count: 1, p50Ms: 12, p99Ms: 12 }] },
      clock: () => at('2025-06-01T12:00:00Z'),
    }, { minutes: 3, bucketSeconds: 60 });
    const markup = latencyChart(series).value;
    expect(markup).toContain('role="img"');
    expect(markup).toContain('1 delivery in the last 3 minutes; latest bucket (11:59 UTC): p50 12 ms, p99 12 ms.');
    expect(markup).toContain('<th scope="row">11:59</th><td>1</td>');
    expect(markup).not.toContain('style=');
  });
});
