import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/domain/errors.js';
import { AGENT_MAPPING } from '../../../src/store/agent-mapping.js';
import { createPgliteDb } from '../../../src/store/db-factory.js';
import type { Db } from '../../../src/store/db.js';
import { GROUP_MAPPING, USER_MAPPING } from '../../../src/store/directory-mappings.js';
import { orderBySql, type ResourceMapping } from '../../../src/store/filter-sql.js';
import { migrate } from '../../../src/store/migrate.js';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const AGENT_EXTENSION = 'urn:tether:params:scim:schemas:extension:agent:1.0';

function refusal(sortBy: string, mapping: ResourceMapping = USER_MAPPING): unknown {
  try {
    orderBySql(sortBy, 'ascending', mapping);
    return null;
  } catch (error) {
    return error instanceof AppError ? { code: error.code, detail: error.detail } : error;
  }
}

describe('sortBy → ORDER BY (RFC 7644 §3.4.2.3)', () => {
  it('keeps creation order without sortBy, and id as the tie-breaker with one', () => {
    expect(orderBySql(null, 'ascending', USER_MAPPING)).toBe('p.created_at, p.id');
    expect(orderBySql('userName', 'descending', USER_MAPPING)).toBe('lower(p.user_name) desc nulls last, p.id');
    expect(orderBySql('EXTERNALID', 'ascending', GROUP_MAPPING)).toBe('g.external_id asc nulls last, g.id');
    expect(orderBySql(`${AGENT_EXTENSION}:purpose`, 'ascending', AGENT_MAPPING)).toBe('lower(a.purpose) asc nulls last, a.id');
  });

  it('never puts the client\'s text into the SQL: names come out in their canonical spelling', () => {
    expect(orderBySql('NAME.FAMILYNAME', 'ascending', USER_MAPPING)).toContain(`'{name,familyName}'`);
    expect(orderBySql(`${ENTERPRISE.toUpperCase()}:EMPLOYEENUMBER`, 'ascending', USER_MAPPING)).toContain(`'${ENTERPRISE}'`);
  });

  it.each([
    'nosuchattribute', 'familyName', 'value', 'department', 'name', ENTERPRISE, `${ENTERPRISE}:manager`, `${ENTERPRISE}:nope`,
    'emails.nope', 'name.familyName.x', 'groups', 'groups.display', 'meta.version', "title'; drop table persons; --", 'constructor',
  ])('refuses sortBy %s with invalidValue naming it', (sortBy) => {
    expect(refusal(sortBy)).toEqual({ code: 'invalid_value', detail: expect.stringContaining(sortBy.slice(0, 20)) as unknown });
  });

  it('refuses members on Groups and owners on Agents (relations have no value to sort by)', () => {
    expect(refusal('members', GROUP_MAPPING)).toMatchObject({ code: 'invalid_value' });
    expect(refusal('owners.value', AGENT_MAPPING)).toMatchObject({ code: 'invalid_value' });
  });
});

/** The same SQL runs on both engines; PGlite (the embedded one) needs no server, so the order is checked here. */
describe('sortBy ORDER BY runs on PGlite', () => {
  let db: Db;
  const people = [
    { userName: 'c', resource: { title: 'beta', name: { familyName: 'Zed' }, emails: [{ value: 'z@x', type: 'home' }, { value: 'a@x', primary: true }], [ENTERPRISE]: { employeeNumber: '2', manager: { value: 'm2' } } } },
    { userName: 'a', resource: { title: 'Alpha', name: { familyName: 'young' }, emails: [{ value: 'm@x' }, { value: 'b@x' }], [ENTERPRISE]: { employeeNumber: '3', manager: { value: 'm1' } } } },
    { userName: 'b', resource: { title: 'alpha', emails: 'not an array' } },
  ];

  beforeAll(async () => {
    db = await createPgliteDb(null);
    await migrate(db);
    await db.query(`insert into sources (id, kind, display_name) values ('s', 'scim', 's')`);
    for (const [index, person] of people.entries()) {
      await db.query(
        `insert into persons (id, source_id, user_name, active, attributes, resource, version, created_at, updated_at)
         values ($1, 's', $2, true, '{}', $3, 1, now(), now())`,
        [`00000000-0000-4000-8000-00000000000${index}`, person.userName, JSON.stringify(person.resource)],
      );
    }
  }, 60_000);

  afterAll(async () => {
    await db?.close();
  });

  const sorted = async (sortBy: string, order: 'ascending' | 'descending' = 'ascending') =>
    (await db.query<{ user_name: string }>(`select p.user_name from persons p where p.source_id = 's' order by ${orderBySql(sortBy, order, USER_MAPPING)}`)).rows.map((row) => row.user_name);

  it.each([
    ['userName', 'ascending', ['a', 'b', 'c']],
    ['userName', 'descending', ['c', 'b', 'a']],
    // Case-insensitive; the tie between "Alpha" and "alpha" is broken by id.
    ['title', 'ascending', ['a', 'b', 'c']],
    ['title', 'descending', ['c', 'a', 'b']],
    ['name.familyName', 'ascending', ['a', 'c', 'b']],
    ['name.familyName', 'descending', ['c', 'a', 'b']],
    // Primary value, else the first: c sorts by a@x, a by m@x; b has none and goes last.
    ['emails', 'ascending', ['c', 'a', 'b']],
    ['emails.value', 'descending', ['a', 'c', 'b']],
    [`${ENTERPRISE}:employeeNumber`, 'ascending', ['c', 'a', 'b']],
    [`${ENTERPRISE}:manager.value`, 'ascending', ['a', 'c', 'b']],
  ] as const)('sortBy %s %s', async (sortBy, order, expected) => {
    expect(await sorted(sortBy, order)).toEqual(expected);
  });
});
