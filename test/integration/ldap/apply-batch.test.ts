/**
 * The set-based apply of staged people (ldap-apply-batch.ts), on a PostgreSQL server and on embedded
 * PGlite: joiners with their managers (mirrored, in the same chunk, not mirrored yet), pending group
 * references resolved into memberships, every change recorded (event + audit entry + recompute outbox row),
 * the audit chain intact, and a chunk that fails as a whole applied again entry by entry.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAgent } from '../../../src/app/agents/register-agent.js';
import { createRunApplier } from '../../../src/app/directory/ldap-run-apply.js';
import type { PersonFacts } from '../../../src/app/directory/sync-ports.js';
import type { Policy } from '../../../src/app/ports.js';
import type { Db } from '../../../src/store/db.js';
import type { Store } from '../../../src/store/index.js';
import { sealAll } from '../../support/audit.js';
import { RecordingQueue, silentLogger, storeWithPolicy } from '../../support/pipeline.js';
import { STORE_ENGINES } from '../../support/engines.js';


const dnOf = (uid: string) => `uid=${uid},ou=people,dc=example,dc=org`;

function facts(uid: string, overrides: Partial<PersonFacts> = {}): PersonFacts {
  return {
    key: `key-${uid}`, dn: dnOf(uid), userName: uid, displayName: uid.toUpperCase(), email: `${uid}@example.org`, active: true,
    attributes: { department: 'sales' }, managerDn: null, sourceTime: null, ...overrides,
  };
}

describe.each(STORE_ENGINES)('set-based apply of staged people on %s', (_name, open) => {
  let db: Db;
  let store: Store;
  let policy: Policy;
  let cleanup: () => Promise<void>;
  const queue = new RecordingQueue();
  const warnings: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push((JSON.parse(line) as { msg: string }).msg) });

  beforeAll(async () => {
    ({ db, cleanup } = await open());
    ({ store, policy } = await storeWithPolicy(db));
    await store.upsertSources([{ id: 'corp', kind: 'ldap', displayName: 'Corp' }]);
  }, 60_000);

  afterAll(async () => {
    await cleanup?.();
  });

  /** Stages `people` in a run of their own and applies them in chunks of `chunkSize`, as a sync run does. */
  async function applyRun(people: readonly PersonFacts[], chunkSize = 500): Promise<void> {
    const runId = await store.startRun('corp', 'delta', 'test', new Date(), 60_000);
    if (runId === null) throw new Error('lease held');
    try {
      await store.stage(runId, 'person', people.map((person) => ({ key: person.key, facts: { ...person }, hash: `hash-${person.key}-${person.userName}` })));
      const applier = createRunApplier({ sourceId: 'corp', store, queue, clock: () => new Date(), logger, chunkSize, afterChunk: async () => undefined }, runId);
      await applier.people();
      await applier.groups();
      await applier.deferredPeople();
    } finally {
      await store.failRun(runId, 'test run over', new Date());
    }
  }

  const person = async (userName: string) =>
    (await db.query<{ id: string; attributes: Record<string, string> }>(
      `select id, attributes from persons where source_id = 'corp' and lower(user_name) = $1 and deleted_at is null`, [userName],
    )).rows[0];

  const eventsOf = async (personId: string) =>
    (await db.query<{ kind: string; action: string; detail: Record<string, unknown> }>(
      `select e.kind, a.action, e.detail from change_events e join audit_log a on a.detail ->> 'changeEventId' = e.id::text
        where e.subject_id = $1 order by a.seq`,
      [personId],
    )).rows;

  it('creates joiners with their managers, sync objects and pending manager references', async () => {
    // `alice` names `boss`, who comes after her in the same chunk; `wendy` names `late`, who is not in the directory yet.
    await applyRun([
      facts('alice', { managerDn: dnOf('boss') }),
      facts('boss'),
      facts('wendy', { managerDn: ` UID=late, ou=people,dc=example,dc=org` }),
    ]);
    const [alice, boss, wendy] = [await person('alice'), await person('boss'), await person('wendy')];
    expect(alice?.attributes).toEqual({ department: 'sales', manager: boss?.id });
    expect(wendy?.attributes).toEqual({ department: 'sales' });
    const pending = await db.query<{ group_id: string; ref: string }>('select group_id, ref from sync_pending_members');
    expect(pending.rows).toEqual([{ group_id: wendy?.id, ref: `manager:${dnOf('late')}` }]);
    const synced = await db.query<{ source_key: string; object_id: string; facts_hash: string }>(
      `select source_key, object_id, facts_hash from sync_objects where source_id = 'corp' order by source_key`,
    );
    expect(synced.rows).toEqual([
      { source_key: 'key-alice', object_id: alice?.id, facts_hash: 'hash-key-alice-alice' },
      { source_key: 'key-boss', object_id: boss?.id, facts_hash: 'hash-key-boss-boss' },
      { source_key: 'key-wendy', object_id: wendy?.id, facts_hash: 'hash-key-wendy-wendy' },
    ]);
    for (const joiner of [alice, boss, wendy]) {
      expect(await eventsOf(joiner?.id ?? '')).toEqual([{ kind: 'joiner', action: 'person.created', detail: { active: true, dnChanged: false, affectedPeople: 1 } }]);
    }
  });

  it('resolves pending group members and waiting manager references when the entries they name join', async () => {
    const wendy = await person('wendy');
    await registerAgent({ store, queue, clock: () => new Date(), logger: silentLogger, policy: () => policy }, { type: 'system', id: 'test' }, {
      name: 'wendy-bot', purpose: 'test', environment: 'production', sponsor: { sourceId: 'corp', userName: 'wendy' }, backupSponsors: [], owner: null,
      requestedTools: ['crm.*'], expiresAt: null,
      delegation: { approver: 'a', justification: 'j', tools: null, targetSystems: [], notBefore: null, expiresAt: null },
    });
    const groupId = crypto.randomUUID();
    await store.transaction(async (tx) => {
      await tx.insertGroup('corp', groupId, { externalId: 'g1', displayName: 'Posix', resource: {} }, new Date());
      await tx.setPendingMembers('corp', groupId, [dnOf('zed'), 'uid:yan']);
    });
    queue.recomputes.length = 0;
    const outboxBefore = (await db.query<{ n: number }>(`select count(*)::int as n from outbox where person_id = $1`, [wendy?.id])).rows[0]?.n ?? 0;

    await applyRun([facts('late'), facts('zed'), facts('Yan', { dn: dnOf('yan-renamed') })]);

    const [late, zed, yan] = [await person('late'), await person('zed'), await person('yan')];
    expect((await person('wendy'))?.attributes).toEqual({ department: 'sales', manager: late?.id });
    expect(await eventsOf(wendy?.id ?? '')).toEqual([
      { kind: 'joiner', action: 'person.created', detail: { active: true, dnChanged: false, affectedPeople: 1 } },
      { kind: 'mover', action: 'person.updated', detail: { changed: ['manager'], dnChanged: false, affectedPeople: 1 } },
    ]);
    // Wendy sponsors an agent: her change leaves a recompute outbox row and is enqueued after commit.
    const outboxAfter = (await db.query<{ n: number }>(`select count(*)::int as n from outbox where person_id = $1`, [wendy?.id])).rows[0]?.n ?? 0;
    expect(outboxAfter).toBe(outboxBefore + 1);
    expect(queue.recomputes).toEqual([wendy?.id]);

    const members = await db.query<{ member_id: string }>('select member_id from memberships where group_id = $1 order by member_id', [groupId]);
    expect(members.rows.map((row) => row.member_id)).toEqual([yan?.id, zed?.id].sort());
    const group = await db.query<{ version: number }>('select version from groups where id = $1', [groupId]);
    expect(group.rows[0]?.version).toBe(3);
    expect((await db.query('select 1 from sync_pending_members')).rowCount).toBe(0);
    expect((await eventsOf(zed?.id ?? ''))[0]).toMatchObject({ kind: 'joiner', action: 'person.created' });
    expect((await eventsOf(yan?.id ?? ''))[0]).toMatchObject({ kind: 'joiner', action: 'person.created' });
    expect(await eventsOf(late?.id ?? '')).toHaveLength(1);
  });

  it('applies many chunks of joiners, each change audited once, and the audit chain verifies', async () => {
    const people = Array.from({ length: 120 }, (_, index) => facts(`bulk${index}`, { managerDn: index === 0 ? null : dnOf(`bulk${Math.floor(index / 3)}`) }));
    await applyRun(people, 25);
    const rows = await db.query<{ id: string; manager: string | null; n: number }>(
      `select p.id, p.attributes ->> 'manager' as manager, (select count(*)::int from change_events e where e.subject_id = p.id) as n
         from persons p where p.user_name like 'bulk%' order by p.user_name`,
    );
    expect(rows.rowCount).toBe(120);
    // A run filling the mirror refreshes the planner's statistics as it goes (the last refresh within a chunk or so of the end).
    const estimate = await db.query<{ n: number }>(`select reltuples::float8 as n from pg_class where oid = 'sync_objects'::regclass`);
    expect(estimate.rows[0]?.n).toBeGreaterThanOrEqual(100);
    const byName = new Map((await db.query<{ user_name: string; id: string }>(`select user_name, id from persons where user_name like 'bulk%'`)).rows.map((row) => [row.user_name, row.id]));
    people.forEach((entry, index) => {
      const managerName = index === 0 ? null : `bulk${Math.floor(index / 3)}`;
      const row = rows.rows.find((candidate) => candidate.id === byName.get(entry.userName));
      expect(row?.manager ?? null).toBe(managerName === null ? null : byName.get(managerName));
      expect(row?.n).toBe(1);
    });
    const unaudited = await db.query<{ n: number }>(
      `select count(*)::int as n from change_events e where not exists (select 1 from audit_log a where a.detail ->> 'changeEventId' = e.id::text)`,
    );
    expect(unaudited.rows[0]?.n).toBe(0);
    await sealAll(db);
    expect(await store.verifyAudit()).toMatchObject({ unsealed: 0, firstBrokenSeq: null });
  });

  it('updates set-based: changed fields, a rename that takes pending references, managers renamed in the same chunk, stale references', async () => {
    const [alice, boss, late, bulk1, bulk2, bulk3] = await Promise.all(['alice', 'boss', 'late', 'bulk1', 'bulk2', 'bulk3'].map(person));
    const groupId = crypto.randomUUID();
    await store.transaction(async (tx) => {
      await tx.insertGroup('corp', groupId, { externalId: 'g2', displayName: 'Renamed', resource: {} }, new Date());
      await tx.setPendingMembers('corp', groupId, [dnOf('boss2'), 'uid:bossy']);
      // bulk1 holds a stale reference (its facts now name bulk0); bulk3 waits for the DN boss is renamed to.
      await tx.setPendingMembers('corp', bulk1?.id ?? '', [`manager:${dnOf('boss2')}`]);
      await tx.setPendingMembers('corp', bulk3?.id ?? '', [`manager:${dnOf('boss2')}`]);
    });
    const groupVersion = async () => (await db.query<{ version: number }>('select version from groups where id = $1', [groupId])).rows[0]?.version;
    const before = await groupVersion();
    warnings.length = 0;

    await applyRun([
      facts('alice', { managerDn: dnOf('late'), attributes: { department: 'marketing' } }),
      facts('bulk2', { managerDn: dnOf('boss2') }),
      facts('boss', { dn: dnOf('boss2'), userName: 'Bossy' }),
      facts('bulk1', { managerDn: dnOf('bulk0'), displayName: 'Bulk One' }),
      facts('late'),
    ]);

    expect(warnings).toEqual([]);
    expect((await person('bossy'))?.id).toBe(boss?.id);
    expect((await eventsOf(boss?.id ?? '')).slice(1)).toEqual([
      { kind: 'mover', action: 'person.updated', detail: { changed: ['userName', 'resource'], dnChanged: true, groupsJoined: 1, affectedPeople: 1 } },
    ]);
    const members = await db.query<{ member_id: string }>('select member_id from memberships where group_id = $1', [groupId]);
    expect(members.rows).toEqual([{ member_id: boss?.id }]);
    expect(await groupVersion()).toBe((before ?? 0) + 1);
    expect((await person('alice'))?.attributes).toEqual({ department: 'marketing', manager: late?.id });
    expect((await eventsOf(alice?.id ?? '')).slice(1)).toEqual([
      { kind: 'mover', action: 'person.updated', detail: { changed: ['department', 'manager'], dnChanged: false, affectedPeople: 1 } },
    ]);
    expect(await eventsOf(late?.id ?? '')).toHaveLength(1);
    const changedOf = async (id: string | undefined) => (await eventsOf(id ?? '')).slice(1).map((event) => event.detail['changed']);
    expect(await person('bulk1')).toMatchObject({ attributes: { manager: (await person('bulk0'))?.id } });
    expect(await changedOf(bulk1?.id)).toEqual([['displayName']]);
    expect(await person('bulk2')).toMatchObject({ attributes: { manager: boss?.id } });
    expect(await changedOf(bulk2?.id)).toEqual([['manager']]);
    expect(await person('bulk3')).toMatchObject({ attributes: { manager: boss?.id } });
    expect(await changedOf(bulk3?.id)).toEqual([['manager']]);
    const pending = await db.query('select 1 from sync_pending_members where group_id = any($1::uuid[])', [[bulk1?.id, bulk2?.id, bulk3?.id, groupId]]);
    expect(pending.rowCount).toBe(0);
  });

  it('a chunk that fails as a whole is applied entry by entry, and the clash fails the run with nothing of the chunk written', async () => {
    warnings.length = 0;
    const failed = await applyRun([facts('okay'), facts('twin', { key: 'key-twin-1' }), facts('TWIN', { key: 'key-twin-2', dn: dnOf('twin2') })]).catch((error: unknown) => error);
    expect(failed).toMatchObject({ code: 'uniqueness' });
    expect(warnings).toEqual(['set-based apply of a chunk failed; applying it entry by entry']);
    expect(await person('okay')).toBeUndefined();
    expect(await person('twin')).toBeUndefined();
    const synced = await db.query(`select 1 from sync_objects where source_key in ('key-okay', 'key-twin-1', 'key-twin-2')`);
    expect(synced.rowCount).toBe(0);
  });
});
