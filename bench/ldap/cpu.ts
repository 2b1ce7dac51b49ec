/** CPU seconds from /proc, to split a phase's wall time between Tether, slapd and PostgreSQL. */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

/** utime + stime of one process, in seconds (0 when it is gone). */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Pids whose command line contains every one of `needles` (read-only; nothing is signalled). */
export function pidsMatching(...needles: string[]): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (needles.every((needle) => command.includes(needle))) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** CPU seconds of every PostgreSQL server process on the machine (all databases: other work shows up too). */
export function postgresCpuSeconds(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') total += processCpuSeconds(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** Busy and total CPU seconds of the whole machine (all cores) since boot. */
export function machineCpuSeconds(): { busy: number; total: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((sum, value) => sum + value, 0) / TICKS_PER_SECOND;
  const idle = ((fields[3] ?? 0) + (fields[4] ?? 0)) / TICKS_PER_SECOND;
  return { busy: total - idle, total };
}

export interface CpuSnapshot {
  readonly tether: number;
  readonly slapd: number;
  readonly postgres: number;
  readonly machineBusy: number;
}

export function cpuSnapshot(tetherPid: number, slapdPids: readonly number[]): CpuSnapshot {
  return {
    tether: processCpuSeconds(tetherPid),
    slapd: slapdPids.reduce((sum, pid) => sum + processCpuSeconds(pid), 0),
    postgres: postgresCpuSeconds(),
    machineBusy: machineCpuSeconds().busy,
  };
}

export function cpuDelta(before: CpuSnapshot, after: CpuSnapshot): CpuSnapshot {
  return {
    tether: after.tether - before.tether,
    slapd: after.slapd - before.slapd,
    postgres: after.postgres - before.postgres,
    machineBusy: after.machineBusy - before.machineBusy,
  };
}

export const formatCpu = (cpu: CpuSnapshot) =>
  `CPU s: Tether ${cpu.tether.toFixed(1)}, slapd ${cpu.slapd.toFixed(1)}, PostgreSQL ${cpu.postgres.toFixed(1)}, whole machine ${cpu.machineBusy.toFixed(1)}`;
