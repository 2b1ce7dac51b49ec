import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

export interface BenchmarkRow {
  readonly name: string;
  readonly p50: number;
  readonly p99: number;
  /** Sustained throughput; when any row has one, the table gets a req/s column (`—` for rows without). */
  readonly reqPerSec?: number;
}

export interface BenchmarkResult {
  readonly machine: string;
  readonly setup: string;
  readonly rows: readonly BenchmarkRow[];
  /** Lines printed under the table (e.g. whether a target was met). */
  readonly notes?: readonly string[];
}

function tableLines(rows: readonly BenchmarkRow[]): string[] {
  const withThroughput = rows.some((row) => row.reqPerSec !== undefined);
  if (!withThroughput) {
    return [
      '| measurement | p50 (ms) | p99 (ms) |',
      '| --- | ---: | ---: |',
      ...rows.map((row) => `| ${row.name} | ${row.p50.toFixed(1)} | ${row.p99.toFixed(1)} |`),
    ];
  }
  return [
    '| measurement | req/s | p50 (ms) | p99 (ms) |',
    '| --- | ---: | ---: | ---: |',
    ...rows.map((row) => `| ${row.name} | ${row.reqPerSec === undefined ? '—' : row.reqPerSec.toFixed(0)} | ${row.p50.toFixed(1)} | ${row.p99.toFixed(1)} |`),
  ];
}

/** Replaces the section `<!-- bench:NAME -->…<!-- /bench:NAME -->` of docs/benchmarks.md with fresh figures. */
export function recordBenchmark(name: string, result: BenchmarkResult): void {
  const path = resolve(import.meta.dirname, '../docs/benchmarks.md');
  const current = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  const notes = result.notes ?? [];
  const table = [
    `<!-- bench:${name} -->`,
    `Measured ${new Date().toISOString().slice(0, 10)} on ${result.machine}.`,
    `Setup: ${result.setup}.`,
    '',
    ...tableLines(result.rows),
    ...notes.flatMap((note) => ['', note]),
    `<!-- /bench:${name} -->`,
  ].join('\n');
  const pattern = new RegExp(`<!-- bench:${name} -->[\\s\\S]*?<!-- /bench:${name} -->`);
  writeFileSync(path, pattern.test(current) ? current.replace(pattern, () => table) : `${current.trimEnd()}\n\n${table}\n`);
}
