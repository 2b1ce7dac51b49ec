import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/http.js';
import { waitFor } from '../support/ports.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { SHARED_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { CLI, startTether, writeConfig, type TetherProcess } from '../support/tether-process.js';

const CLIENT_SECRET = 'downstream-client-secret-0123456789abcdef';

/**
 * Two real Tether processes: A computes an agent's rights and provisions them over outbound SCIM into B (a
 * SCIM service provider, OAuth2 client credentials). Rights changed by hand at B are put back by A's drift
 * check; a revocation at A is applied and verified at B, and timed.
 */
describe('targets: outbound SCIM into a second Tether, drift repair, revocation timing', () => {
  let databases: TestDatabase[] = [];
  let upstream: TetherProcess;
  let downstream: TetherProcess;
  let agentId: string;
  let aliceId: string;
  let salesId: string;

  const api = (method: string, path: string, body?: unknown) => call(`${upstream.url}/api/v1${path}`, method, upstream.adminToken, body, body === undefined ? {} : { 'content-type': 'application/json' });
  const scimA = (method: string, path: string, body?: unknown) => call(`${upstream.url}/scim/v2${path}`, method, upstream.scimToken, body);
  const scimB = (method: string, path: string, body?: unknown) => call(`${downstream.url}/scim/v2${path}`, method, downstream.scimToken, body);
  const downstreamUser = async () => (await scimB('GET', `/Users?filter=${encodeURIComponent(`externalId eq "${agentId}"`)}`)).body.Resources?.[0];
  const toolsAtB = async (): Promise<string[]> => {
    const user = await downstreamUser();
    return ((user?.groups ?? []) as { display: string }[]).map((group) => group.display.replace(/^tether-/, '')).sort();
  };
  const groupAtB = async (name: string) => (await scimB('GET', `/Groups?filter=${encodeURIComponent(`displayName eq "${name}"`)}`)).body.Resources?.[0];

  beforeAll(async () => {
    databases = await Promise.all([createTestDatabase({ migrate: false }), createTestDatabase({ migrate: false })]);
    const [databaseA, databaseB] = databases as [TestDatabase, TestDatabase];
    downstream = await startTether({
      command: 'serve',
      configPath: writeConfig(`
sources: [{ id: apps, kind: scim }]
scimAuth:
  - { id: tether-upstream, type: oauth2, clientId: tether-upstream, clientSecret: "file:./client.secret" }
`, { 'client.secret': CLIENT_SECRET }),
      databaseUrl: databaseB.url, redisUrl: SHARED_REDIS_URL, queuePrefix: uniquePrefix('e2e-downstream'),
    });
    upstream = await startTether({
      configPath: writeConfig(`
sources: [{ id: acme, kind: scim }]
tools:
  - { id: crm.contacts.read, system: crm, risk: read }
  - { id: crm.contacts.write, system: crm, risk: write }
  - { id: ops.dispatch, system: ops, risk: orchestrate }
grantRules:
  - { id: sales-crm, when: [{ group: Sales }], tools: ["crm.*"] }
policy: { growthNeedsConfirmation: { write: false } }
targets:
  - id: apps
    kind: scim
    baseUrl: "${downstream.url}/scim/v2"
    auth: { type: oauth2, tokenUrl: "${downstream.url}/scim/v2/oauth/token", clientId: tether-upstream, clientSecret: "file:./client.secret" }
    mapping: { resource: Users, tools: groups, groupName: "tether-{tool}" }
    allowPrivateNetwork: true
    backoffMs: 50
    rateLimit: { max: 100, perMs: 1000 }
    driftIntervalSeconds: 3600
`, { 'client.secret': CLIENT_SECRET }),
      databaseUrl: databaseA.url, redisUrl: SHARED_REDIS_URL, queuePrefix: uniquePrefix('e2e-upstream'),
      env: { TETHER_OUTBOX_RELAY_MS: '300', TETHER_OUTBOX_GRACE_MS: '500' },
    });
  });

  afterAll(async () => {
    expect(await upstream?.stop()).toBe(0);
    await downstream?.stop();
    await Promise.all(databases.map((database) => database.drop()));
  });

  it('provisions the agent into the downstream SCIM service provider and verifies it by read-back', async () => {
    aliceId = (await scimA('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'alice@example.com', active: true })).body.id;
    salesId = (await scimA('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Sales', members: [{ value: aliceId }] })).body.id;
    const registered = await api('POST', '/agents', {
      name: 'pipeline-bot', purpose: 'Keeps the pipeline tidy', environment: 'production',
      sponsor: { sourceId: 'acme', userName: 'alice@example.com' },
      requestedTools: ['crm.contacts.read', 'crm.contacts.write', 'ops.dispatch'],
      delegation: { approver: 'bob@example.com', justification: 'pipeline clean-up' },
    });
    expect(registered.status).toBe(201);
    agentId = registered.body.id;
    await waitFor(async () => (await toolsAtB()).join() === 'crm.contacts.read,crm.contacts.write', { timeoutMs: 15_000, what: 'provisioned at B' });
    expect(await downstreamUser()).toMatchObject({ userName: `agent.${agentId}`, displayName: 'pipeline-bot' });
    const target = await waitFor(async () => {
      const found = (await api('GET', '/targets/apps')).body;
      return found.verified === 1 ? found : undefined;
    }, { what: 'verified at B' });
    expect(target).toMatchObject({ id: 'apps', kind: 'scim', canRead: true, agents: 1, deadLetters: 0 });
  });

  it('drift check: a right added by hand is removed, a right deleted by hand is restored, both audited and counted', async () => {
    const user = await downstreamUser();
    await scimB('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'tether-ops.dispatch', members: [{ value: user.id }] });
    const write = await groupAtB('tether-crm.contacts.write');
    const removed = await scimB('PATCH', `/Groups/${write.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'remove', path: `members[value eq "${user.id}"]` }],
    });
    expect(removed.status).toBe(204);
    expect(await toolsAtB()).toEqual(['crm.contacts.read', 'ops.dispatch']);

    const queued = await api('POST', '/targets/apps/drift', {});
    expect(queued.status).toBe(202);
    await waitFor(async () => (await toolsAtB()).join() === 'crm.contacts.read,crm.contacts.write', { timeoutMs: 15_000, what: 'drift repaired at B' });
    const run = await waitFor(async () => (await api('GET', '/targets/apps/drift-runs')).body.items.find((item: { repaired: number }) => item.repaired > 0), { what: 'drift run recorded' });
    expect(run).toMatchObject({ removed: 1, restored: 1, error: null, trigger: expect.stringContaining('admin_token') });
    const metrics = await (await fetch(`${upstream.url}/metrics`)).text();
    expect(metrics).toMatch(/tether_drift_repairs_total\{target="apps",kind="removed"\} 1/);
    expect(metrics).toMatch(/tether_drift_repairs_total\{target="apps",kind="restored"\} 1/);

    // On demand for one agent: nothing to repair now, and the report says so.
    const report = await api('POST', '/targets/apps/drift', { agentId });
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ checked: 1, repaired: 0, removed: 0, restored: 0 });
  });

  it('a leaver revokes at B at once; revocation applied and verified timings per target in the API and /metrics', async () => {
    const patched = await scimA('PATCH', `/Groups/${salesId}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'remove', path: `members[value eq "${aliceId}"]` }],
    });
    expect(patched.status).toBe(204);
    await waitFor(async () => (await toolsAtB()).length === 0, { timeoutMs: 15_000, what: 'revoked at B' });
    const target = await waitFor(async () => {
      const found = (await api('GET', '/targets/apps')).body;
      return found.revocationSeconds.verified.count >= 1 ? found : undefined;
    }, { what: 'revocation timing' });
    expect(target.revocationSeconds.applied.p50).toBeGreaterThan(0);
    expect(target.revocationSeconds.applied.p99).toBeLessThan(15);
    expect(target.revocationSeconds.verified.p95).toBeGreaterThanOrEqual(target.revocationSeconds.applied.p50);
    const metrics = await (await fetch(`${upstream.url}/metrics`)).text();
    expect(metrics).toMatch(/tether_revocation_seconds\{quantile="0.99",target="apps",stage="verified"\} \d/);
    const dead = await api('GET', '/targets/apps/dead-letters');
    expect(dead.body).toEqual({ items: [], total: 0 });
    expect((await api('POST', '/targets/apps/dead-letters/retry-all')).body).toEqual({ retried: 0 });
    expect((await api('POST', '/targets/apps/dead-letters/nope.v1/retry')).status).toBe(404);
  });

  it('the CLI lists targets, retries dead letters and runs a drift check for one agent', async () => {
    const tether = (...args: string[]) =>
      promisify(execFile)(process.execPath, [CLI, ...args], { env: { PATH: process.env['PATH'] ?? '', TETHER_URL: upstream.url, TETHER_TOKEN: upstream.adminToken } });
    expect(JSON.parse((await tether('targets')).stdout).items[0]).toMatchObject({ id: 'apps', kind: 'scim' });
    expect((await tether('dead-letters', 'apps')).stdout).toContain('0 dead letter(s)');
    expect((await tether('retry', 'apps', '--all')).stdout).toContain('0 dead letter(s) queued again');
    expect(JSON.parse((await tether('drift', 'apps', '--agent', agentId)).stdout)).toMatchObject({ targetId: 'apps', checked: 1, repaired: 0 });
  });
});
