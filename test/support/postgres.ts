import pg from 'pg';
import { createPgDb } from '../../src/store/db-factory.js';
import type { Db } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';

/** Server used by integration tests; override with TEST_DATABASE_URL (must allow CREATE DATABASE). */
export const ADMIN_URL = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  readonly url: string;
  readonly db: Db;
  drop(): Promise<void>;
}

/** A brand-new database per test file, migrated, dropped afterwards: no state crosses runs or files. */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `tether_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const db = createPgDb({ connectionString: url.toString(), maxConnections: 10 });
  if (options.migrate !== false) await migrate(db);
  return {
    url: url.toString(),
    db,
    async drop() {
      await db.close().catch(() => undefined);
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}
