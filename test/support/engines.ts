/**
 * The two store engines store-level tests run on: a fresh database on the PostgreSQL server, and embedded
 * PGlite (the `npm start` default), migrated. For `describe.each(STORE_ENGINES)`.
 */
import { createPgliteDb } from '../../src/store/db-factory.js';
import type { Db } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { createTestDatabase } from './postgres.js';

export type OpenEngine = () => Promise<{ db: Db; cleanup: () => Promise<void> }>;

export const STORE_ENGINES: [string, OpenEngine][] = [
  ['postgres', async () => {
    const database = await createTestDatabase();
    return { db: database.db, cleanup: () => database.drop() };
  }],
  ['pglite', async () => {
    const db = await createPgliteDb(null);
    await migrate(db);
    return { db, cleanup: () => db.close() };
  }],
];
