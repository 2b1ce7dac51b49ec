/**
 * Measuring a child process from outside: peak RSS from /proc/<pid>/status (VmHWM, reset between phases
 * through /proc/<pid>/clear_refs), wall time of a command with its output sent to /dev/null, and a
 * `tether start` child whose pid is known (test/support/tether-process.ts does not expose it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, waitFor } from '../../test/support/ports.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');

/** A field of /proc/<pid>/status in MB (VmHWM: peak RSS, VmRSS: current). */
export function statusMb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) / 1024;
}

/** Resets the peak RSS (VmHWM) to the current RSS (Linux ≥ 4.0: writing 5 to clear_refs). */
export function resetPeakRss(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

export interface Timed {
  readonly ms: number;
  /** Peak RSS of the command in MB, from GNU time when it is installed. */
  readonly peakRssMb: number | undefined;
}

/** Runs a command with stdout to /dev/null; fails on a non-zero exit. */
export async function timeCommand(command: string, args: readonly string[]): Promise<Timed> {
  const gnuTime = '/usr/bin/time';
  const useTime = await new Promise<boolean>((done) => {
    const probe = spawn(gnuTime, ['-f', '%M', 'true'], { stdio: 'ignore' });
    probe.once('error', () => done(false));
    probe.once('exit', (code) => done(code === 0));
  });
  const devNull = openSync('/dev/null', 'w');
  const started = performance.now();
  try {
    const child = useTime ? spawn(gnuTime, ['-f', 'maxrss=%M', command, ...args], { stdio: ['ignore', devNull, 'pipe'] }) : spawn(command, [...args], { stdio: ['ignore', devNull, 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((done, fail) => {
      child.once('error', fail);
      child.once('exit', done);
    });
    const ms = performance.now() - started;
    if (code !== 0) throw new Error(`${command} exited with ${code}: ${stderr}`);
    const rss = /maxrss=(\d+)/.exec(stderr);
    return { ms, peakRssMb: rss === null ? undefined : Number(rss[1]) / 1024 };
  } finally {
    closeSync(devNull);
  }
}

export interface TetherChild {
  readonly pid: number;
  readonly url: string;
  readonly adminToken: string;
  readonly output: () => string;
  stop(): Promise<void>;
}

/** `tether start` (HTTP + workers, one process) as a child, ready when /readyz answers 200. */
export async function startTetherChild(options: { configPath: string; databaseUrl: string; redisUrl: string; queuePrefix: string; env?: Record<string, string> }): Promise<TetherChild> {
  const port = await freePort();
  const adminToken = `tth_admin_bench_${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  const child: ChildProcess = spawn(process.execPath, [CLI, 'start', '--config', options.configPath], {
    cwd: ROOT,
    env: {
      PATH: process.env['PATH'] ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: options.databaseUrl,
      REDIS_URL: options.redisUrl,
      TETHER_QUEUE_PREFIX: options.queuePrefix,
      TETHER_BOOTSTRAP_ADMIN_TOKEN: adminToken,
      TETHER_DATA_DIR: mkdtempSync(join(tmpdir(), 'tether-bench-data-')),
      TETHER_AUTOSTART_REDIS: 'false',
      LOG_LEVEL: 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`tether exited with ${child.exitCode}:\n${output}`);
    return (await fetch(`${url}/readyz`)).status === 200;
  }, { timeoutMs: 60_000, intervalMs: 100, what: `tether readiness\n${output}` });
  if (child.pid === undefined) throw new Error('tether child has no pid');
  return {
    pid: child.pid,
    url,
    adminToken,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
