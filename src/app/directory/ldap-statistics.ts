/**
 * When a directory run should refresh the planner statistics of the mirror it is filling. A first load
 * grows the mirror tables from empty in seconds. Without statistics PostgreSQL estimates `key = any($1)`
 * over a chunk's 500 keys as the whole table, so every per-chunk lookup (sync objects, manager DNs, held
 * user names, the staged page) scans the table: quadratic over the load. One ANALYZE once the mirror holds
 * a chunk fixes that for good — the keys' distinct fraction stays right as the tables grow — and a few more
 * as it keeps multiplying keep the row counts honest; autovacuum would visit only once a minute, or never
 * when it is off. Pure.
 */

/** How much the mirror must have grown (applied entries over the last estimate) before a mid-run refresh. */
const GROWTH_FACTOR = 2;
/** After the run: autovacuum's own rule, more than 10% of the rows changed. */
const SCALE_FACTOR = 0.1;

/**
 * During a run, after a chunk: `growth` entries applied since the statistics were last refreshed (or read),
 * `estimate` the planner's row count of the mirror then (null: never analyzed).
 */
export function statisticsStale(growth: number, estimate: number | null, minimum: number): boolean {
  if (growth < minimum) return false;
  return estimate === null || growth > estimate * GROWTH_FACTOR;
}

/** After the run's writes, with the same arguments. Ordinary delta polls never pay for it. */
export function shouldRefreshStatistics(growth: number, estimate: number | null, minimum: number): boolean {
  if (growth < minimum) return false;
  return estimate === null || growth > estimate * SCALE_FACTOR;
}
