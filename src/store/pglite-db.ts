import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { assertChannelName, type Db, type Queryable, type QueryResult } from './db.js';

// Same int8 handling as the pg adapter: bigserial ids and counts as JS numbers.
const INT8_AS_NUMBER = { 20: (value: string) => Number.parseInt(value, 10) };

/**
 * Embedded PostgreSQL for single-process use (`tether start` without DATABASE_URL). Same SQL as the
 * server: the store never branches on the engine. PGlite runs one connection, so transactions serialize.
 */
export async function createPgliteDb(dataDir: string | null): Promise<Db> {
  if (dataDir !== null) mkdirSync(dataDir, { recursive: true });
  const lite = dataDir === null ? await PGlite.create({ parsers: INT8_AS_NUMBER }) : await PGlite.create({ dataDir, parsers: INT8_AS_NUMBER });
  const wrap = (target: Pick<PGlite, 'query' | 'exec'>): Queryable => ({
    async query<Row>(sql: string, params?: readonly unknown[]) {
      const result = await target.query<Row>(sql, params as unknown[] | undefined);
      // PGlite reports affectedRows = 0 for SELECT; pg reports the row count. Align on pg.
      return { rows: result.rows, rowCount: Math.max(result.affectedRows ?? 0, result.rows.length) } satisfies QueryResult<Row>;
    },
    async exec(sql: string) {
      await target.exec(sql);
    },
  });
  const root = wrap(lite);
  return {
    kind: 'pglite',
    query: (sql, params) => root.query(sql, params),
    exec: (sql) => root.exec(sql),
    transaction: (work) => lite.transaction((tx) => work(wrap(tx))),
    async ping() {
      await root.query('select 1');
    },
    async listen(channel, handlers) {
      assertChannelName(channel);
      // One in-process engine: a NOTIFY committed here is delivered here; nothing can be missed.
      const unsubscribe = await lite.listen(channel, (payload) => handlers.message(payload));
      handlers.state(true);
      return {
        async close() {
          await unsubscribe();
        },
      };
    },
    async close() {
      await lite.close();
    },
  };
}
