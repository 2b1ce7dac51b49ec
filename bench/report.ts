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
  /** Wall time of a one-off run (a reconciliation, a dump); when any row has one, the table gets a wall (s) column. */
  readonly wallSeconds?: number;
  /** Peak resident set size of the measured process; when any row has one, the table gets a peak RSS (MB) column. */
  readonly peakRssMb?: number;
}

export interface BenchmarkResult {
  readonly machine: string;
  readonly setup: string;
  readonly rows: readonly BenchmarkRow[];
  /** Lines printed under the table (e.g. whether a target was met). */
  readonly notes?: readonly string[];
}

interface Column {
  readonly header: string;
  readonly cell: (row: BenchmarkRow) => string;
}

const optional = (value: number | undefined, digits: number) => (value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(digits));

/**
 * measurement | [req/s] | [wall (s)] | [peak RSS (MB)] | p50 (ms) | p99 (ms): the optional columns appear only
 * when some row has a value for them, and p50/p99 disappear only when no row has a finite one (`NaN` rows
 * print `—`), so tables of the earlier benchmarks render exactly as before.
 */
function tableLines(rows: readonly BenchmarkRow[]): string[] {
  const columns: Column[] = [];
  if (rows.some((row) => row.reqPerSec !== undefined)) columns.push({ header: 'req/s', cell: (row) => optional(row.reqPerSec, 0) });
  if (rows.some((row) => row.wallSeconds !== undefined)) columns.push({ header: 'wall (s)', cell: (row) => optional(row.wallSeconds, 2) });
  if (rows.some((row) => row.peakRssMb !== undefined)) columns.push({ header: 'peak RSS (MB)', cell: (row) => optional(row.peakRssMb, 0) });
  if (rows.some((row) => Number.isFinite(row.p50) || Number.isFinite(row.p99))) {
    columns.push({ header: 'p50 (ms)', cell: (row) => optional(row.p50, 1) }, { header: 'p99 (ms)', cell: (row) => optional(row.p99, 1) });
  }
  return [
    `| measurement | ${columns.map((column) => column.header).join(' | ')} |`,
    `| --- | ${columns.map(() => '---:').join(' | ')} |`,
    ...rows.map((row) => `| ${row.name} | ${columns.map((column) => column.cell(row)).join(' | ')} |`),
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
