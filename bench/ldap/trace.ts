/**
 * Profiling without touching src/: runs Tether's own sync use case (runDirectorySync) in the benchmark
 * process with its store and scanner wrapped, recording how long every store call, transaction and LDAP
 * page takes. Slower than the real worker by the bookkeeping only (a timestamp per call).
 */
import type { LdapSourceConfig } from '../../connectors/ldap/config.js';
import { createLdapScanner } from '../../connectors/ldap/scanner.js';
import { runDirectorySync, type SyncRunStore } from '../../src/app/directory/ldap-sync.js';
import type { WorkQueue } from '../../src/app/ports.js';
import type { Db } from '../../src/store/db.js';
import { createStore } from '../../src/store/index.js';
import { silentLogger } from '../../test/support/pipeline.js';

interface Span {
  readonly name: string;
  readonly start: number;
  readonly ms: number;
}

export interface Trace {
  readonly totalMs: number;
  readonly spans: readonly Span[];
  /** Milliseconds from the run's start until the first recompute was enqueued (null: none). */
  readonly firstEnqueueMs: number | null;
}

/** Wraps every method of `target`, recording a span per call (async iterables: a span per item). */
function traced<T extends object>(target: T, prefix: string, spans: Span[], origin: number, wrapResult?: (name: string, value: unknown) => unknown): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const name = `${prefix}${String(property)}`;
      return (...args: unknown[]) => {
        const start = performance.now();
        const result = (value as (...inner: unknown[]) => unknown).apply(object, args);
        if (result !== null && typeof result === 'object' && Symbol.asyncIterator in result) {
          return (async function* pages() {
            let last = performance.now();
            for await (const item of result as AsyncIterable<unknown>) {
              const now = performance.now();
              spans.push({ name: `${name} page`, start: last - origin, ms: now - last });
              yield item;
              last = performance.now();
            }
          })();
        }
        if (result instanceof Promise) {
          return result.then((resolved: unknown) => {
            spans.push({ name, start: start - origin, ms: performance.now() - start });
            return wrapResult === undefined ? resolved : wrapResult(name, resolved);
          });
        }
        spans.push({ name, start: start - origin, ms: performance.now() - start });
        return result;
      };
    },
  });
}

export async function traceRun(db: Db, source: LdapSourceConfig, queue: WorkQueue, mode: 'delta' | 'full'): Promise<Trace> {
  const spans: Span[] = [];
  const origin = performance.now();
  let firstEnqueueMs: number | null = null;
  const store = createStore(db);
  // Transactions: the callback's tx is wrapped too, so statements inside a chunk are attributed.
  const runStore = traced(store as unknown as SyncRunStore, 'store.', spans, origin);
  const withTx: SyncRunStore = new Proxy(runStore, {
    get(object, property, receiver) {
      if (property !== 'transaction') return Reflect.get(object, property, receiver) as unknown;
      return async <R>(work: (tx: never) => Promise<R>) =>
        (runStore.transaction as (inner: (tx: object) => Promise<R>) => Promise<R>)((tx) => work(traced(tx, 'tx.', spans, origin) as never));
    },
  });
  const tracedQueue: WorkQueue = {
    async enqueueRecompute(personIds) {
      await queue.enqueueRecompute(personIds);
      if (personIds.length > 0) firstEnqueueMs ??= performance.now() - origin;
    },
    enqueuePush: (jobs) => queue.enqueuePush(jobs),
  };
  const scanner = traced(createLdapScanner(source, { clock: () => new Date() }), 'ldap.', spans, origin);
  await runDirectorySync(
    { sourceId: source.id, store: withTx, scanner, queue: tracedQueue, clock: () => new Date(), logger: silentLogger, massChange: source.massChange },
    { mode, trigger: 'bench-trace' },
  );
  return { totalMs: performance.now() - origin, spans, firstEnqueueMs };
}

/** Per span name: count, total and largest, ordered by total time. */
export function summarize(trace: Trace, top = 12): string[] {
  const byName = new Map<string, { count: number; total: number; max: number; first: number }>();
  for (const span of trace.spans) {
    const entry = byName.get(span.name) ?? { count: 0, total: 0, max: 0, first: span.start };
    entry.count += 1;
    entry.total += span.ms;
    entry.max = Math.max(entry.max, span.ms);
    byName.set(span.name, entry);
  }
  return [...byName]
    .sort((a, b) => b[1].total - a[1].total)
    .slice(0, top)
    .map(([name, entry]) => `${name}: ${entry.count}× ${entry.total.toFixed(0)} ms total (max ${entry.max.toFixed(0)} ms, first at ${entry.first.toFixed(0)} ms)`);
}
