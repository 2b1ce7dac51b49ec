import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBullQueues, eachSponsor, startBullWorkers } from '../../jobs/bullmq.js';
import { registerAgent } from '../../src/app/agents/register-agent.js';
import { changeGroup, createGroup } from '../../src/app/directory/groups.js';
import { createPerson, updatePerson } from '../../src/app/directory/people.js';
import { deliverVersion } from '../../src/app/pipeline/deliver.js';
import { relayOutboxOnce } from '../../src/app/pipeline/outbox-relay.js';
import { recomputeSponsor } from '../../src/app/pipeline/recompute-sponsor.js';
import type { Policy } from '../../src/app/ports.js';
import { sealAudit, verifyAuditChain } from '../../src/store/audit.js';
import type { Store } from '../../src/store/index.js';
import { sealAll } from '../support/audit.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { RecordingQueue, RecordingTarget, scimContext, silentLogger, storeWithPolicy } from '../support/pipeline.js';
import { waitFor } from '../support/ports.js';
import { startPrivateRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';

const clock = () => new Date();

describe('pipeline on real PostgreSQL and Redis', () => {
  let database: TestDatabase;
  let store: Store;
  let policy: Policy;
  let redis: PrivateRedis;
  const queue = new RecordingQueue();
  const target = new RecordingTarget('t1');

  const people = () => ({ store, queue, clock, logger: silentLogger });
  const recomputeDeps = () => ({ store, queue, clock, logger: silentLogger, policy: () => policy, targetIds: () => ['t1'] });
  const deliverDeps = () => ({ store, connectors: new Map([['t1', target]]), clock, logger: silentLogger });

  async function sponsorWithAgent(userName: string, groupName: string, tools: string[], environment: 'sandbox' | 'production' = 'production') {
    const person = await createPerson(people(), scimContext(), { userName, externalId: null, displayName: null, active: true, attributes: {}, resource: { userName } });
    const group = await createGroup(people(), scimContext(), { displayName: groupName, externalId: null, resource: {} }, [person.id]);
    const agent = await registerAgent({ ...people(), policy: () => policy }, { type: 'system', id: 'test' }, {
      name: `${userName}-bot`, purpose: 'test', environment, sponsor: { id: person.id }, backupSponsors: [], owner: null,
      requestedTools: tools, expiresAt: null,
      delegation: { approver: 'approver', justification: 'test', tools: null, targetSystems: [], notBefore: null, expiresAt: null },
    });
    return { person, group, agent };
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    ({ store, policy } = await storeWithPolicy(database.db));
    redis = await startPrivateRedis();
  });

  afterAll(async () => {
    await redis?.stop();
    await database?.drop();
  });

  it('computes, versions and delivers; a duplicate or late job changes nothing', async () => {
    const { person, agent } = await sponsorWithAgent('carol', 'Sales', ['crm.contacts.read', 'crm.contacts.write', 'ops.dispatch']);
    const first = await recomputeSponsor(recomputeDeps(), person.id);
    expect(first.versions).toEqual([{ agentId: agent.id, version: 1, granted: 2, revoked: 0 }]);
    const duplicate = await recomputeSponsor(recomputeDeps(), person.id);
    expect(duplicate.versions).toEqual([]);
    expect(await deliverVersion(deliverDeps(), 't1', agent.id, 1)).toBe('applied');
    expect(await deliverVersion(deliverDeps(), 't1', agent.id, 1)).toBe('already_applied');
    expect(target.applied.filter((request) => request.agentId === agent.id)).toHaveLength(1);
    const view = await store.readModels.getAgent(agent.id);
    expect(view?.denied).toEqual([{ toolId: 'ops.dispatch', reason: 'not_covered' }]);
    expect(view?.targets).toEqual([expect.objectContaining({ targetId: 't1', appliedVersion: 1 })]);
  });

  it('concurrent recomputes of one sponsor never write two versions from the same base', async () => {
    const { person, agent, group } = await sponsorWithAgent('dave', 'Sales', ['crm.contacts.read']);
    await recomputeSponsor(recomputeDeps(), person.id);
    await changeGroup(people(), scimContext(), group.id, { removeMemberIds: [person.id] }, null);
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => recomputeSponsor(recomputeDeps(), person.id)));
    expect(results.some((result) => result.status === 'fulfilled')).toBe(true);
    for (const result of results) {
      if (result.status === 'rejected') expect((result.reason as { code?: string }).code).toBe('conflict');
    }
    const versions = await database.db.query<{ version: number; n: number }>(
      'select version, count(*) as n from entitlement_versions where agent_id = $1 group by version order by version',
      [agent.id],
    );
    expect(versions.rows).toEqual([{ version: 1, n: 1 }, { version: 2, n: 1 }]);
  });

  it('a late delivery of a superseded version is never pushed over a newer one', async () => {
    const { person, agent, group } = await sponsorWithAgent('erin', 'Sales', ['crm.contacts.read']);
    await recomputeSponsor(recomputeDeps(), person.id);
    await changeGroup(people(), scimContext(), group.id, { removeMemberIds: [person.id] }, null);
    await recomputeSponsor(recomputeDeps(), person.id);
    expect(await deliverVersion(deliverDeps(), 't1', agent.id, 1)).toBe('superseded');
    expect(await deliverVersion(deliverDeps(), 't1', agent.id, 2)).toBe('applied');
    const last = target.applied.filter((request) => request.agentId === agent.id).at(-1);
    expect(last?.effective).toEqual([]);
    expect(last?.granted).toEqual([]);
  });

  it('recomputes a sponsor only when something a grant rule reads changed', async () => {
    const { person } = await sponsorWithAgent('gina', 'Sales', ['crm.contacts.read']);
    await recomputeSponsor(recomputeDeps(), person.id);
    const pending = async () => (await database.db.query<{ n: number }>(
      `select count(*)::int as n from outbox where kind = 'recompute' and person_id = $1 and done_at is null`, [person.id])).rows[0]?.n;
    queue.recomputes.length = 0;
    // A profile update (display name, phone numbers...): committed and recorded, but no entitlement can move.
    await updatePerson(people(), scimContext(), person.id, (current) => ({ ...current, displayName: 'Gina G.', resource: { ...current.resource, displayName: 'Gina G.' } }), null);
    expect(queue.recomputes).toEqual([]);
    expect(await pending()).toBe(0);
    const events = await database.db.query<{ kind: string }>(`select kind from change_events where subject_id = $1 order by received_at desc limit 1`, [person.id]);
    expect(events.rows[0]?.kind).toBe('noop');
    // A rule attribute (title) did change: the sponsor is recomputed.
    await updatePerson(people(), scimContext(), person.id, (current) => ({ ...current, attributes: { ...current.attributes, title: 'Manager' } }), null);
    expect(queue.recomputes).toEqual([person.id]);
    expect(await pending()).toBe(1);
  });

  it('a leaver loses everything, and sandbox ceilings hold', async () => {
    const { person, agent } = await sponsorWithAgent('frank', 'Sales', ['crm.contacts.read', 'crm.contacts.write'], 'sandbox');
    await recomputeSponsor(recomputeDeps(), person.id);
    expect((await store.readModels.getAgent(agent.id))?.effective.map((entitlement) => entitlement.toolId)).toEqual(['crm.contacts.read']);
    await updatePerson(people(), scimContext(), person.id, (current) => ({ ...current, active: false }), null);
    await recomputeSponsor(recomputeDeps(), person.id);
    const view = await store.readModels.getAgent(agent.id);
    expect(view?.effective).toEqual([]);
    expect(view?.reason).toBe('sponsor_inactive');
  });

  it('the outbox relay brings back work lost in a Redis FLUSHALL', async () => {
    const prefix = uniquePrefix('relay');
    const { person, agent } = await sponsorWithAgent('grace', 'Sales', ['crm.contacts.read']);
    const settings = { redisUrl: redis.url, prefix, targets: [{ id: 't1', maxAttempts: 5, backoffMs: 50, concurrency: 2 }] };
    const queues = createBullQueues(settings);
    await queues.enqueueRecompute([person.id]);
    await redis.flushAll();
    expect((await queues.counts()).every((count) => count.waiting === 0)).toBe(true);
    const workers = startBullWorkers({ ...settings, recomputeConcurrency: 2 }, {
      recompute: eachSponsor((personId) => recomputeSponsor({ ...recomputeDeps(), queue: queues }, personId)),
      push: (targetId, agentId, version) => deliverVersion(deliverDeps(), targetId, agentId, version),
    }, () => undefined);
    try {
      const relayed = await relayOutboxOnce({ store, queue: queues, clock: () => new Date(Date.now() + 60_000), logger: silentLogger, graceMs: 0, batchSize: 500 });
      expect(relayed).toBeGreaterThan(0);
      await waitFor(async () => target.applied.some((request) => request.agentId === agent.id), { timeoutMs: 10_000, what: 'delivery after relay' });
      await waitFor(async () => (await store.readModels.storeStatus([])).outbox.pending === 0, { what: 'outbox drained' });
    } finally {
      await workers.close();
      await queues.close();
    }
  });

  it('a transient target failure is retried until applied', async () => {
    const prefix = uniquePrefix('retry');
    const { person, agent } = await sponsorWithAgent('heidi', 'Sales', ['crm.contacts.read']);
    target.failNext = 2;
    const settings = { redisUrl: redis.url, prefix, targets: [{ id: 't1', maxAttempts: 5, backoffMs: 20, concurrency: 1 }] };
    const queues = createBullQueues(settings);
    const outcomes: string[] = [];
    const workers = startBullWorkers({ ...settings, recomputeConcurrency: 1 }, {
      recompute: eachSponsor((personId) => recomputeSponsor({ ...recomputeDeps(), queue: queues }, personId)),
      push: (targetId, agentId, version) => deliverVersion(deliverDeps(), targetId, agentId, version),
    }, (queueName, outcome) => outcomes.push(`${queueName}:${outcome}`));
    try {
      await queues.enqueueRecompute([person.id]);
      await waitFor(async () => target.applied.some((request) => request.agentId === agent.id), { timeoutMs: 10_000, what: 'delivery after retries' });
      expect(outcomes.filter((outcome) => outcome === 'push.t1:retry')).toHaveLength(2);
    } finally {
      await workers.close();
      await queues.close();
    }
  });

  it('keeps a verifiable hash-chained audit log and detects tampering', async () => {
    const sealed = await sealAll(database.db);
    expect(sealed).toBeGreaterThan(10);
    expect(await sealAudit(database.db)).toBe(0);
    const before = await verifyAuditChain(database.db);
    expect(before.entries).toBeGreaterThan(10);
    expect(before.unsealed).toBe(0);
    expect(before.firstBrokenSeq).toBeNull();
    await database.db.query(`update audit_log set actor = 'mallory' where seq = (select min(seq) + 3 from audit_log)`);
    const after = await verifyAuditChain(database.db);
    expect(after.firstBrokenSeq).not.toBeNull();
  });
});
