/**
 * Measuring a child process from outside: peak RSS from /proc/<pid>/status (VmHWM, reset between phases
 * through /proc/<pid>/clear_refs), and wall time of a command with its output sent to /dev/null.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';

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

