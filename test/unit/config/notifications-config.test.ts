import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/file.js';
import { AppError } from '../../../src/domain/errors.js';

const base = 'sources: [{ id: default, kind: scim }]\n';
const hook = (fields: string) => `${base}notifications:\n  webhooks:\n    - { id: ops, url: "https://hooks.example.com/tether", secret: "env:TETHER_UNIT_NOTIFY_SECRET"${fields} }\n`;

function messageOf(yaml: string): string {
  try {
    parseConfig(yaml, '/etc/tether/tether.yaml');
  } catch (error) {
    if (error instanceof AppError && error.code === 'invalid_config') return error.message;
    throw error;
  }
  throw new Error('expected invalid_config');
}

describe('tether.yaml notifications.webhooks', () => {
  beforeAll(() => {
    process.env['TETHER_UNIT_NOTIFY_SECRET'] = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  });
  afterAll(() => {
    delete process.env['TETHER_UNIT_NOTIFY_SECRET'];
  });

  it('is optional: no webhooks by default', () => {
    expect(parseConfig(base, '/etc/tether/tether.yaml').notifications).toEqual({ webhooks: [] });
  });

  it('resolves the secret reference, defaults to every event type, and keeps the secret out of JSON', () => {
    const [webhook] = parseConfig(hook(''), '/etc/tether/tether.yaml').notifications.webhooks;
    expect(webhook).toMatchObject({ id: 'ops', events: ['agent.expiring', 'agent.expired', 'delegation.expiring', 'delegation.expired'], allowPrivateNetwork: false });
    expect(webhook?.secret.reveal()).toBe(process.env['TETHER_UNIT_NOTIFY_SECRET']);
    expect(JSON.stringify(webhook)).not.toContain('MfKQ9r8');
  });

  it('keeps an events filter as given', () => {
    const [webhook] = parseConfig(hook(', events: [delegation.expired]'), '/etc/tether/tether.yaml').notifications.webhooks;
    expect(webhook?.events).toEqual(['delegation.expired']);
  });

  it.each([
    [hook('').replace('https://hooks.example.com/tether', 'not a url'), 'notifications.webhooks[0].url'],
    [hook('').replace('https://hooks.example.com/tether', 'ftp://hooks.example.com/x'), 'notifications.webhooks[0].url'],
    [hook('').replace('env:TETHER_UNIT_NOTIFY_SECRET', 'whsec_plain'), 'notifications.webhooks[0].secret: must be a reference'],
    [hook('').replace('env:TETHER_UNIT_NOTIFY_SECRET', 'env:TETHER_UNSET_NOTIFY_SECRET'), 'notifications.webhooks[0].secret: environment variable TETHER_UNSET_NOTIFY_SECRET is not set'],
    [hook('').replace(', secret: "env:TETHER_UNIT_NOTIFY_SECRET"', ''), 'notifications.webhooks[0].secret'],
    [hook(', events: [agent.deleted]'), 'notifications.webhooks[0].events[0]'],
    [hook(', events: []'), 'notifications.webhooks[0].events'],
    [hook('').replace('id: ops', 'id: Ops:1'), 'notifications.webhooks[0].id'],
    [hook(', extra: 1'), 'notifications.webhooks[0]'],
    [`${hook('')}    - { id: ops, url: "https://b.example.com/", secret: "env:TETHER_UNIT_NOTIFY_SECRET" }\n`, 'notifications.webhooks[1].id: duplicate id "ops"'],
    [`${base}notifications: { hooks: [] }\n`, 'notifications'],
  ])('%s is refused, naming %s', (yaml, key) => {
    expect(messageOf(yaml)).toContain(key);
  });
});
