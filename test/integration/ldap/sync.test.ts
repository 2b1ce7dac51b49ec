import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ldapSourceSchema, type LdapSourceConfig } from '../../../connectors/ldap/config.js';
import { createLdapScanner } from '../../../connectors/ldap/scanner.js';
import { decideHeldRun, runDirectorySync, type LdapSyncDeps } from '../../../src/app/directory/ldap-sync.js';
import { secretReference } from '../../../src/config/secrets.js';
import { withScanThread } from '../../../src/main/ldap-scan-thread.js';
import type { Store } from '../../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { waitFor } from '../../support/ports.js';
import { RecordingQueue, silentLogger, storeWithPolicy } from '../../support/pipeline.js';
import { LIMITED_DN, READER_DN, startSlapd, type Slapd } from '../../support/slapd.js';

const FIXTURES = resolve(import.meta.dirname, '../../../test/fixtures/ldap');
const PEOPLE = 'ou=people,dc=example,dc=org';
const GROUPS = 'ou=groups,dc=example,dc=org';

/** 2,000 extra people, all in one big group: paging (page size 100) and a large membership. */
function bigGroupLdif(): string {
  const people: string[] = [];
  const members: string[] = [];
  for (let index = 0; index < 2000; index += 1) {
    const uid = `user${String(index).padStart(4, '0')}`;
    people.push(`dn: uid=${uid},${PEOPLE}\nobjectClass: inetOrgPerson\nuid: ${uid}\ncn: User ${index}\nsn: ${index}\n`);
    members.push(`member: uid=${uid},${PEOPLE}`);
  }
  return `${people.join('\n')}\ndn: cn=Everyone,${GROUPS}\nobjectClass: groupOfNames\ncn: Everyone\n${members.join('\n')}\n`;
}

function sourceConfig(slapd: Slapd, overrides: Record<string, unknown> = {}): LdapSourceConfig {
  process.env['TETHER_TEST_LDAP_PASSWORD'] = 'reader-secret-0123456789';
  process.env['TETHER_TEST_LDAP_LIMITED'] = 'limited-secret-0123456789';
  return ldapSourceSchema(secretReference('/tmp')).parse({
    id: 'corp', kind: 'ldap', url: slapd.url, dialect: 'openldap', bindDn: READER_DN, bindPassword: 'env:TETHER_TEST_LDAP_PASSWORD',
    people: { baseDns: [PEOPLE] }, groups: { baseDns: [GROUPS] }, pageSize: 100, clockSkewSeconds: 5,
    ...overrides,
  });
}

