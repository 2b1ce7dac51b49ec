/**
 * The LDAP side of a run, without Tether's database work: the connector's paged scans (ldapts + mapping)
 * and the facts hashing, timed in the benchmark process against the same slapd.
 */
import type { LdapSourceConfig } from '../../connectors/ldap/config.js';
import { createLdapScanner } from '../../connectors/ldap/scanner.js';
import { factsHash } from '../../src/app/directory/ldap-facts-hash.js';
import type * as ScanThread from '../../src/main/ldap-scan-thread.js';
import { percentile } from '../report.js';

export interface ConnectorProfile {
  readonly scanMs: number;
  readonly hashMs: number;
  readonly keysMs: number;
  readonly deltaMs: number;
  /** The scan thread alone (what a full reconciliation waits for at best): read + map + hash on the worker. */
  readonly threadMs: number;
  /** The same on a new thread, whose code V8 has not compiled yet (a process's first full scan of the source). */
  readonly freshThreadMs: number;
  readonly lines: readonly string[];
}

export async function profileConnector(source: LdapSourceConfig): Promise<ConnectorProfile> {
  const scanner = createLdapScanner(source, { clock: () => new Date() });
  try {
    const pageMs: number[] = [];
    let entries = 0;
    let hashMs = 0;
    const started = performance.now();
    for (const type of ['person', 'group'] as const) {
      let last = performance.now();
      for await (const page of scanner.scan(type, { since: null })) {
        const now = performance.now();
        pageMs.push(now - last);
        entries += page.length;
        const hashing = performance.now();
        for (const facts of page) factsHash(facts);
        hashMs += performance.now() - hashing;
        last = performance.now();
      }
    }
    const scanMs = performance.now() - started - hashMs;
    const keysStarted = performance.now();
    let keys = 0;
    for (const type of ['person', 'group'] as const) {
      for await (const page of scanner.scanKeys(type)) keys += page.length;
    }
    const keysMs = performance.now() - keysStarted;
    // A delta poll's own search: entries changed in the last minute (the cursor's clock-skew window).
    const deltaStarted = performance.now();
    let changed = 0;
    const since = { kind: 'time', at: new Date(Date.now() - 60_000 - source.clockSkewSeconds * 1000).toISOString() };
    for (const type of ['person', 'group'] as const) {
      for await (const page of scanner.scan(type, { since })) changed += page.length;
    }
    const deltaMs = performance.now() - deltaStarted;
    const { freshMs: freshThreadMs, keptMs: threadMs } = await timeScanThread(source);
    return {
      scanMs, hashMs, keysMs, deltaMs, threadMs, freshThreadMs,
      lines: [
        `full scan of ${entries} entries in ${pageMs.length} pages: ${(scanMs / 1000).toFixed(2)} s (page p50 ${percentile(pageMs, 50).toFixed(0)} ms, p99 ${percentile(pageMs, 99).toFixed(0)} ms)`,
        `facts hashing: ${(hashMs / 1000).toFixed(2)} s`,
        `key-only scans of ${keys} entries: ${(keysMs / 1000).toFixed(2)} s`,
        `scan thread alone (read, map and hash every entry on the worker, as a full reconciliation does, no database): ${(threadMs / 1000).toFixed(2)} s on the kept thread, ${(freshThreadMs / 1000).toFixed(2)} s on a new one`,
        `delta searches (modifyTimestamp in the last ${60 + source.clockSkewSeconds} s, people and groups; ${changed} entries): ${deltaMs.toFixed(0)} ms`,
      ],
    };
  } finally {
    await scanner.close();
  }
}

/**
 * Full passes over the scan thread (src/main/ldap-scan-thread.ts), with nothing done on this side: on a
 * new thread (cold code, as the first run of a process) and again on the kept thread (as later runs).
 */
async function timeScanThread(source: LdapSourceConfig): Promise<{ freshMs: number; keptMs: number }> {
  // The built files, as `tether start` runs them: from src/ the worker would first load tsx and transpile.
  const { createScanThreads } = (await import(new URL('../../dist/src/main/ldap-scan-thread.js', import.meta.url).href)) as typeof ScanThread;
  const threads = createScanThreads();
  const pass = async () => {
    const scanner = threads.scanner(source, createLdapScanner(source, { clock: () => new Date() }));
    try {
      const started = performance.now();
      for (const type of ['person', 'group'] as const) {
        for await (const page of scanner.scanHashed?.(type) ?? []) void page;
      }
      return performance.now() - started;
    } finally {
      await scanner.close();
    }
  };
  try {
    const freshMs = await pass();
    return { freshMs, keptMs: await pass() };
  } finally {
    await threads.close();
  }
}
