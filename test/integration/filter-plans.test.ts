import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseScimFilter } from '../../src/http/scim/filter.js';
import type { Queryable } from '../../src/store/db.js';
import { directoryReader } from '../../src/store/directory-ops.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const SOURCE = 'plans';
const PEOPLE = 5000;

/**
 * Equality filters on the attributes identity providers look resources up by must be answered from an
 * index, never a full scan: the SQL the store really sends is captured and EXPLAINed on a populated table.
 */
describe('SCIM filter SQL uses indexes for lookups', () => {
  let database: TestDatabase;
  const captured: { sql: string; params: readonly unknown[] }[] = [];
  const recording: Queryable = {
    query: async (sql, params) => {
      captured.push({ sql, params: [...(params ?? [])] });
      return database.db.query(sql, params);
    },
    exec: (sql) => database.db.exec(sql),
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    await database.db.query(`insert into sources (id, kind, display_name) values ($1, 'scim', $1)`, [SOURCE]);
    await database.db.query(
      `insert into persons (id, source_id, external_id, user_name, display_name, active, attributes, resource, version, created_at, updated_at)
       select gen_random_uuid(), $1, 'ext-' || n, 'user' || n || '@example.com', 'User ' || n, true, '{}', '{}', 1, now(), now()
         from generate_series(1, $2) as n`,
      [SOURCE, PEOPLE],
    );
    await database.db.query(
      `insert into groups (id, source_id, external_id, display_name, resource, version, created_at, updated_at)
       select gen_random_uuid(), $1, 'gext-' || n, 'Group ' || n, '{}', 1, now(), now() from generate_series(1, $2) as n`,
      [SOURCE, PEOPLE],
    );
    await database.db.query('analyze persons');
    await database.db.query('analyze groups');
  }, 60_000);

  afterAll(async () => {
    await database.drop();
  });

  const planOf = async (resource: 'Users' | 'Groups', filter: string): Promise<string> => {
    captured.length = 0;
    const reader = directoryReader(recording);
    const query = { filter: parseScimFilter(filter), startIndex: 1, count: 10, sortBy: null, sortOrder: 'ascending' as const };
    if (resource === 'Users') await reader.listPersons(SOURCE, query);
    else await reader.listGroups(SOURCE, query);
    const plans = await Promise.all(captured.map(async ({ sql, params }) => {
      const result = await database.db.query<{ 'QUERY PLAN': unknown }>(`explain (format json) ${sql}`, params);
      return JSON.stringify(result.rows[0]?.['QUERY PLAN']);
    }));
    return plans.join('\n');
  };

  it.each([
    ['Users', 'userName eq "USER42@example.com"'],
    ['Users', 'externalId eq "ext-42"'],
    ['Users', 'displayName eq "user 42"'],
    ['Users', 'id eq "00000000-0000-4000-8000-000000000042"'],
    ['Groups', 'displayName eq "Group 42"'],
    ['Groups', 'externalId eq "gext-42"'],
    ['Groups', 'id eq "00000000-0000-4000-8000-000000000042"'],
  ] as const)('%s %s: no sequential scan', async (resource, filter) => {
    const plan = await planOf(resource, filter);
    expect(plan).not.toBe('');
    expect(plan).not.toMatch(/"Node Type":"Seq Scan"/);
    expect(plan).toMatch(/Index/);
  });

  it('a filter on an unindexed attribute is allowed to scan (the test above can fail)', async () => {
    expect(await planOf('Users', 'title eq "x"')).toMatch(/"Node Type":"Seq Scan"/);
  });
});
