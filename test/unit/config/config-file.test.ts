import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig, loadConfigFile } from '../../../src/config/file.js';
import { parseEnv } from '../../../src/config/env.js';
import { AppError } from '../../../src/domain/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'tether-config-'));
writeFileSync(join(dir, 'hook.secret'), 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n');
const path = join(dir, 'tether.yaml');

const valid = `
sources: [{ id: default, kind: scim }]
tools: [{ id: crm.contacts.read, system: crm, risk: read }]
grantRules: [{ id: sales, when: [{ group: Sales }, { attribute: department, in: [Sales] }], tools: ["crm.*"] }]
targets: [{ id: hook, kind: webhook, url: "https://example.com/hook", secret: "file:./hook.secret" }]
`;

function errorOf(run: () => unknown): AppError {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError');
}

describe('tether.yaml', () => {
  it('parses a valid file, resolves file: secrets relative to it and applies defaults', () => {
    const config = parseConfig(valid, path);
    expect(config.sources).toEqual([{ id: 'default', kind: 'scim', displayName: 'default' }]);
    expect(config.grantRules[0]?.when).toEqual([{ kind: 'group', group: 'Sales' }, { kind: 'attribute', attribute: 'department', values: ['Sales'] }]);
    expect(config.ceilings.sandbox.risks).toEqual(['read']);
    const target = config.targets[0];
    if (target?.kind !== 'webhook') throw new Error('expected a webhook target');
    expect(target.secret.reveal()).toBe('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    expect(JSON.stringify(target)).not.toContain('whsec_');
    expect(target?.maxAttempts).toBe(12);
  });

  it.each([
    ['a literal secret', valid.replace('file:./hook.secret', 'whsec_abc'), 'targets[0].secret'],
    ['a missing secret file', valid.replace('file:./hook.secret', 'file:./nope.secret'), 'targets[0].secret'],
    ['an unset env secret', valid.replace('file:./hook.secret', 'env:TETHER_TEST_UNSET_SECRET'), 'TETHER_TEST_UNSET_SECRET'],
    ['an unknown risk class', valid.replace('risk: read', 'risk: admin'), 'tools[0].risk'],
    ['a bad tool pattern', valid.replace('"crm.*"', '"crm.*.read"'), 'grantRules[0].tools[0]'],
    ['a typo in a key', valid.replace('grantRules', 'grantRule'), 'grantRule'],
    ['no sources', valid.replace('sources: [{ id: default, kind: scim }]', 'sources: []'), 'sources'],
    ['a duplicate tool id', valid.replace('tools: [{ id: crm.contacts.read, system: crm, risk: read }]', 'tools: [{ id: crm.a.b, system: crm, risk: read }, { id: crm.a.b, system: crm, risk: write }]'), 'tools[1].id'],
    ['a non-http url', valid.replace('https://example.com/hook', 'ftp://example.com'), 'targets[0].url'],
  ])('rejects %s and names the key', (_label, text, key) => {
    const error = errorOf(() => parseConfig(text, path));
    expect(error.code).toBe('invalid_config');
    expect(error.message).toContain(key);
  });

  it('reports YAML syntax errors with the line', () => {
    const error = errorOf(() => parseConfig('sources: [\n  - id: x\n bad', path));
    expect(error.message).toMatch(/not valid YAML at line \d+/);
  });

  it('names the file when it cannot be read', () => {
    const error = errorOf(() => loadConfigFile(join(dir, 'missing.yaml')));
    expect(error.message).toContain('missing.yaml');
    expect(error.message).toContain('ENOENT');
  });
});

describe('environment', () => {
  it('applies defaults', () => {
    const env = parseEnv({});
    expect(env.PORT).toBe(8080);
    expect(env.TETHER_QUEUE_PREFIX).toBe('tether');
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.TETHER_HEAP_GROWTH_PERCENT).toBe(50);
    expect(parseEnv({ TETHER_HEAP_GROWTH_PERCENT: '0' }).TETHER_HEAP_GROWTH_PERCENT).toBe(0);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ REDIS_URL: 'http://x' }, 'REDIS_URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ TETHER_QUEUE_PREFIX: 'a:b' }, 'TETHER_QUEUE_PREFIX'],
    [{ TETHER_HEAP_GROWTH_PERCENT: '-5' }, 'TETHER_HEAP_GROWTH_PERCENT'],
    [{ TETHER_HEAP_GROWTH_PERCENT: 'lots' }, 'TETHER_HEAP_GROWTH_PERCENT'],
  ])('rejects %o naming the variable', (env, key) => {
    const error = errorOf(() => parseEnv(env));
    expect(error.message).toContain(key);
  });
});
