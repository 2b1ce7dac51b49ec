/**
 * The propagation latency chart as inline SVG, rendered on the server: no chart library, no script, and it
 * passes the page's Content-Security-Policy (presentation attributes and classes only, no inline styles).
 * Colour is never the only signal: p99 is dashed, and the same numbers are in a table for screen readers.
 */
import type { LatencySeries } from '../../app/queries/latency.js';
import { ms } from './format.js';
import { html, type Html } from './html.js';

const WIDTH = 720;
const HEIGHT = 200;
const LEFT = 60;
const RIGHT = 12;
const TOP = 12;
const BOTTOM = 28;

/** A round upper bound for the y axis (1, 2 or 5 times a power of ten), so tick labels read cleanly. */
export function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 5, 10].find((factor) => factor * power >= value) ?? 10;
  return step * power;
}

const plural = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;
const clock = (date: Date) => date.toISOString().slice(11, 16);
const label = (value: number) => (value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(1)} s`);

/** SVG path data for one series: a segment per run of buckets with samples; empty buckets leave a gap. */
export function seriesPath(values: readonly (number | null)[], x: (index: number) => number, y: (value: number) => number): string {
  let path = '';
  let drawing = false;
  values.forEach((value, index) => {
    if (value === null) {
      drawing = false;
      return;
    }
    path += `${drawing ? 'L' : 'M'}${x(index).toFixed(1)},${y(value).toFixed(1)} `;
    drawing = true;
  });
  return path.trim();
}

export function latencyChart(series: LatencySeries): Html {
  const buckets = series.buckets;
  const sampled = buckets.filter((bucket) => bucket.count > 0);
  const top = niceCeiling(Math.max(0, ...sampled.map((bucket) => bucket.p99Ms ?? 0)));
  const plotWidth = WIDTH - LEFT - RIGHT;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const x = (index: number) => LEFT + (buckets.length <= 1 ? plotWidth / 2 : (index / (buckets.length - 1)) * plotWidth);
  const y = (value: number) => TOP + plotHeight - (Math.min(value, top) / top) * plotHeight;
  const p50 = buckets.map((bucket) => bucket.p50Ms);
  const p99 = buckets.map((bucket) => bucket.p99Ms);
  const latest = sampled.at(-1);
  const minutes = Math.round((series.to.getTime() - series.from.getTime()) / 60_000);
  const description = latest === undefined
    ? `No deliveries in the last ${minutes} minutes.`
    : `${plural(sampled.reduce((sum, bucket) => sum + bucket.count, 0), 'delivery', 'deliveries')} in the last ${minutes} minutes; latest bucket (${clock(latest.start)} UTC): p50 ${label(latest.p50Ms ?? 0)}, p99 ${label(latest.p99Ms ?? 0)}.`;
  const ticks = [0, top / 2, top];
  const middle = buckets[Math.floor(buckets.length / 2)];
  const dots = (values: readonly (number | null)[], kind: string) =>
    values.map((value, index) => (value === null ? '' : html`<circle class="${kind}" cx="${x(index).toFixed(1)}" cy="${y(value).toFixed(1)}" r="2.5"></circle>`));
  return html`<figure class="chart" aria-labelledby="latency-title">
<figcaption id="latency-title">Propagation latency (change received → applied at a target), ${series.bucketSeconds >= 60 ? `${series.bucketSeconds / 60}-minute` : `${series.bucketSeconds}-second`} buckets, last ${minutes} minutes, UTC</figcaption>
<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%" role="img" aria-labelledby="latency-svg-title latency-svg-desc" focusable="false">
<title id="latency-svg-title">Propagation latency p50 and p99</title>
<desc id="latency-svg-desc">${description}</desc>
${ticks.map((tick) => html`<line class="grid-line" x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}"></line><text class="axis" x="${LEFT - 6}" y="${(y(tick) + 4).toFixed(1)}" text-anchor="end">${label(tick)}</text>`)}
${buckets.length === 0 ? '' : html`<text class="axis" x="${LEFT}" y="${HEIGHT - 8}" text-anchor="start">${clock(series.from)}</text>
${middle === undefined ? '' : html`<text class="axis" x="${(LEFT + plotWidth / 2).toFixed(1)}" y="${HEIGHT - 8}" text-anchor="middle">${clock(middle.start)}</text>`}
<text class="axis" x="${WIDTH - RIGHT}" y="${HEIGHT - 8}" text-anchor="end">${clock(series.to)}</text>`}
<path class="p99" d="${seriesPath(p99, x, y)}"></path>
<path class="p50" d="${seriesPath(p50, x, y)}"></path>
${dots(p99, 'p99')}${dots(p50, 'p50')}
${sampled.length === 0 ? html`<text class="axis" x="${(LEFT + plotWidth / 2).toFixed(1)}" y="${(TOP + plotHeight / 2).toFixed(1)}" text-anchor="middle">no deliveries in this window</text>` : ''}
</svg>
<p class="legend"><span class="swatch swatch-p50" aria-hidden="true"></span> p50 (solid) <span class="swatch swatch-p99" aria-hidden="true"></span> p99 (dashed) · ${description}</p>
<details><summary>Data table</summary>
<table><caption>Buckets with deliveries</caption>
<thead><tr><th scope="col">From (UTC)</th><th scope="col">Deliveries</th><th scope="col">p50</th><th scope="col">p99</th></tr></thead>
<tbody>${sampled.length === 0 ? html`<tr><td colspan="4" class="muted">none</td></tr>` : sampled.map((bucket) => html`<tr><th scope="row">${clock(bucket.start)}</th><td>${bucket.count}</td><td>${ms(bucket.p50Ms)}</td><td>${ms(bucket.p99Ms)}</td></tr>`)}</tbody>
</table></details>
</figure>`;
}
