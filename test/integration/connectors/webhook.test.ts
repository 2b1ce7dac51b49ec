import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookConnector, parseRetryAfter } from '../../../connectors/webhook/connector.js';
import { webhookPayload } from '../../../connectors/webhook/payload.js';
import type { ApplyRequest } from '../../../src/app/ports.js';
import { Secret } from '../../../src/config/secrets.js';
import { AppError } from '../../../src/domain/errors.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const request: ApplyRequest = {
  agentId: '5f0c7c43-4a9e-4a59-8f5c-6f1e3d1f2a10', agentName: 'bot', version: 4, sponsorId: 'a1b2', reason: 'mover',
  effective: [{ toolId: 'crm.read', system: 'crm', risk: 'read', provenance: { ruleId: 'r', ruleVersion: 1, via: { kind: 'group', groupId: 'g', groupName: 'Sales' }, delegationId: 'd' } }],
  granted: ['crm.read'], revoked: ['crm.write'], changeEventId: 'e1',
};

describe('webhook connector against a real HTTP receiver', () => {
  let status = 204;
  let retryAfter: string | null = null;
  const received: { headers: Record<string, string>; body: string }[] = [];
  const server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      received.push({ headers: incoming.headers as Record<string, string>, body: Buffer.concat(chunks).toString() });
      response.writeHead(status, retryAfter === null ? {} : { 'retry-after': retryAfter }).end('x'.repeat(100_000));
    });
  });
  let url = '';

  beforeAll(async () => {
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/hook`;
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  const connector = () =>
    createWebhookConnector(
      { id: 'hook', kind: 'webhook', url, secret: new Secret(SECRET, 'test'), timeoutMs: 2000, maxAttempts: 3, backoffMs: 10, concurrency: 1, maxResponseBytes: 1024, driftIntervalSeconds: 0, allowPrivateNetwork: true },
      { fetch: globalThis.fetch, clock: () => new Date() },
    );

  it('signs with Standard Webhooks and sends the contract body with a stable webhook-id', async () => {
    status = 204;
    await connector().apply(request);
    await connector().apply(request);
    const [first, second] = received.slice(-2);
    expect(first?.headers['webhook-id']).toBe(`msg_${request.agentId}_v4`);
    expect(second?.headers['webhook-id']).toBe(first?.headers['webhook-id']);
    const payload = new Webhook(SECRET).verify(first?.body ?? '', {
      'webhook-id': first?.headers['webhook-id'] ?? '', 'webhook-timestamp': first?.headers['webhook-timestamp'] ?? '', 'webhook-signature': first?.headers['webhook-signature'] ?? '',
    }) as { type: string; data: Record<string, unknown> };
    expect(payload.type).toBe('agent.entitlements.changed');
    expect(payload.data).toMatchObject({ agentId: request.agentId, version: 4, sponsor: { id: 'a1b2' }, granted: ['crm.read'], revoked: ['crm.write'], reason: 'mover', changeEventId: 'e1' });
    expect(() => new Webhook('whsec_' + Buffer.from('another secret key!!').toString('base64')).verify(first?.body ?? '', {
      'webhook-id': first?.headers['webhook-id'] ?? '', 'webhook-timestamp': first?.headers['webhook-timestamp'] ?? '', 'webhook-signature': first?.headers['webhook-signature'] ?? '',
    })).toThrow();
  });

  it.each([
    [503, 'target_unavailable'],
    [429, 'target_unavailable'],
    [408, 'target_unavailable'],
    [400, 'target_rejected'],
    [410, 'target_rejected'],
  ])('maps HTTP %i to %s', async (code, expected) => {
    status = code;
    retryAfter = code === 429 ? '7' : null;
    const error = await connector().apply(request).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe(expected);
    if (code === 429) expect((error as AppError).retryAfterSeconds).toBe(7);
  });

  it('treats an unreachable receiver as retryable', async () => {
    const broken = createWebhookConnector(
      { id: 'hook', kind: 'webhook', url: 'http://127.0.0.1:1/hook', secret: new Secret(SECRET, 'test'), timeoutMs: 500, maxAttempts: 3, backoffMs: 10, concurrency: 1, maxResponseBytes: 1024, driftIntervalSeconds: 0, allowPrivateNetwork: true },
      { fetch: globalThis.fetch, clock: () => new Date() },
    );
    const error = (await broken.apply(request).catch((caught: unknown) => caught)) as AppError;
    expect(error.code).toBe('target_unavailable');
    expect(error.retryable).toBe(true);
  });

  it('builds identical bytes for identical requests (retries re-send the same message)', () => {
    expect(webhookPayload(request)).toEqual(webhookPayload({ ...request }));
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('30', now)).toBe(30);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now)).toBe(60);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
