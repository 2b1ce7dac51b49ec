import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { call } from '../support/http.js';
import { waitFor } from '../support/ports.js';
import { startPrivateRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';
import { startTether, writeConfig, type TetherProcess } from '../support/tether-process.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const CORE_AGENT = 'urn:ietf:params:scim:schemas:core:2.0:Agent';
const TETHER_AGENT = 'urn:tether:params:scim:schemas:extension:agent:1.0';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/**
 * An identity provider governs an agent over SCIM `/Agents` (draft-wzdk-scim-agent-resource): its owners are
 * its sponsors, and every change reaches a real webhook receiver through the normal recompute pipeline.
 */
describe('SCIM /Agents: owners are sponsors, every write feeds the pipeline', () => {
  let database: TestDatabase;
  let redis: PrivateRedis;
  let receiver: WebhookReceiver;
  let tether: TetherProcess;
  let alice: string;
  let bob: string;
  let agentId: string;

  const scim = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    call(`${tether.url}/scim/v2${path}`, method, tether.scimToken, body, headers);
  const api = (method: string, path: string) => call(`${tether.url}/api/v1${path}`, method, tether.adminToken);
  const deliveryAtLeast = (version: number) =>
    waitFor(async () => {
      const latest = receiver.latestFor(agentId);
      return latest !== undefined && latest.payload.data.version >= version ? latest : undefined;
    }, { timeoutMs: 15_000, what: `webhook delivery of version ${version}` });
  const agentCount = async () => (await api('GET', '/agents?limit=100')).body.items.length as number;
  const agentBody = (overrides: Record<string, unknown> = {}, extension: Record<string, unknown> = {}) => ({
    schemas: [CORE_AGENT, TETHER_AGENT],
    agentUserName: 'pipeline-bot',
    displayName: 'Pipeline bot',
    description: 'Tidies the sales pipeline',
    agentType: 'Assistant',
    externalId: 'idp-agent-1',
    owners: [{ value: alice }],
    [TETHER_AGENT]: { purpose: 'Keeps the sales pipeline tidy', environment: 'production', requestedTools: ['crm.contacts.read', 'crm.contacts.write'], ...extension },
    ...overrides,
  });

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
  - { id: finance, when: [{ group: Finance }], tools: [finance.invoices.read, crm.contacts.read] }
targets:
  - { id: receiver, kind: webhook, url: "${receiver.url}", secret: "file:./hook.secret", backoffMs: 50, maxAttempts: 50, allowPrivateNetwork: true }
`,
      { 'hook.secret': SECRET },
    );
    tether = await startTether({
      configPath,
      databaseUrl: database.url,
      redisUrl: redis.url,
      queuePrefix: uniquePrefix('e2e-agents'),
      env: { TETHER_OUTBOX_RELAY_MS: '300', TETHER_OUTBOX_GRACE_MS: '500' },
    });
    const user = async (userName: string) => (await scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, displayName: userName })).body.id as string;
    alice = await user('alice@example.com');
    bob = await user('bob@example.com');
    expect((await scim('POST', '/Groups', { displayName: 'Sales', members: [{ value: alice }] })).status).toBe(201);
    expect((await scim('POST', '/Groups', { displayName: 'Finance', members: [{ value: bob }] })).status).toBe(201);
  });

  afterAll(async () => {
    const code = await tether?.stop();
    expect(code).toBe(0);
    await receiver?.stop();
    await redis?.stop();
    await database?.drop();
  });

  it('advertises the Agent resource type and both agent schemas', async () => {
    const type = await scim('GET', '/ResourceTypes/Agent');
    expect(type.status).toBe(200);
    expect(type.body).toMatchObject({ endpoint: '/Agents', schema: CORE_AGENT, schemaExtensions: [{ schema: TETHER_AGENT, required: true }] });
    const schemas = await scim('GET', '/Schemas');
    const ids = schemas.body.Resources.map((schema: { id: string }) => schema.id);
    expect(ids).toEqual(expect.arrayContaining([CORE_AGENT, TETHER_AGENT]));
    const core = schemas.body.Resources.find((schema: { id: string }) => schema.id === CORE_AGENT);
    const owners = core.attributes.find((attribute: { name: string }) => attribute.name === 'owners');
    expect(owners).toMatchObject({ type: 'complex', multiValued: true, mutability: 'readWrite', returned: 'default', uniqueness: 'none', caseExact: false });
    const extension = (await scim('GET', `/Schemas/${TETHER_AGENT}`)).body;
    expect(extension.attributes.find((attribute: { name: string }) => attribute.name === 'purpose')).toMatchObject({ required: true, type: 'string' });
    expect((await scim('GET', '/ServiceProviderConfig')).body.agentExtension).toEqual({ supported: true, agentsSupported: true, agenticApplicationsSupported: false });
  });

  it('refuses bad agents with a SCIM error and creates nothing', async () => {
    const cases: [string, unknown][] = [
      ['missing purpose', agentBody({ [TETHER_AGENT]: { environment: 'sandbox', requestedTools: ['crm.contacts.read'] } })],
      ['no extension at all', { schemas: [CORE_AGENT], agentUserName: 'x', owners: [{ value: alice }] }],
      ['unknown tool', agentBody({}, { requestedTools: ['crm.contacts.delete'] })],
      ['owner not found', agentBody({ owners: [{ value: '00000000-0000-4000-8000-000000000000' }] })],
      ['owner not an id', agentBody({ owners: [{ value: 'alice@example.com' }] })],
      ['no owners', agentBody({ owners: [] })],
      ['bad environment', agentBody({}, { environment: 'prod' })],
      ['no name', agentBody({ agentUserName: undefined })],
    ];
    for (const [what, body] of cases) {
      const response = await scim('POST', '/Agents', body);
      expect({ what, status: response.status, scimType: response.body.scimType }).toEqual({ what, status: 400, scimType: 'invalidValue' });
      expect(response.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
    }
    expect(await agentCount()).toBe(0);
    expect((await scim('GET', '/Agents')).body.totalResults).toBe(0);
  });

  it('POST registers the agent with its first owner as sponsor; the webhook receives its entitlements', async () => {
    const created = await scim('POST', '/Agents', agentBody());
    expect(created.status).toBe(201);
    agentId = created.body.id;
    expect(created.headers.get('location')).toBe(`${tether.url}/scim/v2/Agents/${agentId}`);
    expect(created.headers.get('etag')).toMatch(/^W\/"\d+"$/);
    expect(created.body).toMatchObject({
      schemas: [CORE_AGENT, TETHER_AGENT], agentUserName: 'pipeline-bot', name: 'pipeline-bot', displayName: 'Pipeline bot', agentType: 'Assistant',
      externalId: 'idp-agent-1', active: true,
      owners: [{ value: alice, type: 'User', $ref: `${tether.url}/scim/v2/Users/${alice}`, display: 'alice@example.com' }],
      [TETHER_AGENT]: { purpose: 'Keeps the sales pipeline tidy', environment: 'production', state: 'active' },
      meta: { resourceType: 'Agent', location: `${tether.url}/scim/v2/Agents/${agentId}` },
    });

    const delivery = await deliveryAtLeast(1);
    expect(delivery.payload.data.sponsor.id).toBe(alice);
    expect(delivery.payload.data.effective.map((entitlement: { toolId: string }) => entitlement.toolId)).toEqual(['crm.contacts.read', 'crm.contacts.write']);

    const admin = await api('GET', `/agents/${agentId}`);
    expect(admin.status).toBe(200);
    expect(admin.body).toMatchObject({ id: agentId, name: 'pipeline-bot', purpose: 'Keeps the sales pipeline tidy', environment: 'production', state: 'active' });
    expect(admin.body.delegation).toMatchObject({ approver: expect.stringMatching(/^scim_token:/), justification: 'provisioned over SCIM' });

    const read = await scim('GET', `/Agents/${agentId}`);
    expect(read.body.entitlements.map((entitlement: { value: string }) => entitlement.value)).toEqual(['crm.contacts.read', 'crm.contacts.write']);
    const notModified = await scim('GET', `/Agents/${agentId}`, undefined, { 'If-None-Match': read.headers.get('etag') ?? '' });
    expect(notModified.status).toBe(304);

    const duplicate = await scim('POST', '/Agents', agentBody({ externalId: 'other' }));
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.scimType).toBe('uniqueness');
  });

  it('its ETag moves when what SCIM shows moves, not when a recompute changes nothing it shows', async () => {
    // bob's Finance group covers neither requested tool for writing: his agent's recompute grants nothing new.
    const created = await scim('POST', '/Agents', agentBody({ agentUserName: 'quiet-bot', externalId: 'idp-quiet', owners: [{ value: bob }] }, { requestedTools: ['crm.contacts.write'] }));
    expect(created.status).toBe(201);
    const quiet = created.body.id as string;
    await waitFor(async () => receiver.latestFor(quiet), { timeoutMs: 15_000, what: 'the quiet agent\'s first recompute delivered' });
    const read = await scim('GET', `/Agents/${quiet}`);
    expect(read.body.entitlements ?? []).toEqual([]);
    expect(read.headers.get('etag')).toBe(created.headers.get('etag'));
    const conditional = await scim('PATCH', `/Agents/${quiet}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'Quiet bot' }] },
      { 'If-Match': created.headers.get('etag') ?? '' });
    expect(conditional.status).toBe(204);
    expect(conditional.headers.get('etag')).not.toBe(created.headers.get('etag'));
    expect((await scim('DELETE', `/Agents/${quiet}`)).status).toBe(204);
  });

  it('lists and filters agents', async () => {
    const filters: [string, number][] = [
      ['agentUserName eq "PIPELINE-BOT"', 1],
      ['name sw "pipe"', 1],
      ['displayName co "line b"', 1],
      ['externalId eq "idp-agent-1"', 1],
      ['externalId eq "IDP-AGENT-1"', 0],
      ['active eq true and agentType eq "assistant"', 1],
      ['active eq false or agentUserName eq "nobody"', 0],
      [`owners.value eq "${alice}"`, 1],
      [`${TETHER_AGENT}:environment eq "production"`, 1],
      ['description pr', 1],
      // Relations with a value that is not an id: a tool, and the rights the agent holds now.
      [`${TETHER_AGENT}:requestedTools eq "crm.contacts.write"`, 1],
      [`${TETHER_AGENT}:requestedTools eq "finance.invoices.read"`, 0],
      ['entitlements.value eq "crm.contacts.read"', 1],
      [`owners.value eq "not-an-id"`, 0],
    ];
    for (const [filter, expected] of filters) {
      const response = await scim('GET', `/Agents?filter=${encodeURIComponent(filter)}`);
      expect({ filter, status: response.status, total: response.body.totalResults }).toEqual({ filter, status: 200, total: expected });
    }
    const page = await scim('GET', '/Agents?startIndex=2&count=5');
    expect(page.body).toMatchObject({ totalResults: 1, startIndex: 2, itemsPerPage: 0, Resources: [] });
    expect((await scim('GET', `/Agents?filter=${encodeURIComponent('name eq')}`)).body.scimType).toBe('invalidFilter');
  });

  it('PATCH owners to another user recomputes against the new sponsor', async () => {
    const before = receiver.latestFor(agentId)?.payload.data.version as number;
    const patched = await scim('PATCH', `/Agents/${agentId}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: 'owners', value: [{ value: bob }, { value: alice }] }],
    }, { Prefer: 'return=representation' });
    expect(patched.status).toBe(200);
    expect(patched.body.owners.map((owner: { value: string }) => owner.value)).toEqual([bob, alice]);
    const delivery = await deliveryAtLeast(before + 1);
    expect(delivery.payload.data.sponsor.id).toBe(bob);
    expect(delivery.payload.data.effective.map((entitlement: { toolId: string }) => entitlement.toolId)).toEqual(['crm.contacts.read']);
    expect(delivery.payload.data.revoked).toEqual(['crm.contacts.write']);
    const admin = await api('GET', `/agents/${agentId}`);
    expect(admin.body).toMatchObject({ sponsor: { id: bob }, backupSponsorIds: [alice] });
  });

  it('PATCH to an unknown tool or a read-only attribute changes nothing', async () => {
    const etag = (await scim('GET', `/Agents/${agentId}`)).headers.get('etag');
    const unknownTool = await scim('PATCH', `/Agents/${agentId}`, {
      schemas: [PATCH_OP], Operations: [{ op: 'add', path: `${TETHER_AGENT}:requestedTools`, value: ['hr.salaries.read'] }],
    });
    expect(unknownTool.status).toBe(400);
    expect(unknownTool.body.scimType).toBe('invalidValue');
    const readOnly = await scim('PATCH', `/Agents/${agentId}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'entitlements', value: [{ value: 'x' }] }] });
    expect(readOnly.status).toBe(400);
    expect(readOnly.body.scimType).toBe('mutability');
    const state = await scim('PATCH', `/Agents/${agentId}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: `${TETHER_AGENT}:state`, value: 'retired' }] });
    expect(state.status).toBe(400);
    expect(state.body.scimType).toBe('mutability');
    const stale = await scim('PATCH', `/Agents/${agentId}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'x' }] }, { 'If-Match': 'W/"1"' });
    expect(stale.status).toBe(412);
    expect((await scim('GET', `/Agents/${agentId}`)).headers.get('etag')).toBe(etag);
  });

  it('PATCH active false suspends the agent and revokes everything; true resumes it', async () => {
    const before = receiver.latestFor(agentId)?.payload.data.version as number;
    const suspended = await scim('PATCH', `/Agents/${agentId}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
    expect(suspended.status).toBe(204);
    const revoked = await deliveryAtLeast(before + 1);
    expect(revoked.payload.data.effective).toEqual([]);
    expect(revoked.payload.data.reason).toBe('agent_not_active');
    const read = await scim('GET', `/Agents/${agentId}`);
    expect(read.body).toMatchObject({ active: false, [TETHER_AGENT]: { state: 'suspended' } });

    const resumed = await scim('PATCH', `/Agents/${agentId}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: true } }] });
    expect(resumed.status).toBe(204);
    const granted = await deliveryAtLeast(revoked.payload.data.version + 1);
    expect(granted.payload.data.effective.map((entitlement: { toolId: string }) => entitlement.toolId)).toEqual(['crm.contacts.read']);
  });

  it('a PUT that leaves `active` out keeps a suspended agent suspended and a deactivated sponsor deactivated', async () => {
    const created = await scim('POST', '/Agents', agentBody({ agentUserName: 'paused-bot', externalId: 'idp-paused', active: false }));
    expect(created.status).toBe(201);
    const paused = created.body.id as string;
    const withoutActive = agentBody({ agentUserName: 'paused-bot', externalId: 'idp-paused', displayName: 'Paused bot' });
    expect(withoutActive).not.toHaveProperty('active');
    const put = await scim('PUT', `/Agents/${paused}`, withoutActive);
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ displayName: 'Paused bot', active: false, [TETHER_AGENT]: { state: 'suspended' } });
    expect((await scim('DELETE', `/Agents/${paused}`)).status).toBe(204);

    const user = await scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'carol@example.com', active: false });
    expect(user.status).toBe(201);
    const replaced = await scim('PUT', `/Users/${user.body.id}`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'carol@example.com', title: 'Analyst' });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ active: false, title: 'Analyst' });
    // Stated, it is applied.
    const enabled = await scim('PUT', `/Users/${user.body.id}`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'carol@example.com', active: true });
    expect(enabled.body).toMatchObject({ active: true });
  });

  it('PUT replaces the agent; an identical PUT is a no-op', async () => {
    const body = agentBody({ owners: [{ value: alice }], displayName: 'Pipeline bot v2' }, { requestedTools: ['crm.*'] });
    const put = await scim('PUT', `/Agents/${agentId}`, body);
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ displayName: 'Pipeline bot v2', owners: [{ value: alice }], [TETHER_AGENT]: { requestedTools: ['crm.*'] } });
    const admin = await api('GET', `/agents/${agentId}`);
    expect(admin.body.delegation).toMatchObject({ tools: ['crm.*'], justification: 'requested tools changed over SCIM' });
    await waitFor(async () => receiver.latestFor(agentId)?.payload.data.sponsor.id === alice, { what: 'delivery for the new sponsor' });
    await waitFor(async () => (await api('GET', `/agents/${agentId}`)).body.version === receiver.latestFor(agentId)?.payload.data.version, { what: 'recompute settled' });
    const settled = await scim('GET', `/Agents/${agentId}`);
    const again = await scim('PUT', `/Agents/${agentId}`, body, { 'If-Match': settled.headers.get('etag') ?? '' });
    expect(again.status).toBe(200);
    expect(again.headers.get('etag')).toBe(settled.headers.get('etag'));
  });

  it('DELETE retires the agent: rights revoked through the pipeline, 404 afterwards, history kept', async () => {
    await waitFor(async () => (receiver.latestFor(agentId)?.payload.data.effective.length ?? 0) > 0, { what: 'agent holds rights before DELETE' });
    const before = receiver.latestFor(agentId)?.payload.data.version as number;
    const deleted = await scim('DELETE', `/Agents/${agentId}`);
    expect(deleted.status).toBe(204);
    const revoked = await deliveryAtLeast(before + 1);
    expect(revoked.payload.data.effective).toEqual([]);
    expect(revoked.payload.data.revoked.length).toBeGreaterThan(0);
    expect((await scim('GET', `/Agents/${agentId}`)).status).toBe(404);
    expect((await scim('DELETE', `/Agents/${agentId}`)).status).toBe(404);
    expect((await scim('GET', '/Agents')).body.totalResults).toBe(0);
    const admin = await api('GET', `/agents/${agentId}`);
    expect(admin.body.state).toBe('retired');
    const events = await api('GET', `/change-events?limit=50&subjectId=${agentId}`);
    const kinds = events.body.items.map((event: { kind: string }) => event.kind);
    expect(kinds).toEqual(expect.arrayContaining(['agent_registered', 'agent_updated', 'agent_suspended', 'agent_resumed', 'agent_retired']));
    // A new agent may take the retired one's name.
    expect((await scim('POST', '/Agents', agentBody())).status).toBe(201);
  });

  it('is covered by Bulk (bulkId owners included) and by the root /.search', async () => {
    const bulk = await scim('POST', '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        { method: 'POST', path: '/Agents', bulkId: 'bot', data: agentBody({ agentUserName: 'bulk-bot', externalId: 'idp-bulk-bot', owners: [{ value: 'bulkId:owner' }] }) },
        { method: 'POST', path: '/Users', bulkId: 'owner', data: { userName: 'bulk-owner@example.com' } },
        { method: 'PATCH', path: '/Agents/bulkId:bot', data: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'displayName', value: 'Bulk bot' }] } },
      ],
    });
    expect(bulk.status).toBe(200);
    const [agent, owner, patch] = bulk.body.Operations as { status: string; location?: string }[];
    expect(owner?.status).toBe('201');
    expect(agent?.status).toBe('201');
    expect(patch?.status).toMatch(/^20[04]$/);
    const created = await scim('GET', new URL(agent?.location ?? '').pathname.replace('/scim/v2', ''));
    expect(created.body).toMatchObject({ agentUserName: 'bulk-bot', displayName: 'Bulk bot', owners: [{ value: owner?.location?.split('/').at(-1) }] });

    const search = await scim('POST', '/.search', { filter: 'externalId eq "idp-bulk-bot"' });
    expect(search.status).toBe(200);
    expect(search.body.totalResults).toBe(1);
    expect(search.body.Resources[0].meta.resourceType).toBe('Agent');
  });

  it('refuses unauthenticated requests', async () => {
    const unauthenticated = await call(`${tether.url}/scim/v2/Agents`, 'GET', null);
    expect(unauthenticated.status).toBe(401);
  });
});
