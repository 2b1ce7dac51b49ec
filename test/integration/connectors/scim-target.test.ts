import { afterAll, describe, expect, it } from 'vitest';
import type { ScimTargetConfig } from '../../../connectors/scim-target/config.js';
import { createScimTargetConnector } from '../../../connectors/scim-target/connector.js';
import { Secret } from '../../../src/config/secrets.js';
import { call } from '../../support/http.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { SHARED_REDIS_URL, uniquePrefix } from '../../support/redis.js';
import { startTether, writeConfig, type TetherProcess } from '../../support/tether-process.js';
import { connectorConformance } from './support/conformance.js';
import { FaultProxy } from './support/fault-proxy.js';
import { deliver, MemoryDeliveryStore } from './support/memory-delivery.js';

const CLIENT_SECRET = 'downstream-client-secret-0123456789abcdef';

/**
 * Outbound SCIM against a second, real Tether process (its SCIM server: /Users, /Groups, OAuth2 client
 * credentials), behind a fault-injecting proxy. Started once for the file.
 */
let downstream: { database: TestDatabase; tether: TetherProcess; proxy: FaultProxy } | null = null;

async function startDownstream() {
  if (downstream !== null) return downstream;
  const database = await createTestDatabase({ migrate: false });
  const configPath = writeConfig(
    `
sources: [{ id: downstream, kind: scim }]
scimAuth:
  - { id: tether-upstream, type: oauth2, clientId: tether-upstream, clientSecret: "file:./client.secret" }
`,
    { 'client.secret': CLIENT_SECRET },
  );
  const tether = await startTether({ command: 'serve', configPath, databaseUrl: database.url, redisUrl: SHARED_REDIS_URL, queuePrefix: uniquePrefix('scim-downstream') });
  const proxy = new FaultProxy(tether.url);
  await proxy.start();
  downstream = { database, tether, proxy };
  return downstream;
}

function scimConfig(base: string, overrides: Partial<ScimTargetConfig>): ScimTargetConfig {
  return {
    id: 'downstream', kind: 'scim', baseUrl: `${base}/scim/v2`,
    auth: { type: 'oauth2', tokenUrl: `${base}/scim/v2/oauth/token`, clientId: 'tether-upstream', clientSecret: new Secret(CLIENT_SECRET, 'test') },
    mapping: { resource: 'Users', userName: 'agent.{agentId}', tools: 'groups', groupName: 'tether-{tool}' },
    timeoutMs: 5000, maxResponseBytes: 1_048_576, allowPrivateNetwork: true, maxAttempts: 4, backoffMs: 20, concurrency: 2, driftIntervalSeconds: 0,
    ...overrides,
  };
}

const deps = { fetch: globalThis.fetch, clock: () => new Date() };
const faults = (proxy: FaultProxy) => (kind: 'transient' | 'permanent', times: number) =>
  proxy.failNext(kind === 'transient' ? 503 : 403, times, kind === 'transient' ? { 'retry-after': '0' } : {});

afterAll(async () => {
  await downstream?.proxy.stop();
  await downstream?.tether.stop();
  await downstream?.database.drop();
});

connectorConformance('scim (Users + group memberships, OAuth2 client credentials)', async () => {
  const { proxy } = await startDownstream();
  return { connector: createScimTargetConnector(scimConfig(proxy.url, {}), deps), failNext: faults(proxy), close: async () => undefined };
});

connectorConformance('scim (Users + entitlements, bearer token)', async () => {
  const { proxy, tether } = await startDownstream();
  const connector = createScimTargetConnector(
    scimConfig(proxy.url, {
      auth: { type: 'bearer', token: new Secret(tether.scimToken, 'test') },
      mapping: { resource: 'Users', userName: 'ent.{agentId}', tools: 'entitlements', groupName: 'tether-{tool}' },
    }),
    deps,
  );
  return { connector, failNext: faults(proxy), close: async () => undefined };
});

describe('scim target: what the downstream service provider holds', () => {
  it('provisions the agent as a User keyed by externalId, its tools as members of mapped groups', async () => {
    const { proxy, tether } = await startDownstream();
    const store = new MemoryDeliveryStore();
    const connector = createScimTargetConnector(scimConfig(proxy.url, {}), deps);
    const agentId = store.addAgent('invoice-bot');
    await deliver(store, connector, agentId, store.addVersion(agentId, ['erp.invoices.read', 'erp.invoices.write']));
    const scim = (path: string) => call(`${tether.url}/scim/v2${path}`, 'GET', tether.scimToken);
    const users = await scim(`/Users?filter=${encodeURIComponent(`externalId eq "${agentId}"`)}`);
    expect(users.body.totalResults).toBe(1);
    expect(users.body.Resources[0]).toMatchObject({ userName: `agent.${agentId}`, displayName: 'invoice-bot', active: true });
    const group = await scim(`/Groups?filter=${encodeURIComponent('displayName eq "tether-erp.invoices.write"')}`);
    expect(group.body.Resources[0].members).toEqual([expect.objectContaining({ value: users.body.Resources[0].id })]);
    // A right added by hand downstream is seen by read-back and removed by the next apply of the version.
    await call(`${tether.url}/scim/v2/Groups`, 'POST', tether.scimToken, {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'tether-ops.dispatch', members: [{ value: users.body.Resources[0].id }],
    });
    expect((await connector.read({ agentId, agentName: 'invoice-bot' }))?.tools).toEqual(['erp.invoices.read', 'erp.invoices.write', 'ops.dispatch']);
    await connector.apply({ agentId, agentName: 'invoice-bot', version: 1, sponsorId: 's', effective: (await store.version(agentId, 1))?.entitlements ?? [], granted: [], revoked: [], reason: 'repair', changeEventId: null });
    expect((await connector.read({ agentId, agentName: 'invoice-bot' }))?.tools).toEqual(['erp.invoices.read', 'erp.invoices.write']);
  });

  it('refuses bad credentials as a permanent failure', async () => {
    const { proxy } = await startDownstream();
    const connector = createScimTargetConnector(scimConfig(proxy.url, { auth: { type: 'bearer', token: new Secret('tth_wrong_token_0123456789', 'test') } }), deps);
    const error = await connector.check().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'target_rejected', retryable: false });
  });
});
