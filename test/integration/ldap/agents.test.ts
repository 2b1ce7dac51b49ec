import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ldapSourceSchema, type LdapSourceConfig } from '../../../connectors/ldap/config.js';
import { createLdapScanner } from '../../../connectors/ldap/scanner.js';
import { decideHeldRun, runDirectorySync, type LdapSyncDeps } from '../../../src/app/directory/ldap-sync.js';
import type { Policy } from '../../../src/app/ports.js';
import { secretReference } from '../../../src/config/secrets.js';
import type { Store } from '../../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { RecordingQueue, silentLogger, storeWithPolicy } from '../../support/pipeline.js';
import { READER_DN, startSlapd, type Slapd } from '../../support/slapd.js';
import { DEFAULT_GOVERNANCE_POLICY } from '../../../src/app/governance/policy.js';

const PEOPLE = 'ou=people,dc=example,dc=org';
const SERVICES = 'ou=services,dc=example,dc=org';
const GROUPS = 'ou=groups,dc=example,dc=org';

const person = (uid: string, extra = '') => `dn: uid=${uid},${PEOPLE}\nobjectClass: inetOrgPerson\nuid: ${uid}\ncn: ${uid}\nsn: ${uid}\n${extra}`;
const service = (uid: string, manager: string | null, extra = '') =>
  `dn: uid=${uid},${SERVICES}\nobjectClass: inetOrgPerson\nuid: ${uid}\ncn: ${uid}\nsn: service\n${manager === null ? '' : `manager: uid=${manager},${PEOPLE}\n`}${extra}`;

const SEED = [
  person('alice'),
  person('bob'),
  // carol's manager is mirrored in the same run; erin's manager (frank) joins later.
  person('carol', `manager: uid=alice,${PEOPLE}\n`),
  person('erin', `manager: uid=frank,${PEOPLE}\n`),
  service('svc-crm', 'alice', 'description: Keeps CRM contacts tidy\n'),
  service('svc-a', 'alice'),
  service('svc-b', 'alice'),
  service('svc-c', 'bob'),
  // Its sponsor is not in the directory yet: pending until zed is.
  service('svc-zed', 'zed'),
  // No sponsor at all: never registered.
  service('svc-nobody', null),
  `dn: cn=Sales,${GROUPS}\nobjectClass: groupOfNames\ncn: Sales\nmember: uid=alice,${PEOPLE}\n`,
].join('\n');

