import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBullQueues, eachSponsor, startBullWorkers, type BullQueues, type BullWorkers } from '../../jobs/bullmq.js';
import { registerAgent, type RegisterAgentInput } from '../../src/app/agents/register-agent.js';
import { changeGroup, createGroup } from '../../src/app/directory/groups.js';
import { createPerson } from '../../src/app/directory/people.js';
import { sweepExpiries } from '../../src/app/governance/expiry.js';
import { DEFAULT_GOVERNANCE_POLICY, type GovernancePolicy } from '../../src/app/governance/policy.js';
import { recomputeSponsor } from '../../src/app/pipeline/recompute-sponsor.js';
import type { Policy } from '../../src/app/ports.js';
import type { Store } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { RecordingQueue, scimContext, silentLogger, storeWithPolicy } from '../support/pipeline.js';
import { waitFor } from '../support/ports.js';
import { deletePrefix, SHARED_REDIS_URL, uniquePrefix } from '../support/redis.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * Expiry (issue 5, scope 5) and delegation lifetime (scope 2) on real PostgreSQL: the sweep revokes through
 * the normal pipeline (a recompute outbox row for the sponsor), notices go out once per expiry date, and
 * registrations beyond the lifetime of their riskiest tool are refused. The last test runs the sweep from its
 * BullMQ job scheduler on Redis.
 */
