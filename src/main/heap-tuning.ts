/**
 * V8's old-generation growth for a long-running Tether process. By default V8 lets the old generation grow
 * to up to four times what survived the last full collection before it collects again, and gives the
 * memory back only once the process has been idle for a while. Tether's large jobs (a directory's first
 * load, a full reconciliation of 100,000 entries, a burst of SCIM writes) make mostly short-lived batch
 * data, so under load the heap committed ~120 MB for ~40 MB of live objects on the benchmark machine
 * (docs/benchmarks.md). A smaller factor keeps that slack in proportion, for a few more full collections
 * (each a few milliseconds at this heap size, and mostly concurrent).
 *
 * `v8.setFlagsFromString` is the only way in from inside the process: Node refuses this flag in
 * NODE_OPTIONS, and a launcher flag would not reach every way of starting Tether. The flag is read at every
 * full collection, so setting it at startup is enough.
 */
import { setFlagsFromString } from 'node:v8';

/** `percent` = how far the old generation may grow past its live size (0: V8's own heuristics). */
export function limitHeapGrowth(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}
