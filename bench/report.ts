import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

/** Replaces the section `<!-- bench:NAME -->…<!-- /bench:NAME -->` of docs/benchmarks.md with fresh figures. */
export function recordBenchmark(name: string, result: { machine: string; setup: string; rows: { name: string; p50: number; p99: number }[] }): void {
  const path = resolve(import.meta.dirname, '../docs/benchmarks.md');
  const current = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  const table = [
    `<!-- bench:${name} -->`,
    `Measured ${new Date().toISOString().slice(0, 10)} on ${result.machine}.`,
    `Setup: ${result.setup}.`,
    '',
    '| measurement | p50 (ms) | p99 (ms) |',
    '| --- | ---: | ---: |',
    ...result.rows.map((row) => `| ${row.name} | ${row.p50.toFixed(1)} | ${row.p99.toFixed(1)} |`),
    `<!-- /bench:${name} -->`,
  ].join('\n');
  const pattern = new RegExp(`<!-- bench:${name} -->[\\s\\S]*?<!-- /bench:${name} -->`);
  writeFileSync(path, pattern.test(current) ? current.replace(pattern, table) : `${current.trimEnd()}\n\n${table}\n`);
}
