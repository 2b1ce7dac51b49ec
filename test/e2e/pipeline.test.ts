import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIFT_QUEUE, GOVERNANCE_QUEUE } from '../../jobs/queues.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { call } from '../support/http.js';
import { waitFor } from '../support/ports.js';
import { startPrivateRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';
import { startTether, writeConfig, type TetherProcess } from '../support/tether-process.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/**
 * The foundation scenario, end to end over real HTTP between processes: an IdP pushes a user and a group
 * over SCIM, an admin registers an agent, a real webhook receiver gets the signed entitlements, and every
 * removal from the group, deactivation and Redis loss is followed by the right delivery.
 */
describe('tether start: SCIM → recompute → webhook', () => {
  let database: TestDatabase;
  let redis: PrivateRedis;
  let receiver: WebhookReceiver;
  let tether: TetherProcess;
  let userId: string;
  let groupId: string;
  let agentId: string;
  const queuePrefix = uniquePrefix('e2e');

  const scim = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    call(`${tether.url}/scim/v2${path}`, method, tether.scimToken, body, headers);
  const api = (method: string, path: string, body?: unknown) => call(`${tether.url}/api/v1${path}`, method, tether.adminToken, body);
  const latestVersion = async () => (await api('GET', `/agents/${agentId}`)).body.version as number;
  const deliveryAtLeast = (version: number) =>
    waitFor(async () => {
      const latest = receiver.latestFor(agentId);
      return latest !== undefined && latest.payload.data.version >= version ? latest : undefined;
    }, { timeoutMs: 15_000, what: `webhook delivery of version ${version}` });

  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
    redis = await startPrivateRedis();
    receiver = new WebhookReceiver(SECRET);
    await receiver.start();
    const configPath = writeConfig(
      `
sources: [{ id: acme, kind: scim }]
tools:
  - { id: crm.contacts.read, system: crm, risk: read }
  - { id: crm.contacts.write, system: crm, risk: write }
  - { id: finance.invoices.read, system: erp, risk: read }
grantRules:
  - { id: sales-crm, when: [{ group: Sales }], tools: ["crm.*"] }
  - { id: finance, when: [{ attribute: department, in: [Finance] }], tools: [finance.invoices.read] }
targets:
  - { id: receiver, kind: webhook, url: "${receiver.url}", secret: "file:./hook.secret", backoffMs: 50, maxAttempts: 50, allowPrivateNetwork: true }
# The foundation scenario: write growth applies at once here; confirmation of growth is governance's (test/integration/governance*.test.ts).
policy: { growthNeedsConfirmation: { write: false } }
`,
      { 'hook.secret': SECRET },
    );
    tether = await startTether({
      configPath,
      databaseUrl: database.url,
      redisUrl: redis.url,
      queuePrefix,
      env: { TETHER_OUTBOX_RELAY_MS: '300', TETHER_OUTBOX_GRACE_MS: '500' },
    });
  });

  afterAll(async () => {
    const code = await tether?.stop();
    expect(code).toBe(0);
    await receiver?.stop();
    await redis?.stop();
    await database?.drop();
  });

  it('schedules no drift check for a webhook target that cannot be read back (it would only fail every interval)', async () => {
    const schedulers = async (name: string) => {
      const queue = new Queue(name, { connection: { url: redis.url }, prefix: queuePrefix });
      try {
        return (await queue.getJobSchedulers()).map((scheduler) => scheduler.key);
      } finally {
        await queue.close();
      }
    };
    // The governance sweep is scheduled in the same startup step: once it is there, scheduling has run.
    await waitFor(async () => (await schedulers(GOVERNANCE_QUEUE)).length > 0, { what: 'startup job schedulers' });
    expect(await schedulers(DRIFT_QUEUE)).toEqual([]);
  });

  it('grants on join: user + group over SCIM, agent registered, signed webhook with provenance', async () => {
    const user = await scim('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'alice@example.com',
      externalId: 'okta-00u1',
      active: true,
      password: 'never-stored-Pa55',
      name: { givenName: 'Alice', familyName: 'Archer' },
    });
    expect(user.status).toBe(201);
    expect(user.body.password).toBeUndefined();
    userId = user.body.id;
    const group = await scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Sales', members: [{ value: userId }] });
    expect(group.status).toBe(201);
    groupId = group.body.id;
    const found = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "ALICE@example.com"')}`);
    expect(found.body.totalResults).toBe(1);
    expect(found.body.Resources[0].groups).toEqual([expect.objectContaining({ value: groupId, display: 'Sales' })]);

    const registered = await api('POST', '/agents', {
      name: 'pipeline-bot',
      purpose: 'Keeps the sales pipeline tidy',
      environment: 'production',
      sponsor: { sourceId: 'acme', userName: 'alice@example.com' },
      requestedTools: ['crm.contacts.read', 'crm.contacts.write', 'finance.invoices.read'],
      delegation: { approver: 'bob@example.com', justification: 'Q3 pipeline clean-up' },
    });
    expect(registered.status).toBe(201);
    agentId = registered.body.id;

    const delivery = await deliveryAtLeast(1);
    expect(delivery.payload.type).toBe('agent.entitlements.changed');
    expect(delivery.payload.data.effective.map((entitlement) => entitlement.toolId)).toEqual(['crm.contacts.read', 'crm.contacts.write']);
    expect(delivery.payload.data.granted).toEqual(['crm.contacts.read', 'crm.contacts.write']);
    expect(delivery.payload.data.sponsor.id).toBe(userId);
    expect(delivery.payload.data.effective[0]?.provenance).toMatchObject({ ruleId: 'sales-crm', via: { kind: 'group', groupName: 'Sales' } });
    expect(receiver.rejectedSignatures).toHaveLength(0);

    const agent = await api('GET', `/agents/${agentId}`);
    expect(agent.body.effective.map((entitlement: { toolId: string }) => entitlement.toolId)).toEqual(['crm.contacts.read', 'crm.contacts.write']);
    expect(agent.body.denied).toEqual([{ toolId: 'finance.invoices.read', reason: 'not_covered' }]);
    await waitFor(async () => (await api('GET', `/agents/${agentId}`)).body.targets[0]?.appliedVersion === 1, { what: 'applied version recorded' });
  });

  it('revokes on group removal within milliseconds of the SCIM PATCH', async () => {
    const before = await latestVersion();
    const sent = Date.now();
    const patch = await scim('PATCH', `/Groups/${groupId}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'remove', path: `members[value eq "${userId}"]` }],
    });
    expect(patch.status).toBe(204);
    expect(patch.headers.get('etag')).toMatch(/^W\/"\d+"$/);
    const delivery = await deliveryAtLeast(before + 1);
    expect(delivery.payload.data.effective).toEqual([]);
    expect(delivery.payload.data.revoked).toEqual(['crm.contacts.read', 'crm.contacts.write']);
    expect(delivery.receivedAt - sent).toBeLessThan(5_000);
  });

  it('grants again when the sponsor rejoins, and revokes everything on active: false', async () => {
    const rejoin = await scim('PATCH', `/Groups/${groupId}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'add', path: 'members', value: [{ value: userId }] }],
    });
    expect(rejoin.status).toBe(204);
    const granted = await deliveryAtLeast((await latestVersion()) > 2 ? await latestVersion() : 3);
    expect(granted.payload.data.granted).toEqual(['crm.contacts.read', 'crm.contacts.write']);

    const deactivate = await scim('PATCH', `/Users/${userId}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
    }, { Prefer: 'return=representation' });
    expect(deactivate.status).toBe(200);
    expect(deactivate.body.active).toBe(false);
    const revoked = await deliveryAtLeast(granted.payload.data.version + 1);
    expect(revoked.payload.data.effective).toEqual([]);
    expect(revoked.payload.data.reason).toBe('sponsor_inactive');
  });

  it('rejects invalid SCIM input with a SCIM error and changes nothing', async () => {
    const eventsBefore = (await api('GET', '/change-events?limit=500')).body.items.length;
    const missingUserName = await scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], active: true });
    expect(missingUserName.status).toBe(400);
    expect(missingUserName.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '400', scimType: 'invalidValue' });
    const malformed = await scim('POST', '/Users', '{"userName": ');
    expect(malformed.status).toBe(400);
    expect(malformed.body.scimType).toBe('invalidSyntax');
    const badFilter = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq')}`);
    expect(badFilter.status).toBe(400);
    expect(badFilter.body.scimType).toBe('invalidFilter');
    const badOp = await scim('PATCH', `/Groups/${groupId}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'merge', path: 'members', value: [{ value: userId }] }],
    });
    expect(badOp.status).toBe(400);
    expect(badOp.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
    const duplicate = await scim('POST', '/Users', { userName: 'Alice@Example.com' });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.scimType).toBe('uniqueness');
    const unauthenticated = await call(`${tether.url}/scim/v2/Users`, 'GET', 'tth_scim_wrong_token_value_1234');
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get('www-authenticate')).toContain('Bearer');
    const group = await scim('GET', `/Groups/${groupId}`);
    expect(group.body.members).toHaveLength(1);
    const users = await scim('GET', '/Users');
    expect(users.body.totalResults).toBe(1);
    expect((await api('GET', '/change-events?limit=500')).body.items.length).toBe(eventsBefore);
  });

  it('loses no delivery when Redis is flushed while the target is down', async () => {
    receiver.failWith = 503;
    const attemptsBefore = receiver.attempts;
    const reactivate = await scim('PATCH', `/Users/${userId}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', value: { active: true } }],
    });
    expect(reactivate.status).toBe(204);
    await waitFor(async () => receiver.attempts > attemptsBefore, { what: 'a failed delivery attempt' });
    await redis.flushAll();
    receiver.failWith = null;
    const delivered = await waitFor(async () => {
      const latest = receiver.latestFor(agentId);
      return latest?.payload.data.effective.length === 2 ? latest : undefined;
    }, { timeoutMs: 20_000, what: 'delivery after FLUSHALL' });
    expect(delivered.payload.data.granted).toEqual(['crm.contacts.read', 'crm.contacts.write']);
    const status = await waitFor(async () => {
      const current = await api('GET', '/status');
      return current.body.outbox.pending === 0 ? current : undefined;
    }, { what: 'outbox drained' });
    expect(status.body.targets).toEqual([{ id: 'receiver', kind: 'webhook', behind: 0 }]);
  });

  it('records per-event latency and exposes it in the admin API and /metrics', async () => {
    const events = await api('GET', `/change-events?subjectId=${groupId}`);
    const removal = events.body.items.find((event: { kind: string; detail: { membersRemoved?: number } }) => event.detail.membersRemoved === 1);
    expect(removal).toBeDefined();
    expect(removal.latencyMs.compute).toBeGreaterThanOrEqual(0);
    expect(removal.deliveries).toEqual([expect.objectContaining({ targetId: 'receiver', agentId })]);
    expect(removal.latencyMs.lastApplied).toBeGreaterThanOrEqual(removal.latencyMs.compute);
    const metrics = await fetch(`${tether.url}/metrics`).then((response) => response.text());
    expect(metrics).toMatch(/tether_propagation_seconds_count\{target="receiver"\} [1-9]/);
    const openapi = await call(`${tether.url}/api/v1/openapi.json`, 'GET', null);
    expect(openapi.body.openapi).toBe('3.1.0');
    expect(Object.keys(openapi.body.paths)).toEqual(expect.arrayContaining(['/agents', '/agents/{id}', '/change-events', '/status']));
  });

  it('never logs secrets or tokens', () => {
    const output = tether.output();
    expect(output).not.toContain(tether.adminToken);
    expect(output).not.toContain(tether.scimToken);
    expect(output).not.toContain(SECRET);
    expect(output).not.toContain('never-stored-Pa55');
  });
});
