import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAgent } from '../../src/app/agents/register-agent.js';
import { createPerson } from '../../src/app/directory/people.js';
import { personUpdates, type PersonUpdate, type PersonUpdatesDeps } from '../../src/app/directory/person-updates.js';
import type { Policy } from '../../src/app/ports.js';
import type { PersonRecord } from '../../src/app/records.js';
import { directoryOps } from '../../src/store/directory-ops.js';
import type { Store } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { RecordingQueue, scimContext, silentLogger, storeWithPolicy } from '../support/pipeline.js';

const clock = () => new Date();

/** The group commit behind SCIM PUT/PATCH on /Users, against real PostgreSQL. */
describe('person updates by group commit', () => {
  let database: TestDatabase;
  let store: Store;
  let policy: Policy;
  const queue = new RecordingQueue();
  let transactions = 0;

  const deps = (): PersonUpdatesDeps => ({
    // Counts transactions, to show that concurrent updates really share them.
    store: { transaction: (work) => { transactions += 1; return store.transaction(work); } },
    queue, clock, logger: silentLogger,
  });
  const base = () => ({ store, queue, clock, logger: silentLogger });

  async function person(userName: string, title = 'Analyst'): Promise<PersonRecord> {
    return createPerson(base(), scimContext(), { userName, externalId: null, displayName: null, active: true, attributes: { title }, resource: { userName, title } });
  }
  const retitle = (title: string) => (current: PersonRecord) => ({ ...current, attributes: { ...current.attributes, title }, resource: { ...current.resource, title } });
  const update = (id: string, produce: PersonUpdate['produce'], expectedVersion: number | null = null): PersonUpdate => ({ context: scimContext(), id, produce, expectedVersion });
  const count = async (sql: string, params: unknown[]) => Number((await store.db.query<{ n: number }>(sql, params)).rows[0]!.n);

  beforeAll(async () => {
    database = await createTestDatabase();
    ({ store, policy } = await storeWithPolicy(database.db));
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('commits fifty concurrent updates in a few transactions, each with its own version, event, audit entry and outbox row', async () => {
    const people = await Promise.all(Array.from({ length: 50 }, (_, index) => person(`batch${index}`)));
    // Half of them sponsor an agent: only those get a recompute outbox row.
    for (const sponsor of people.slice(0, 25)) {
      await registerAgent({ ...base(), policy: () => policy }, { type: 'system', id: 'test' }, {
        name: `${sponsor.userName}-bot`, purpose: 'test', environment: 'production', sponsor: { id: sponsor.id }, backupSponsors: [], owner: null,
        requestedTools: ['crm.contacts.read'], expiresAt: null,
        delegation: { approver: 'approver', justification: 'test', tools: null, targetSystems: [], notBefore: null, expiresAt: null },
      });
    }
    const updates = personUpdates(deps(), { maxBatch: 64, maxInFlight: 1 });
    transactions = 0;
    queue.recomputes.length = 0;
    const results = await Promise.all(people.map((p) => updates.submit(update(p.id, retitle('Engineer')))));
    expect(results.map((result) => [result.id, result.version, result.attributes['title']])).toEqual(people.map((p) => [p.id, 2, 'Engineer']));
    // The first runs alone at once; the other 49 wait for it and share the next transaction.
    expect(transactions).toBe(2);
    const ids = people.map((p) => p.id);
    expect(await count(`select count(*)::int as n from change_events where subject_id = any($1::uuid[]) and detail->'changed' ? 'title'`, [ids])).toBe(50);
    expect(await count(`select count(*)::int as n from audit_log where action = 'person.updated' and subject_id = any($1::text[])`, [ids])).toBe(50);
    expect(await count(`select count(*)::int as n from outbox o join change_events e on e.id = o.change_event_id where e.subject_id = any($1::uuid[])`, [ids])).toBe(25);
    expect(new Set(queue.recomputes)).toEqual(new Set(ids.slice(0, 25)));
  });

  it('applies two updates of one person in submission order, each as its own version and event', async () => {
    const p = await person('ordered');
    const updates = personUpdates(deps(), { maxBatch: 64, maxInFlight: 2 });
    const [first, second, third] = await Promise.all([
      updates.submit(update(p.id, retitle('One'))),
      updates.submit(update(p.id, retitle('Two'))),
      updates.submit(update(p.id, retitle('Three'), 3)),
    ]);
    expect([first.version, second.version, third.version]).toEqual([2, 3, 4]);
    expect(third.attributes['title']).toBe('Three');
    expect(await count('select count(*)::int as n from change_events where subject_id = $1', [p.id])).toBe(4);
  });

  it("keeps one request's error its own: not found, version mismatch, invalid patch, noop", async () => {
    const [ok, stale, invalid, same] = await Promise.all([person('ok1'), person('stale1'), person('invalid1'), person('same1')]);
    const updates = personUpdates(deps(), { maxBatch: 64, maxInFlight: 1 });
    const before = await count('select count(*)::int as n from change_events', []);
    const settled = await Promise.allSettled([
      updates.submit(update(ok.id, retitle('Lead'))),
      updates.submit(update('00000000-0000-4000-8000-000000000000', retitle('Lead'))),
      updates.submit(update('not-a-uuid', retitle('Lead'))),
      updates.submit(update(stale.id, retitle('Lead'), 7)),
      updates.submit(update(invalid.id, () => { throw new Error('invalid patch'); })),
      updates.submit(update(same.id, (current) => current)),
    ]);
    expect(settled.map((outcome) => (outcome.status === 'fulfilled' ? 'ok' : (outcome.reason as { code?: string }).code ?? (outcome.reason as Error).message)))
      .toEqual(['ok', 'not_found', 'not_found', 'precondition_failed', 'invalid patch', 'ok']);
    expect((settled[5] as PromiseFulfilledResult<PersonRecord>).value.version).toBe(1);
    // Only the valid change was recorded.
    expect(await count('select count(*)::int as n from change_events', [])).toBe(before + 1);
    expect(await count('select version as n from persons where id = $1', [stale.id])).toBe(1);
  });

  it('a userName clash fails only the request that causes it; the rest of its batch commits', async () => {
    const [a, b, c] = await Promise.all([person('clash-a'), person('clash-b'), person('clash-c')]);
    const updates = personUpdates(deps(), { maxBatch: 64, maxInFlight: 1 });
    const rename = (userName: string) => (current: PersonRecord) => ({ ...current, userName, resource: { ...current.resource, userName } });
    // A first request keeps the group commit busy so the next three share one batch.
    const warm = updates.submit(update(a.id, retitle('Busy')));
    const settled = await Promise.allSettled([
      updates.submit(update(b.id, retitle('Fine'))),
      updates.submit(update(c.id, rename('CLASH-A'))),
      updates.submit(update(a.id, retitle('Later'))),
    ]);
    await warm;
    expect(settled.map((outcome) => (outcome.status === 'fulfilled' ? 'ok' : (outcome.reason as { code?: string }).code))).toEqual(['ok', 'uniqueness', 'ok']);
    expect((settled[1] as PromiseRejectedResult).reason.message).toContain('CLASH-A');
    expect(await count(`select count(*)::int as n from persons where lower(user_name) = 'clash-a'`, [])).toBe(1);
    expect(await count(`select count(*)::int as n from change_events where subject_id = $1`, [c.id])).toBe(1);
  });

  it('locks people and reads their groups, nested ones included, in one statement', async () => {
    const [member, loner] = await Promise.all([person('grouped'), person('loner')]);
    const inner = crypto.randomUUID();
    const outer = crypto.randomUUID();
    const gone = crypto.randomUUID();
    await store.db.query(
      `insert into groups (id, source_id, display_name, resource, version, created_at, updated_at, deleted_at)
       values ($1, 'src', 'Inner', '{}', 1, now(), now(), null), ($2, 'src', 'Outer', '{}', 1, now(), now(), null), ($3, 'src', 'Gone', '{}', 1, now(), now(), now())`,
      [inner, outer, gone],
    );
    await store.db.query(
      `insert into memberships (group_id, member_id, member_type, added_at) values ($1, $2, 'User', now()), ($3, $1, 'Group', now()), ($4, $2, 'User', now())`,
      [inner, member.id, outer, gone],
    );
    const rows = await database.db.transaction((tx) => directoryOps(tx).lockPeopleWithGroups([loner.id, member.id, 'not-a-uuid']));
    const byId = new Map(rows.map((row) => [row.person.id, row.groupIds]));
    expect(byId.size).toBe(2);
    expect(new Set(byId.get(member.id))).toEqual(new Set([inner, outer]));
    expect(byId.get(loner.id)).toEqual([]);
    expect(rows.find((row) => row.person.id === member.id)?.person.userName).toBe('grouped');
  });

  it('sends the hot statements as prepared statements on PostgreSQL (parsed and planned once per connection)', async () => {
    const p = await person('prepared');
    const names = await database.db.transaction(async (tx) => {
      await directoryOps(tx).lockPeople([p.id]);
      return tx.query<{ name: string }>('select name from pg_prepared_statements');
    });
    expect(names.rows.map((row) => row.name)).toContain('tether_lock_people');
  });
});
