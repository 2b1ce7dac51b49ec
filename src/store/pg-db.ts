import pg from 'pg';
import { AppError } from '../domain/errors.js';
import type { Db, Queryable, QueryResult } from './db.js';
import { listenPg } from './pg-listener.js';
import { preparedName } from './prepared.js';

// Return int8 (bigserial ids, count(*)) as JS numbers: Tether's counters stay far below 2^53.
pg.types.setTypeParser(20, (value) => Number.parseInt(value, 10));

export interface PgDbOptions {
  readonly connectionString: string;
  readonly maxConnections?: number;
  readonly statementTimeoutMs?: number;
  /** Schema to use via search_path (tests use one schema per run). */
  readonly schema?: string;
}

/** PostgreSQL error classes that mean "the server is not there right now": callers should retry. */
const UNAVAILABLE_SQLSTATE_PREFIXES = ['08', '53', '57P'];
const UNAVAILABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND']);

export function translatePgError(error: unknown): unknown {
  if (error instanceof AppError) return error;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return error;
  if (code === '40001' || code === '40P01') {
    return new AppError('conflict', 'database serialization conflict', { cause: error });
  }
  if (UNAVAILABLE_NODE_CODES.has(code) || UNAVAILABLE_SQLSTATE_PREFIXES.some((prefix) => code.startsWith(prefix))) {
    return new AppError('unavailable', 'database unavailable', { cause: error });
  }
  return error;
}

export function createPgDb(options: PgDbOptions): Db {
  // The pool's connections and the LISTEN connection (pg-listener.ts) see the same schema.
  const schemaOption = options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` };
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 10,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    connectionTimeoutMillis: 5_000,
    // Pipelining (node-postgres' documented `pipeline` client option): a query may be written before the
    // previous one's answer has arrived. Only `transaction` uses it, to send BEGIN together with the first
    // statement; everything else still awaits each query, so the order and the answers are unchanged.
    pipeline: true,
    ...schemaOption,
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);

  const run = async <Row>(client: pg.Pool | pg.PoolClient, sql: string, params?: readonly unknown[]) => {
    try {
      const name = preparedName(sql);
      const result = name === undefined
        ? await client.query(sql, params as unknown[] | undefined)
        : await client.query({ name, text: sql, values: (params ?? []) as unknown[] });
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 } satisfies QueryResult<Row>;
    } catch (error) {
      throw translatePgError(error);
    }
  };

  return {
    kind: 'postgres',
    query: (sql, params) => run(pool, sql, params),
    async exec(sql) {
      await run(pool, sql);
    },
    async transaction(work) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw translatePgError(error);
      }
      const tx: Queryable = {
        query: (sql, params) => run(client, sql, params),
        async exec(sql) {
          await run(client, sql);
        },
      };
      // BEGIN is not awaited: the first statement of `work` is written right behind it and PostgreSQL runs
      // them in order, so a transaction costs one round trip less (a one-member group PATCH is five). If
      // BEGIN failed, the statements behind it fail too and the catch below rolls back.
      const begun = tx.query('BEGIN');
      begun.catch(() => undefined);
      try {
        const result = await work(tx);
        await begun;
        await tx.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw translatePgError(error);
      } finally {
        client.release();
      }
    },
    async ping() {
      await run(pool, 'select 1');
    },
    listen: (channel, handlers) => listenPg({ connectionString: options.connectionString, ...schemaOption }, channel, handlers),
    async close() {
      await pool.end();
    },
  };
}
