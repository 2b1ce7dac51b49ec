import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/file.js';
import { AppError } from '../../../src/domain/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'tether-targets-config-'));
writeFileSync(join(dir, 'hook.secret'), 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
writeFileSync(join(dir, 'other.secret'), 'a-secret-value-0123456789');
const path = join(dir, 'tether.yaml');

const yaml = `
sources: [{ id: acme, kind: scim }]
targets:
  - { id: hook, kind: webhook, url: "https://hooks.example.com/t", secret: "file:./hook.secret", nextSecret: "file:./hook.secret", rateLimit: { max: 10, perMs: 1000 } }
  - { id: crm, kind: scim, baseUrl: "https://crm.example.com/scim/v2", auth: { type: oauth2, tokenUrl: "https://crm.example.com/token", clientId: tether, clientSecret: "file:./other.secret" } }
  - { id: dir, kind: ldap, url: "ldaps://ldap.example.com", bindDn: "cn=w,dc=example,dc=org", bindPassword: "file:./other.secret", agentsDn: "ou=agents,dc=example,dc=org", groupsDn: "ou=groups,dc=example,dc=org" }
  - { id: fga, kind: openfga, apiUrl: "https://api.fga.example", storeId: 01HVMMBCMGZNT3SED4Z17ECXCA, credentials: { method: api_token, token: "file:./other.secret" } }
`;

function problem(text: string): string {
  try {
    parseConfig(text, path);
  } catch (error) {
    if (error instanceof AppError) return error.message;
    throw error;
  }
  throw new Error('expected an invalid config');
}

describe('tether.yaml targets', () => {
  it('parses every kind with its defaults; private networks are refused by default', () => {
    const targets = parseConfig(yaml, path).targets;
    expect(targets.map((target) => target.kind)).toEqual(['webhook', 'scim', 'ldap', 'openfga']);
    expect(targets.every((target) => target.driftIntervalSeconds === 3600 && target.maxAttempts === 12)).toBe(true);
    const [hook, crm, , fga] = targets;
    expect(hook?.kind === 'webhook' && hook.allowPrivateNetwork).toBe(false);
    expect(hook?.rateLimit).toEqual({ max: 10, perMs: 1000 });
    expect(crm?.kind === 'scim' ? crm.mapping : null).toEqual({ resource: 'Users', userName: 'agent.{agentId}', tools: 'groups', groupName: 'tether-{tool}' });
    expect(fga?.kind === 'openfga' ? [fga.agentType, fga.relation, fga.toolType] : null).toEqual(['agent', 'can_use', 'tool']);
    expect(JSON.stringify(targets)).not.toContain('a-secret-value');
  });

  it.each([
    ['an unknown kind', yaml.replace('kind: openfga', 'kind: spicedb'), 'targets[3].kind'],
    ['a literal SCIM client secret', yaml.replace('clientSecret: "file:./other.secret"', 'clientSecret: plain'), 'targets[1].auth.clientSecret'],
    ['a group pattern without {tool}', yaml.replace('groupsDn: "ou=groups,dc=example,dc=org" }', 'groupsDn: "ou=groups,dc=example,dc=org", groupName: "static" }'), 'targets[2].groupName'],
    ['a store id that is not a ULID', yaml.replace('01HVMMBCMGZNT3SED4Z17ECXCA', 'store-1'), 'targets[3].storeId'],
    ['a zero rate limit', yaml.replace('max: 10', 'max: 0'), 'targets[0].rateLimit.max'],
  ])('names the key of %s', (_label, text, key) => {
    expect(problem(text)).toContain(key);
  });
});