describe('LDAP sync against a real slapd', () => {
  let slapd: Slapd;
  let database: TestDatabase;
  let store: Store;
  let queue: RecordingQueue;

  beforeAll(async () => {
    slapd = await startSlapd(`${readFileSync(resolve(FIXTURES, 'directory.ldif'), 'utf8')}\n${bigGroupLdif()}`);
    database = await createTestDatabase();
    ({ store } = await storeWithPolicy(database.db));
    await store.upsertSources([{ id: 'corp', kind: 'ldap', displayName: 'Corp' }]);
  }, 120_000);

  afterAll(async () => {
    await slapd?.stop();
    await database?.drop();
  });

  beforeEach(() => {
    queue = new RecordingQueue();
  });

  function deps(overrides: Partial<LdapSyncDeps> = {}, config: LdapSourceConfig = sourceConfig(slapd)): LdapSyncDeps {
    return {
      // Full scans on the scan thread, as `tether start` runs them (src/main/container.ts).
      sourceId: 'corp', store, scanner: withScanThread(config, createLdapScanner(config, { clock: () => new Date() })), queue, clock: () => new Date(),
      logger: silentLogger, massChange: config.massChange, chunkSize: 200, ...overrides,
    };
  }

  const person = async (userName: string) =>
    (await database.db.query<{ id: string; active: boolean; deleted: boolean; attributes: Record<string, string>; external_id: string }>(
      `select id, active, deleted_at is not null as deleted, attributes, external_id from persons where source_id = 'corp' and lower(user_name) = $1 order by created_at desc limit 1`,
      [userName],
    )).rows[0];
  const groupsOf = async (userName: string) => {
    const found = await person(userName);
    if (found === undefined) return [];
    const snapshot = await store.sponsorSnapshot(found.id);
    return snapshot?.groups.map((group) => group.name) ?? [];
  };
  /** Members of the Everyone group as the directory lists them now. */
  const everyoneMembers = async () => {
    const scanner = createLdapScanner(sourceConfig(slapd), { clock: () => new Date() });
    try {
      for await (const page of scanner.scan('group', { since: null })) {
        const everyone = page.find((group) => group.name === 'Everyone');
        if (everyone !== undefined) return everyone.memberDns.length;
      }
      return 0;
    } finally {
      await scanner.close();
    }
  };
  const ldapEvents = async () => (await database.db.query<{ n: number }>(`select count(*)::int as n from change_events where origin = 'ldap'`)).rows[0]?.n ?? 0;

  it('checks the connection and explains bad credentials, unreachable servers and refused StartTLS', async () => {
    await expect(createLdapScanner(sourceConfig(slapd), { clock: () => new Date() }).check()).resolves.toMatchObject({ server: expect.any(String) });
    process.env['TETHER_WRONG'] = 'not-the-password-at-all';
    const wrong = createLdapScanner(sourceConfig(slapd, { bindPassword: 'env:TETHER_WRONG' }), { clock: () => new Date() });
    await expect(wrong.check()).rejects.toMatchObject({ code: 'invalid_config', message: expect.stringMatching(/invalid credentials/) });
    const down = createLdapScanner(sourceConfig(slapd, { url: 'ldap://127.0.0.1:1' }), { clock: () => new Date() });
    await expect(down.check()).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/unreachable/) });
    const tls = createLdapScanner(sourceConfig(slapd, { startTls: true }), { clock: () => new Date() });
    await expect(tls.check()).rejects.toMatchObject({ message: expect.stringMatching(/StartTLS/) });
  });

  it('surfaces a server-side size limit as an error instead of a silently truncated result', async () => {
    const limited = createLdapScanner(sourceConfig(slapd, { bindDn: LIMITED_DN, bindPassword: 'env:TETHER_TEST_LDAP_LIMITED' }), { clock: () => new Date() });
    const consume = async () => {
      for await (const page of limited.scan('person', { since: null })) expect(page.length).toBeGreaterThan(0);
    };
    await expect(consume()).rejects.toMatchObject({ code: 'invalid_config', message: expect.stringMatching(/size limit/) });
    await limited.close();
  });

  it('first run: a full load of people, groups, nested groups, posix groups and the 2,000-member group', async () => {
    const outcome = await runDirectorySync(deps(), { mode: 'delta', trigger: 'test' });
    expect(outcome).toMatchObject({ status: 'succeeded', mode: 'full', counts: { seen: 2004 + 5, deleted: 0 } });
    const alice = await person('alice');
    expect(alice).toMatchObject({ active: true, deleted: false, attributes: { department: 'sales', title: 'Account Executive' } });
    expect(alice?.external_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await groupsOf('alice')).toEqual(['Sales']);
    expect(await groupsOf('carol')).toEqual(['Ops', 'Ops Oncall']);
    expect(await groupsOf('dave')).toEqual(['engineers']);
    const everyone = await database.db.query<{ n: number }>(
      `select count(*)::int as n from memberships m join groups g on g.id = m.group_id where g.display_name = 'Everyone'`,
    );
    expect(everyone.rows[0]?.n).toBe(2000);
    const state = await store.syncState('corp');
    expect(state?.cursor).toMatchObject({ kind: 'time' });
  });

  it('a repeated poll with no directory change changes nothing', async () => {
    const before = await ldapEvents();
    const outcome = await runDirectorySync(deps(), { mode: 'delta', trigger: 'test' });
    expect(outcome).toMatchObject({ status: 'succeeded', mode: 'delta', counts: { changed: 0, deleted: 0 } });
    expect(await ldapEvents()).toBe(before);
  });

  it('joiner, mover (group add and remove), attribute change: one delta poll', async () => {
    await slapd.modify(`dn: uid=erin,${PEOPLE}
changetype: add
objectClass: inetOrgPerson
uid: erin
cn: Erin Evans
sn: Evans
departmentNumber: sales

dn: cn=Sales,${GROUPS}
changetype: modify
add: member
member: uid=erin,${PEOPLE}
member: uid=bob,${PEOPLE}

dn: cn=Ops,${GROUPS}
changetype: modify
delete: uniqueMember
uniqueMember: uid=bob,${PEOPLE}

dn: uid=alice,${PEOPLE}
changetype: modify
replace: title
title: Sales Director
`);
    const outcome = await runDirectorySync(deps(), { mode: 'delta', trigger: 'test' });
    expect(outcome).toMatchObject({ status: 'succeeded', mode: 'delta' });
    expect(await person('erin')).toMatchObject({ active: true });
    expect(await groupsOf('erin')).toEqual(['Sales']);
    expect(await groupsOf('bob')).toEqual(['Sales']);
    expect((await person('alice'))?.attributes['title']).toBe('Sales Director');
    const kinds = await database.db.query<{ kind: string; action: string }>(
      `select e.kind, a.action from change_events e join audit_log a on a.detail ->> 'changeEventId' = e.id::text where e.origin = 'ldap' and e.subject_id = $1`,
      [(await person('erin'))?.id],
    );
    expect(kinds.rows).toEqual([{ kind: 'joiner', action: 'person.created' }]);
  });

  it('rename (modrdn) keeps the same person: keyed by entryUUID, not DN', async () => {
    const before = await person('dave');
    await slapd.modify(`dn: uid=dave,${PEOPLE}
changetype: modrdn
newrdn: uid=david
deleteoldrdn: 1
`);
    await runDirectorySync(deps(), { mode: 'delta', trigger: 'test' });
    const after = await person('david');
    expect(after?.id).toBe(before?.id);
    expect(await person('dave')).toBeUndefined();
  });

  it('leaver: a ppolicy lock deactivates, a configured active attribute deactivates, a delete deletes', async () => {
    await slapd.modify(`dn: uid=bob,${PEOPLE}
changetype: modify
replace: pwdAccountLockedTime
pwdAccountLockedTime: 000001010000Z
`);
    await runDirectorySync(deps(), { mode: 'delta', trigger: 'test' });
    expect(await person('bob')).toMatchObject({ active: false, deleted: false });

    await slapd.modify(`dn: uid=erin,${PEOPLE}
changetype: modify
replace: employeeType
employeeType: terminated
`);
    const withActive = sourceConfig(slapd, { mapping: { active: { attribute: 'employeeType', inactiveValues: ['terminated'] } } });
    await runDirectorySync(deps({}, withActive), { mode: 'delta', trigger: 'test' });
    expect(await person('erin')).toMatchObject({ active: false });

    await slapd.modify(`dn: uid=carol,${PEOPLE}
changetype: delete
`);
    const outcome = await runDirectorySync(deps(), { mode: 'delta', trigger: 'test' });
    expect(outcome).toMatchObject({ status: 'succeeded', counts: { deleted: 1 } });
    expect(await person('carol')).toMatchObject({ deleted: true, active: false });
    const leaver = await database.db.query<{ kind: string }>(`select kind from change_events where subject_id = $1 order by committed_at desc limit 1`, [(await person('carol'))?.id]);
    expect(leaver.rows[0]?.kind).toBe('leaver');
  });

  it('circuit breaker: a groups filter gone wrong (it matches nothing) is held instead of removing every group', async () => {
    const membershipsBefore = (await database.db.query<{ n: number }>('select count(*)::int as n from memberships')).rows[0]?.n;
    const eventsBefore = await ldapEvents();
    const typo = sourceConfig(slapd, { groups: { baseDns: [GROUPS], filter: '(objectClass=groupOfName)' } });
    for (const mode of ['full', 'delta'] as const) {
      const held = await runDirectorySync(deps({}, typo), { mode, trigger: 'test' });
      expect(held).toMatchObject({ status: 'held', counts: { deleted: 0 } });
      if (held.status !== 'held') throw new Error('expected a held run');
      expect(held.heldReason).toMatch(/would remove (\d+) of \1 directory groups/);
      expect(held.heldReason).not.toMatch(/people/);
      await decideHeldRun({ store, clock: () => new Date() }, 'corp', held.runId, 'discarded', 'admin_token:test');
    }
    expect((await database.db.query<{ n: number }>('select count(*)::int as n from memberships')).rows[0]?.n).toBe(membershipsBefore);
    expect(await ldapEvents()).toBe(eventsBefore);
    expect(await groupsOf('alice')).toEqual(['Sales']);
    // With the right filter again, nothing is held and nothing changes.
    expect(await runDirectorySync(deps(), { mode: 'full', trigger: 'test' })).toMatchObject({ status: 'succeeded', counts: { changed: 0, deleted: 0 } });
  });

  it('circuit breaker: a run removing more than 10% of people is held, applies nothing, and can be discarded or confirmed', async () => {
    const removals = Array.from({ length: 300 }, (_, index) => `dn: uid=user${String(index).padStart(4, '0')},${PEOPLE}\nchangetype: delete\n`).join('\n');
    await slapd.modify(removals);
    const eventsBefore = await ldapEvents();
    const cursorBefore = (await store.syncState('corp'))?.cursor;
    const held = await runDirectorySync(deps(), { mode: 'full', trigger: 'test' });
    expect(held).toMatchObject({ status: 'held', counts: { deleted: 300 } });
    if (held.status !== 'held') throw new Error('expected a held run');
    expect(held.heldReason).toMatch(/would remove 300 of \d+ people/);
    expect(await ldapEvents()).toBe(eventsBefore);
    expect((await store.syncState('corp'))?.cursor).toEqual(cursorBefore);
    expect(await person('user0000')).toMatchObject({ deleted: false });
    expect((await store.syncStatus()).find((row) => row.sourceId === 'corp')?.heldRun?.heldReason).toMatch(/would remove/);

    // A delta poll sees the same removals (key sweep) and is held too, superseding the first held run.
    const again = await runDirectorySync(deps(), { mode: 'delta', trigger: 'test' });
    expect(again.status).toBe('held');
    if (again.status !== 'held') throw new Error('expected a held run');
    expect((await store.getRun('corp', held.runId))?.status).toBe('superseded');
    await expect(decideHeldRun({ store, clock: () => new Date() }, 'corp', held.runId, 'confirmed', 'test')).rejects.toMatchObject({ code: 'precondition_failed' });

    const confirmed = await decideHeldRun({ store, clock: () => new Date() }, 'corp', again.runId, 'confirmed', 'admin_token:test');
    expect(confirmed).toMatchObject({ status: 'confirmed', confirmedRemovals: 300 });
    const applied = await runDirectorySync(deps(), { mode: 'full', trigger: 'test', confirmedRunId: again.runId });
    expect(applied).toMatchObject({ status: 'succeeded', counts: { deleted: 300 } });
    expect(await person('user0000')).toMatchObject({ deleted: true });
  });

  it('a delta poll applies and enqueues its changes first, even when the deletion sweep after them is held', async () => {
    const alice = await person('alice');
    const membersBefore = await everyoneMembers();
    const removals = Array.from({ length: 300 }, (_, index) => `dn: uid=user${String(index + 300).padStart(4, '0')},${PEOPLE}\nchangetype: delete\n`).join('\n');
    // Everyone is also touched directly: slapd's refint overlay removes the deleted people from it in the
    // background without moving its modifyTimestamp (OpenLDAP 2.5), so without the touch whether a delta
    // poll sees the group at all depended on when it was last modified (a race with the clock-skew window).
    await slapd.modify(`${removals}\ndn: uid=alice,${PEOPLE}\nchangetype: modify\nreplace: title\ntitle: Chief Revenue Officer\n\ndn: cn=Everyone,${GROUPS}\nchangetype: modify\nreplace: description\ndescription: all staff\n`);
    // Once refint has rewritten Everyone, the group's change in this poll carries the removals.
    await waitFor(async () => (await everyoneMembers()) === membersBefore - 300, { timeoutMs: 20_000, what: 'refint to rewrite Everyone' });
    const cursorBefore = (await store.syncState('corp'))?.cursor;
    const startedAt = new Date();
    const held = await runDirectorySync(deps(), { mode: 'delta', trigger: 'test' });
    expect(held).toMatchObject({ status: 'held', mode: 'delta', counts: { changed: 2, deleted: 300 } });
    if (held.status !== 'held') throw new Error('expected a held run');
    expect((await person('alice'))?.attributes['title']).toBe('Chief Revenue Officer');
    const recorded = await database.db.query<{ n: number }>(
      `select count(*)::int as n from change_events where origin = 'ldap' and subject_id = $1 and detail -> 'changed' ? 'title' and committed_at >= $2`,
      [alice?.id, startedAt],
    );
    expect(recorded.rows[0]?.n).toBe(1);
    // Only the removals wait; the cursor stays, so the next poll reads alice's change again (a no-op).
    expect(await person('user0300')).toMatchObject({ deleted: false });
    expect((await store.syncState('corp'))?.cursor).toEqual(cursorBefore);
    const eventsBefore = await ldapEvents();
    const again = await runDirectorySync(deps(), { mode: 'delta', trigger: 'test' });
    expect(again).toMatchObject({ status: 'held', counts: { changed: 0 } });
    expect(await ldapEvents()).toBe(eventsBefore);

    await decideHeldRun({ store, clock: () => new Date() }, 'corp', again.status === 'held' ? again.runId : 0, 'confirmed', 'admin_token:test');
    const applied = await runDirectorySync(deps(), { mode: 'full', trigger: 'test', confirmedRunId: again.status === 'held' ? again.runId : 0 });
    expect(applied).toMatchObject({ status: 'succeeded', counts: { deleted: 300 } });
    expect(await person('user0300')).toMatchObject({ deleted: true });
    const leftover = await database.db.query<{ n: number }>('select count(*)::int as n from sync_seen');
    expect(leftover.rows[0]?.n).toBe(0);
  });

  it('a full reconciliation of an unchanged directory changes nothing and still finds a deletion', async () => {
    // slapd's refint overlay rewrites group members after a delete in the background: let it settle first.
    await runDirectorySync(deps(), { mode: 'full', trigger: 'test' });
    const eventsBefore = await ldapEvents();
    const unchanged = await runDirectorySync(deps(), { mode: 'full', trigger: 'test' });
    expect(unchanged).toMatchObject({ status: 'succeeded', mode: 'full', counts: { changed: 0, deleted: 0 } });
    expect(await ldapEvents()).toBe(eventsBefore);
    await slapd.modify(`dn: uid=user0600,${PEOPLE}\nchangetype: delete\n`);
    const swept = await runDirectorySync(deps(), { mode: 'full', trigger: 'test' });
    expect(swept).toMatchObject({ status: 'succeeded', counts: { deleted: 1 } });
    expect(await person('user0600')).toMatchObject({ deleted: true });
  });

  it('a killed poll resumes from its cursor and applies every change exactly once', async () => {
    await slapd.modify(`dn: uid=frank,${PEOPLE}
changetype: add
objectClass: inetOrgPerson
uid: frank
cn: Frank Fox
sn: Fox

dn: uid=grace,${PEOPLE}
changetype: add
objectClass: inetOrgPerson
uid: grace
cn: Grace Green
sn: Green

dn: cn=Ops,${GROUPS}
changetype: modify
add: uniqueMember
uniqueMember: uid=frank,${PEOPLE}
`);
    const cursorBefore = (await store.syncState('corp'))?.cursor;
    const killed = runDirectorySync(deps({ chunkSize: 1, afterChunk: async (chunk) => { if (chunk === 1) throw new Error('worker killed'); } }), { mode: 'delta', trigger: 'test' });
    await expect(killed).rejects.toThrow('worker killed');
    expect((await store.syncState('corp'))?.cursor).toEqual(cursorBefore);
    const resumed = await runDirectorySync(deps(), { mode: 'delta', trigger: 'test' });
    expect(resumed.status).toBe('succeeded');
    expect(await person('frank')).toMatchObject({ active: true });
    expect(await person('grace')).toMatchObject({ active: true });
    expect(await groupsOf('frank')).toEqual(['Ops']);
    const created = await database.db.query<{ n: number }>(
      `select count(*)::int as n from change_events e join persons p on p.id = e.subject_id where p.user_name in ('frank', 'grace') and e.detail ->> 'dnChanged' = 'false' and e.kind = 'joiner'`,
    );
    expect(created.rows[0]?.n).toBe(2);
    expect((await store.syncState('corp'))?.cursor).not.toEqual(cursorBefore);
  });

  it('a user name freed by a leaver is taken by a new entry in the same delta poll', async () => {
    const before = await person('frank');
    await slapd.modify(`dn: uid=frank,${PEOPLE}
changetype: delete

dn: uid=frank,${PEOPLE}
changetype: add
objectClass: inetOrgPerson
uid: frank
cn: Frank Other
sn: Other
`);
    // Same DN and user name, new entryUUID: a new person, applied after the old one is swept away.
    const outcome = await runDirectorySync(deps(), { mode: 'delta', trigger: 'test' });
    expect(outcome).toMatchObject({ status: 'succeeded', mode: 'delta', counts: { deleted: 1 } });
    const after = await person('frank');
    expect(after).toMatchObject({ active: true, deleted: false });
    expect(after?.id).not.toBe(before?.id);
    expect(after?.external_id).not.toBe(before?.external_id);
    const old = await database.db.query<{ deleted: boolean }>('select deleted_at is not null as deleted from persons where id = $1', [before?.id]);
    expect(old.rows[0]?.deleted).toBe(true);
  });
});
