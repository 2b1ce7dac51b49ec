import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPrivateAddress, targetFetch } from '../../../connectors/shared/http.js';
import type { WebhookConfig } from '../../../connectors/webhook/config.js';
import { createWebhookConnector } from '../../../connectors/webhook/connector.js';
import type { ApplyRequest } from '../../../src/app/ports.js';
import { Secret } from '../../../src/config/secrets.js';
import { AppError } from '../../../src/domain/errors.js';
import { connectorConformance } from './support/conformance.js';
import { entitlement } from './support/memory-delivery.js';
import { StateReceiver } from './support/state-receiver.js';

const OLD = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const NEW = `whsec_${Buffer.from('a brand new rotation secret 0123').toString('base64')}`;

function config(overrides: Partial<WebhookConfig> & { url: string }): WebhookConfig {
  return {
    id: 'hook', kind: 'webhook', secret: new Secret(OLD, 'test'), timeoutMs: 2000, maxAttempts: 3, backoffMs: 10, concurrency: 1,
    maxResponseBytes: 1024, driftIntervalSeconds: 0, allowPrivateNetwork: true, ...overrides,
  };
}

const deps = { fetch: globalThis.fetch, clock: () => new Date() };

connectorConformance('webhook', async () => {
  const receiver = new StateReceiver(OLD);
  await receiver.start();
  return {
    connector: createWebhookConnector(config({ url: receiver.url, readUrl: receiver.readUrl }), deps),
    failNext: (kind, times) => receiver.failNext(kind === 'transient' ? 503 : 410, times),
    close: () => receiver.stop(),
  };
});

const request: ApplyRequest = {
  agentId: '5f0c7c43-4a9e-4a59-8f5c-6f1e3d1f2a10', agentName: 'bot', version: 1, sponsorId: 's', reason: 'joiner',
  effective: [entitlement('crm.contacts.read')], granted: ['crm.contacts.read'], revoked: [], changeEventId: null,
};

describe('webhook hardening', () => {
  const receivers = { old: new StateReceiver(OLD), new: new StateReceiver(NEW) };
  beforeAll(async () => {
    await receivers.old.start();
    await receivers.new.start();
  });
  afterAll(async () => {
    await receivers.old.stop();
    await receivers.new.stop();
  });

  it('signs with both secrets during a rotation, so receivers holding either verify', async () => {
    const rotating = (url: string) => createWebhookConnector(config({ url, nextSecret: new Secret(NEW, 'test') }), deps);
    await rotating(receivers.old.url).apply(request);
    await rotating(receivers.new.url).apply(request);
    expect(receivers.old.state.get(request.agentId)?.tools).toEqual(['crm.contacts.read']);
    expect(receivers.new.state.get(request.agentId)?.tools).toEqual(['crm.contacts.read']);
    expect(receivers.new.signatures.at(-1)?.split(' ')).toHaveLength(2);
    // Without the rotation, a receiver that already moved to the new secret rejects the message for good.
    const error = await createWebhookConnector(config({ url: receivers.new.url }), deps).apply({ ...request, version: 2 }).catch((caught: unknown) => caught);
    expect((error as AppError).code).toBe('target_rejected');
  });

  it.each([
    ['loopback', 'http://127.0.0.1:9/hook'],
    ['IPv6 loopback', 'http://[::1]:9/hook'],
    ['cloud metadata (link-local)', 'http://169.254.169.254/latest'],
    ['RFC 1918', 'http://10.1.2.3/hook'],
    ['localhost by name', 'http://localhost:9/hook'],
  ])('refuses %s unless allowPrivateNetwork is set', async (_label, url) => {
    const error = await createWebhookConnector(config({ url, allowPrivateNetwork: false }), deps).apply(request).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('target_rejected');
    expect((error as AppError).message).toContain('allowPrivateNetwork');
  });

  it('classifies addresses', () => {
    for (const address of ['127.0.0.1', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fc00::1', 'fe80::1', '::ffff:10.0.0.1']) {
      expect(isPrivateAddress(address), address).toBe(true);
    }
    for (const address of ['8.8.8.8', '172.32.0.1', '1.1.1.1', '2001:4860:4860::8888', '::ffff:8.8.8.8']) expect(isPrivateAddress(address), address).toBe(false);
  });

  it('reads at most maxResponseBytes of a response and does not follow redirects', async () => {
    const server = createServer((incoming, response) => {
      if (incoming.url === '/redirect') response.writeHead(302, { location: 'http://169.254.169.254/' }).end();
      else response.writeHead(200).end('x'.repeat(200_000));
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const address = server.address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
    const settings = { id: 'hook', kind: 'webhook', timeoutMs: 2000, maxResponseBytes: 1000, allowPrivateNetwork: true };
    const big = await targetFetch(globalThis.fetch, settings, `${base}/big`, { method: 'GET' });
    expect(big.text.length).toBeLessThanOrEqual(1000);
    const redirect = await targetFetch(globalThis.fetch, settings, `${base}/redirect`, { method: 'GET' });
    expect(redirect.status).toBe(302);
    await new Promise<void>((done) => {
      server.close(() => done());
      server.closeAllConnections();
    });
  });

  it('gives a drift repair its own webhook-id so deduping receivers apply it', async () => {
    const hook = createWebhookConnector(config({ url: receivers.old.url, readUrl: receivers.old.readUrl }), deps);
    const agentId = '6f0c7c43-4a9e-4a59-8f5c-6f1e3d1f2a11';
    await hook.apply({ ...request, agentId, version: 3 });
    receivers.old.state.set(agentId, { version: 3, tools: ['crm.contacts.read', 'crm.contacts.write'] });
    await hook.apply({ ...request, agentId, version: 3 });
    expect((await hook.read({ agentId, agentName: 'bot' }))?.tools).toEqual(['crm.contacts.read', 'crm.contacts.write']);
    await hook.apply({ ...request, agentId, version: 3, repairId: '1' });
    expect((await hook.read({ agentId, agentName: 'bot' }))?.tools).toEqual(['crm.contacts.read']);
  });
});
