import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenFgaConfig } from '../../../connectors/openfga/config.js';
import { createOpenFgaConnector } from '../../../connectors/openfga/connector.js';
import { Secret } from '../../../src/config/secrets.js';
import { connectorConformance } from './support/conformance.js';
import { FakeOpenFga } from './support/fake-openfga.js';
import { deliver, MemoryDeliveryStore } from './support/memory-delivery.js';

const STORE = '01HTETHERS0000000000000000';
const TOKEN = 'fga-api-token-0123456789';

function fgaConfig(apiUrl: string, overrides: Partial<OpenFgaConfig> = {}): OpenFgaConfig {
  return {
    id: 'fga', kind: 'openfga', apiUrl, storeId: STORE, credentials: { method: 'api_token', token: new Secret(TOKEN, 'test') },
    agentType: 'agent', toolType: 'tool', relation: 'can_use', timeoutMs: 3000, maxResponseBytes: 1_048_576, allowPrivateNetwork: true,
    maxAttempts: 4, backoffMs: 20, concurrency: 2, driftIntervalSeconds: 0, ...overrides,
  };
}

const clock = { clock: () => new Date() };

connectorConformance('openfga (official SDK against a fake of the tuple endpoints)', async () => {
  const fake = new FakeOpenFga(STORE, TOKEN);
  await fake.start();
  return {
    connector: createOpenFgaConnector(fgaConfig(fake.url), clock),
    failNext: (kind, times) => fake.failNext(kind === 'transient' ? 503 : 400, times),
    close: () => fake.stop(),
  };
});

describe('openfga: tuples in the store', () => {
  const fake = new FakeOpenFga(STORE, TOKEN);
  beforeAll(() => fake.start());
  afterAll(() => fake.stop());

  it('writes agent:{id} can_use tool:{id} tuples, removes extra ones, and pages through large holdings', async () => {
    const connector = createOpenFgaConnector(fgaConfig(fake.url), clock);
    const store = new MemoryDeliveryStore();
    const agentId = store.addAgent('fga-bot');
    const many = Array.from({ length: 230 }, (_, index) => `bulk.tool${String(index).padStart(3, '0')}.read`);
    await deliver(store, connector, agentId, store.addVersion(agentId, many));
    expect(fake.tuples.get(`agent:${agentId}#can_use@tool:${many[0]}`)).toEqual({ user: `agent:${agentId}`, relation: 'can_use', object: `tool:${many[0]}` });
    expect((await connector.read({ agentId, agentName: 'fga-bot' }))?.tools).toEqual(many);
    fake.add({ user: `agent:${agentId}`, relation: 'can_use', object: 'tool:hr.payroll.run' });
    await deliver(store, connector, agentId, store.addVersion(agentId, ['crm.contacts.read']));
    expect((await connector.read({ agentId, agentName: 'fga-bot' }))?.tools).toEqual(['crm.contacts.read']);
    const sizes = (fake.writeBodies as { writes?: { tuple_keys: unknown[]; on_duplicate: string }; deletes?: { tuple_keys: unknown[]; on_missing: string } }[])
      .map((body) => ({ writes: body.writes?.tuple_keys.length ?? 0, deletes: body.deletes?.tuple_keys.length ?? 0, ignore: body.writes?.on_duplicate ?? body.deletes?.on_missing }));
    expect(sizes).toEqual([
      { writes: 100, deletes: 0, ignore: 'ignore' }, { writes: 100, deletes: 0, ignore: 'ignore' }, { writes: 30, deletes: 0, ignore: 'ignore' },
      { writes: 0, deletes: 100, ignore: 'ignore' }, { writes: 0, deletes: 100, ignore: 'ignore' }, { writes: 0, deletes: 31, ignore: 'ignore' },
      { writes: 1, deletes: 0, ignore: 'ignore' },
    ]);
  });

  it('treats a wrong token as permanent, a rate limit as retryable, and refuses a private apiUrl unless allowed', async () => {
    const wrong = createOpenFgaConnector(fgaConfig(fake.url, { credentials: { method: 'api_token', token: new Secret('nope', 'test') } }), clock);
    await expect(wrong.check()).rejects.toMatchObject({ code: 'target_rejected' });
    fake.failNext(429, 1);
    await expect(createOpenFgaConnector(fgaConfig(fake.url), clock).check()).rejects.toMatchObject({ code: 'target_unavailable', retryable: true });
    const guarded = createOpenFgaConnector(fgaConfig(fake.url, { allowPrivateNetwork: false }), clock);
    await expect(guarded.check()).rejects.toMatchObject({ code: 'target_rejected' });
  });
});