describe('LDAP: service accounts become agents; managers are mapped', () => {
  let slapd: Slapd;
  let database: TestDatabase;
  let store: Store;
  let policy: Policy;
  let queue: RecordingQueue;

  beforeAll(async () => {
    slapd = await startSlapd(SEED);
    database = await createTestDatabase();
    ({ store, policy } = await storeWithPolicy(database.db));
    await store.upsertSources([{ id: 'corp', kind: 'ldap', displayName: 'Corp' }]);
  }, 120_000);

  afterAll(async () => {
    await slapd?.stop();
    await database?.drop();
  });

  beforeEach(() => {
    queue = new RecordingQueue();
  });

  function sourceConfig(): LdapSourceConfig {
    process.env['TETHER_TEST_LDAP_PASSWORD'] = 'reader-secret-0123456789';
    return ldapSourceSchema(secretReference('/tmp')).parse({
      id: 'corp', kind: 'ldap', url: slapd.url, dialect: 'openldap', bindDn: READER_DN, bindPassword: 'env:TETHER_TEST_LDAP_PASSWORD',
      people: { baseDns: [PEOPLE] }, groups: { baseDns: [GROUPS] }, clockSkewSeconds: 5,
      agents: {
        baseDns: [SERVICES], filter: '(objectClass=inetOrgPerson)', environment: 'pilot', requestedTools: ['crm.contacts.read'],
        requestedToolsAttribute: 'employeeType',
      },
    });
  }

  const deps = (overrides: Partial<LdapSyncDeps> = {}): LdapSyncDeps => {
    const config = sourceConfig();
    return {
      sourceId: 'corp', store, scanner: createLdapScanner(config, { clock: () => new Date() }), queue, clock: () => new Date(),
      logger: silentLogger, massChange: config.massChange, policy: () => policy, ...overrides,
    };
  };
  const sync = (mode: 'delta' | 'full' = 'delta', overrides: Partial<LdapSyncDeps> = {}) => runDirectorySync(deps(overrides), { mode, trigger: 'test' });

  const personId = async (userName: string) =>
    (await database.db.query<{ id: string }>(`select id from persons where source_id = 'corp' and user_name = $1 and deleted_at is null`, [userName])).rows[0]?.id;
  const attributesOf = async (userName: string) =>
    (await database.db.query<{ attributes: Record<string, string> }>(`select attributes from persons where source_id = 'corp' and user_name = $1`, [userName])).rows[0]?.attributes;
  const agent = async (name: string) =>
    (await database.db.query<{ id: string; state: string; sponsor_id: string; environment: string; purpose: string; requested_tools: string[]; agent_type: string }>(
      `select id, state, sponsor_id, environment, purpose, requested_tools, agent_type from agents where name = $1 order by created_at desc limit 1`, [name],
    )).rows[0];
  const events = async (agentId: string) =>
    (await database.db.query<{ kind: string; origin: string; source_id: string; action: string }>(
      `select e.kind, e.origin, e.source_id, a.action from change_events e join audit_log a on a.detail ->> 'changeEventId' = e.id::text
        where e.subject_id = $1 order by e.committed_at`, [agentId],
    )).rows;
  const recomputeRows = async (changeEventKind: string, personIdValue: string) =>
    (await database.db.query<{ n: number }>(
      `select count(*)::int as n from outbox o join change_events e on e.id = o.change_event_id where o.kind = 'recompute' and e.kind = $1 and o.person_id = $2`,
      [changeEventKind, personIdValue],
    )).rows[0]?.n ?? 0;

  it('first run: service accounts with a mirrored sponsor become agents, recorded like every registration', async () => {
    // policy.maxDelegationDays applies to directory agents too: their delegation gets the longest allowed lifetime.
    const thirtyDays = 30 * 86_400_000;
    const started = Date.now();
    const outcome = await sync('delta', { governance: () => ({ ...DEFAULT_GOVERNANCE_POLICY, maxDelegationMs: { read: thirtyDays } }) });
    expect(outcome).toMatchObject({ status: 'succeeded', mode: 'full' });
    const alice = await personId('alice');
    const crm = await agent('svc-crm');
    expect(crm).toMatchObject({
      state: 'active', sponsor_id: alice, environment: 'pilot', purpose: 'Keeps CRM contacts tidy', requested_tools: ['crm.contacts.read'],
      agent_type: 'directory_service_account',
    });
    expect(await agent('svc-a')).toMatchObject({ sponsor_id: alice, purpose: 'directory service account svc-a' });
    const lifetime = (await database.db.query<{ expires_at: Date | null }>('select expires_at from delegations where agent_id = $1', [crm?.id])).rows[0];
    expect(lifetime?.expires_at?.getTime()).toBeGreaterThanOrEqual(started + thirtyDays);
    expect(lifetime?.expires_at?.getTime()).toBeLessThanOrEqual(Date.now() + thirtyDays);
    expect(await agent('svc-c')).toMatchObject({ sponsor_id: await personId('bob') });
    expect(await agent('svc-zed')).toBeUndefined();
    expect(await agent('svc-nobody')).toBeUndefined();
    expect(await events(crm!.id)).toEqual([{ kind: 'agent_registered', origin: 'ldap', source_id: 'corp', action: 'agent.registered' }]);
    expect(await recomputeRows('agent_registered', alice!)).toBe(3);
    expect(queue.recomputes).toContain(alice);
    const delegation = await database.db.query<{ approver: string; tools: string[] }>('select approver, tools from delegations where agent_id = $1', [crm!.id]);
    expect(delegation.rows).toEqual([{ approver: 'ldap:corp', tools: ['crm.contacts.read'] }]);
  });

  it('maps the manager DN to the manager rule attribute once that manager is mirrored', async () => {
    expect((await attributesOf('carol'))?.['manager']).toBe(await personId('alice'));
    expect(await attributesOf('erin')).not.toHaveProperty('manager');
    await slapd.modify(`dn: uid=frank,${PEOPLE}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: frank\ncn: frank\nsn: frank\n`);
    await sync();
    const frank = await personId('frank');
    expect((await attributesOf('erin'))?.['manager']).toBe(frank);
    const erinEvents = await database.db.query<{ detail: { changed: string[] } }>(
      `select detail from change_events where subject_id = $1 and origin = 'ldap' order by committed_at desc limit 1`, [await personId('erin')],
    );
    expect(erinEvents.rows[0]?.detail.changed).toEqual(['manager']);
  });

  it('a pending sponsor is resolved on a later run; nothing is written while it is pending', async () => {
    const before = (await database.db.query<{ n: number }>('select count(*)::int as n from change_events')).rows[0]?.n;
    const idle = await sync();
    expect(idle).toMatchObject({ status: 'succeeded', counts: { changed: 0 } });
    expect((await database.db.query<{ n: number }>('select count(*)::int as n from change_events')).rows[0]?.n).toBe(before);
    await slapd.modify(`dn: uid=zed,${PEOPLE}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: zed\ncn: zed\nsn: zed\n`);
    await sync();
    expect(await agent('svc-zed')).toMatchObject({ state: 'active', sponsor_id: await personId('zed') });
  });

  it('sponsor change, requested tools from an attribute, lock and unlock: updated, suspended, resumed', async () => {
    const crm = await agent('svc-crm');
    await slapd.modify(`dn: uid=svc-crm,${SERVICES}\nchangetype: modify\nreplace: manager\nmanager: uid=bob,${PEOPLE}\n-\nreplace: employeeType\nemployeeType: crm.contacts.write\n`);
    await sync();
    const bob = await personId('bob');
    expect(await agent('svc-crm')).toMatchObject({ id: crm?.id, sponsor_id: bob, state: 'active', requested_tools: ['crm.contacts.write'] });
    const updated = await database.db.query<{ detail: { changed: string[] } }>(
      `select detail from change_events where subject_id = $1 and kind = 'agent_updated'`, [crm?.id],
    );
    expect(updated.rows[0]?.detail.changed).toEqual(expect.arrayContaining(['sponsor', 'requestedTools']));
    expect(await recomputeRows('agent_updated', bob!)).toBe(1);

    await slapd.modify(`dn: uid=svc-crm,${SERVICES}\nchangetype: modify\nreplace: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n`);
    await sync();
    expect((await agent('svc-crm'))?.state).toBe('suspended');
    await slapd.modify(`dn: uid=svc-crm,${SERVICES}\nchangetype: modify\ndelete: pwdAccountLockedTime\n`);
    await sync();
    expect((await agent('svc-crm'))?.state).toBe('active');
    expect((await events(crm!.id)).map((event) => event.kind)).toEqual(['agent_registered', 'agent_updated', 'agent_suspended', 'agent_resumed']);
  });

  it('a deleted service account retires its agent; mass retirement is held by the circuit breaker', async () => {
    await slapd.modify(`dn: uid=svc-zed,${SERVICES}\nchangetype: delete\n`);
    const single = await sync();
    expect(single.status).toBe('succeeded');
    const zed = (await database.db.query<{ state: string; id: string }>(`select id, state from agents where name = 'svc-zed'`)).rows[0];
    expect(zed?.state).toBe('retired');
    expect((await events(zed!.id)).at(-1)).toMatchObject({ kind: 'agent_retired', action: 'agent.retired' });

    await slapd.modify(['svc-a', 'svc-b', 'svc-c'].map((uid) => `dn: uid=${uid},${SERVICES}\nchangetype: delete\n`).join('\n'));
    const held = await sync();
    expect(held).toMatchObject({ status: 'held', heldReason: expect.stringMatching(/would retire 3 of 4 directory agents/) });
    expect((await agent('svc-a'))?.state).toBe('active');
    if (held.status !== 'held') throw new Error('expected a held run');
    await decideHeldRun({ store, clock: () => new Date() }, 'corp', held.runId, 'confirmed', 'admin_token:test');
    const applied = await runDirectorySync(deps(), { mode: 'full', trigger: 'test', confirmedRunId: held.runId });
    expect(applied.status).toBe('succeeded');
    for (const name of ['svc-a', 'svc-b', 'svc-c']) expect((await agent(name))?.state).toBe('retired');
    expect((await agent('svc-crm'))?.state).toBe('active');
  });

  it('a full reconciliation asked for during a poll waits for the lease instead of being dropped', async () => {
    let release: () => void = () => undefined;
    const released = new Promise<void>((done) => (release = done));
    let entered: () => void = () => undefined;
    const inChunk = new Promise<void>((done) => (entered = done));
    await slapd.modify(`dn: uid=gina,${PEOPLE}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: gina\ncn: gina\nsn: gina\n`);
    const poll = sync('delta', { afterChunk: async () => { entered(); await released; } });
    await inChunk;
    const full = sync('full', { leaseWaitMs: 20_000 });
    const skippedDelta = await sync('delta');
    expect(skippedDelta).toMatchObject({ status: 'skipped' });
    release();
    await expect(poll).resolves.toMatchObject({ status: 'succeeded', mode: 'delta' });
    await expect(full).resolves.toMatchObject({ status: 'succeeded', mode: 'full' });
  });

  it('a sponsor who leaves the directory: the agent follows the leaver path, and a repeat run changes nothing', async () => {
    await slapd.modify(`dn: uid=bob,${PEOPLE}\nchangetype: delete\n`);
    await sync();
    const crm = await agent('svc-crm');
    expect(crm?.sponsor_id).toBe((await database.db.query<{ id: string }>(`select id from persons where user_name = 'bob'`)).rows[0]?.id);
    const before = (await database.db.query<{ n: number }>(`select count(*)::int as n from change_events where subject_id = $1`, [crm?.id])).rows[0]?.n;
    await sync();
    expect((await database.db.query<{ n: number }>(`select count(*)::int as n from change_events where subject_id = $1`, [crm?.id])).rows[0]?.n).toBe(before);
  });
});