describe('expiry and delegation lifetime', () => {
  let database: TestDatabase;
  let store: Store;
  let policy: Policy;
  const queue = new RecordingQueue();
  let offsetMs = 0;
  const clock = () => new Date(Date.now() + offsetMs);
  const governance: GovernancePolicy = { ...DEFAULT_GOVERNANCE_POLICY, maxDelegationMs: { write: 30 * DAY }, expiryNoticeMs: 7 * DAY };
  const observed: string[] = [];

  const base = () => ({ store, queue, clock, logger: silentLogger });
  const recompute = (personId: string) => recomputeSponsor({ ...base(), policy: () => policy, governance: () => governance, targetIds: () => ['t1'] }, personId);
  const sweep = () => sweepExpiries({ ...base(), governance: () => governance, observe: (event, subject) => observed.push(`${subject}.${event}`) });
  const held = async (agentId: string) => (await store.readModels.getAgent(agentId))?.effective.map((entitlement) => entitlement.toolId) ?? [];
  const auditOf = async (agentId: string) => (await database.db.query<{ action: string; detail: Record<string, unknown> }>(
    'select action, detail from audit_log where subject_id = $1 order by seq', [agentId])).rows;
  let salesId: string;

  const person = async (userName: string) => {
    const created = await createPerson(base(), scimContext(), { userName, externalId: null, displayName: null, active: true, attributes: {}, resource: { userName } });
    await changeGroup(base(), scimContext(), salesId, { addMemberIds: [created.id] }, null);
    return created;
  };
  const registration = (sponsorId: string, name: string, overrides: Partial<RegisterAgentInput> = {}, delegation: Partial<RegisterAgentInput['delegation']> = {}): RegisterAgentInput => ({
    name, purpose: 'test', environment: 'production', sponsor: { id: sponsorId }, backupSponsors: [], owner: null,
    requestedTools: ['crm.contacts.read', 'crm.contacts.write'], expiresAt: null, ...overrides,
    delegation: { approver: 'approver@example.com', justification: 'test', tools: null, targetSystems: [], notBefore: null, expiresAt: null, ...delegation },
  });
  const register = (input: RegisterAgentInput) => registerAgent({ ...base(), policy: () => policy, governance: () => governance }, { type: 'system', id: 'test' }, input);

  beforeAll(async () => {
    database = await createTestDatabase();
    ({ store, policy } = await storeWithPolicy(database.db));
    salesId = (await createGroup(base(), scimContext(), { displayName: 'Sales', externalId: null, resource: {} }, [])).id;
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('notices once per expiry date, then revokes through the sponsor\'s recompute at expiry, audited, exactly once', async () => {
    const sponsor = await person('eve');
    const soon = await register(registration(sponsor.id, 'soon-bot', { expiresAt: new Date(clock().getTime() + 2 * HOUR) }));
    const later = await register(registration(sponsor.id, 'later-bot', {}, { expiresAt: new Date(clock().getTime() + 10 * DAY) }));
    await recompute(sponsor.id);
    expect(await held(soon.id)).toEqual(['crm.contacts.read', 'crm.contacts.write']);

    expect(await sweep()).toEqual({ expired: 0, notices: 1 });
    expect((await auditOf(soon.id)).filter((entry) => entry.action === 'agent.expiring')).toEqual([
      { action: 'agent.expiring', detail: expect.objectContaining({ sponsorId: sponsor.id, inHours: expect.any(Number) }) },
    ]);
    expect(await sweep()).toEqual({ expired: 0, notices: 0 });

    // Four days on, the delegation of later-bot (10 days) is inside the 7-day window; soon-bot expired.
    offsetMs += 4 * DAY;
    const recomputesBefore = queue.recomputes.length;
    expect(await sweep()).toEqual({ expired: 1, notices: 1 });
    expect(observed).toEqual(expect.arrayContaining(['agent.expiring', 'agent.expired', 'delegation.expiring']));
    expect(queue.recomputes.slice(recomputesBefore)).toEqual([sponsor.id]);
    const outbox = await database.db.query<{ n: number }>(`select count(*)::int as n from outbox where kind = 'recompute' and person_id = $1 and done_at is null`, [sponsor.id]);
    expect(outbox.rows[0]?.n).toBe(1);
    // Until the recompute runs the agent still holds its rights, yet a second sweep changes nothing.
    expect(await held(soon.id)).toHaveLength(2);
    expect(await sweep()).toEqual({ expired: 0, notices: 0 });

    const result = await recompute(sponsor.id);
    expect(result.versions).toContainEqual(expect.objectContaining({ agentId: soon.id, revoked: 2 }));
    expect(await store.readModels.getAgent(soon.id)).toMatchObject({ effective: [], reason: 'agent_expired' });
    expect(await held(later.id)).toEqual(['crm.contacts.read', 'crm.contacts.write']);
    expect((await auditOf(soon.id)).map((entry) => entry.action)).toEqual(expect.arrayContaining(['agent.expiring', 'agent.expired', 'entitlements.changed']));
    expect((await auditOf(later.id)).filter((entry) => entry.action === 'delegation.expiring')).toHaveLength(1);

    // The delegation runs out too: revoked with reason delegation_expired.
    offsetMs += 7 * DAY;
    expect(await sweep()).toEqual({ expired: 1, notices: 0 });
    await recompute(sponsor.id);
    expect(await store.readModels.getAgent(later.id)).toMatchObject({ effective: [], reason: 'delegation_expired' });
    expect(await sweep()).toEqual({ expired: 0, notices: 0 });
  });

  it('a new expiry date gets its own notice; agents without rights or retired are left alone', async () => {
    const sponsor = await person('ewan');
    const agent = await register(registration(sponsor.id, 'extended-bot', { expiresAt: new Date(clock().getTime() + DAY) }));
    await recompute(sponsor.id);
    expect((await sweep()).notices).toBe(1);
    await database.db.query('update agents set expires_at = $2 where id = $1', [agent.id, new Date(clock().getTime() + 2 * DAY)]);
    expect((await sweep()).notices).toBe(1);
    expect((await auditOf(agent.id)).filter((entry) => entry.action === 'agent.expiring')).toHaveLength(2);

    const idle = await register(registration(sponsor.id, 'idle-bot', { expiresAt: new Date(clock().getTime() - HOUR) }));
    await recompute(sponsor.id);
    expect(await held(idle.id)).toEqual([]);
    expect((await sweep()).expired).toBe(0);
  });

  it('refuses a delegation beyond the lifetime of its riskiest tool, naming the limit; a missing expiry gets the limit', async () => {
    const sponsor = await person('lisa');
    const tooLong = register(registration(sponsor.id, 'long-bot', {}, { expiresAt: new Date(clock().getTime() + 60 * DAY) }));
    await expect(tooLong).rejects.toMatchObject({ code: 'invalid_input', meta: { field: 'delegation.expiresAt', limit: { risk: 'write' } } });
    await expect(tooLong).rejects.toMatchObject({ detail: expect.stringContaining('policy.maxDelegationDays.write: 30 days') });
    expect((await database.db.query(`select 1 from agents where name = 'long-bot'`)).rowCount).toBe(0);

    const before = clock().getTime();
    const defaulted = await register(registration(sponsor.id, 'default-bot'));
    const view = await store.readModels.getAgent(defaulted.id);
    const expiresAt = new Date(view?.delegation?.expiresAt ?? 0).getTime();
    expect(expiresAt).toBeGreaterThanOrEqual(before + 30 * DAY);
    expect(expiresAt).toBeLessThanOrEqual(clock().getTime() + 30 * DAY);

    // Read tools only: no limit configured for read, so no expiry is imposed.
    const reader = await register(registration(sponsor.id, 'read-bot', { requestedTools: ['crm.contacts.read'] }));
    expect((await store.readModels.getAgent(reader.id))?.delegation?.expiresAt).toBeNull();
  });

  it('runs from its BullMQ job scheduler', async () => {
    const sponsor = await person('bull');
    const agent = await register(registration(sponsor.id, 'scheduled-bot', { expiresAt: new Date(clock().getTime() + HOUR) }));
    await recompute(sponsor.id);
    offsetMs += 2 * HOUR;
    const prefix = uniquePrefix('expiry');
    const settings = { redisUrl: SHARED_REDIS_URL, prefix, targets: [] };
    const queues: BullQueues = createBullQueues(settings);
    const workers: BullWorkers = startBullWorkers({ ...settings, recomputeConcurrency: 1 }, {
      recompute: eachSponsor((personId) => recompute(personId)),
      push: () => Promise.resolve(),
      governance: () => sweepExpiries({ store, queue: queues, clock, logger: silentLogger, governance: () => governance }),
    }, () => undefined);
    try {
      await queues.scheduleGovernance({ expirySweepMs: 200 });
      await waitFor(async () => (await store.readModels.getAgent(agent.id))?.reason === 'agent_expired', { timeoutMs: 10_000, what: 'the scheduled sweep and the recompute it queued' });
      expect((await auditOf(agent.id)).map((entry) => entry.action)).toContain('agent.expired');
    } finally {
      await workers.close();
      await queues.close();
      await deletePrefix(SHARED_REDIS_URL, prefix);
    }
  });
});
