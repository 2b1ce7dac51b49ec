/**
 * Loaded into Tether with `NODE_OPTIONS=--import tsx --import …/pg-trace.ts` when BENCH_PG_TRACE is set (a
 * file path): counts every statement Tether sends through `pg`, with its round-trip time and failures, and
 * for each transaction (BEGIN…COMMIT) the time held open versus the time spent in PostgreSQL. Written as
 * JSON on exit. pg_stat_statements would say the same from the server's side, but needs a server restart.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

interface Stat { count: number; totalMs: number; errors: number }
type QueryFn = (this: object, ...args: unknown[]) => unknown;

const file = process.env['BENCH_PG_TRACE'];
if (file !== undefined) {
  const pg = createRequire(`${process.cwd()}/package.json`)('pg') as { Client: { prototype: { query: QueryFn } } };
  const statements = new Map<string, Stat>();
  const open = new WeakMap<object, { started: number; inDb: number; statements: number }>();
  const transactions = { count: 0, heldMs: 0, inDbMs: 0, statements: 0, commitMs: 0 };
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function traced(this: object, ...args: unknown[]): unknown {
    const first = args[0];
    const text = typeof first === 'string' ? first : (first as { text?: string } | null)?.text;
    if (text === undefined) return original.apply(this, args);
    const key = text.replace(/\s+/g, ' ').trim().slice(0, 90);
    const started = performance.now();
    if (/^begin\b/i.test(key)) open.set(this, { started, inDb: 0, statements: 0 });
    const finish = (failed: boolean) => {
      const elapsed = performance.now() - started;
      const stat = statements.get(key) ?? { count: 0, totalMs: 0, errors: 0 };
      stat.count += 1;
      stat.totalMs += elapsed;
      if (failed) stat.errors += 1;
      statements.set(key, stat);
      const transaction = open.get(this);
      if (transaction === undefined) return;
      transaction.inDb += elapsed;
      transaction.statements += 1;
      if (/^(commit|rollback)\b/i.test(key)) {
        transactions.count += 1;
        transactions.heldMs += performance.now() - transaction.started;
        transactions.inDbMs += transaction.inDb;
        transactions.statements += transaction.statements;
        if (/^commit/i.test(key)) transactions.commitMs += elapsed;
        open.delete(this);
      }
    };
    const callback = args.at(-1);
    if (typeof callback === 'function') {
      // pg-pool's pool.query passes a callback: wrap it instead of the (absent) promise.
      args[args.length - 1] = (error: unknown, value: unknown) => {
        finish(error !== null && error !== undefined);
        (callback as (error: unknown, value: unknown) => void)(error, value);
      };
      return original.apply(this, args);
    }
    const result = original.apply(this, args);
    if (!(result instanceof Promise)) return result;
    return result.then((value: unknown) => {
      finish(false);
      return value;
    }, (error: unknown) => {
      finish(true);
      throw error;
    });
  };
  process.once('exit', () => {
    const rows = [...statements].map(([sql, stat]) => ({ sql, ...stat, avgMs: stat.totalMs / stat.count })).sort((left, right) => right.totalMs - left.totalMs);
    writeFileSync(file, JSON.stringify({ transactions, statements: rows }, null, 1));
  });
}
