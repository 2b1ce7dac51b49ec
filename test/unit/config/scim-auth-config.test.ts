import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/file.js';
import { AppError } from '../../../src/domain/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'tether-scim-auth-config-'));
const path = join(dir, 'tether.yaml');
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
writeFileSync(join(dir, 'rsa.pem'), rsa.publicKey.export({ type: 'spki', format: 'pem' }));
writeFileSync(join(dir, 'ec.pem'), ec.publicKey.export({ type: 'spki', format: 'pem' }));
writeFileSync(join(dir, 'ed.pem'), ed.publicKey.export({ type: 'spki', format: 'pem' }));
writeFileSync(join(dir, 'private.pem'), rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }));
writeFileSync(join(dir, 'garbage.pem'), 'not a key');
writeFileSync(join(dir, 'basic.password'), 'correct horse battery staple\n');

const SECRETS = {
  TETHER_TEST_SCIM_TOKEN: 'static-token-0123456789abcdefghijklmnop',
  TETHER_TEST_JWT_SECRET: 'j'.repeat(32),
  TETHER_TEST_CLIENT_SECRET: 'client-secret-0123456789abcdefghijkl',
  TETHER_TEST_SHORT: 'short',
};

beforeAll(() => {
  Object.assign(process.env, SECRETS);
});
afterAll(() => {
  for (const name of Object.keys(SECRETS)) Reflect.deleteProperty(process.env, name);
});

const SOURCES = 'sources: [{ id: okta, kind: scim }, { id: entra, kind: scim }]\n';

function withCredentials(yaml: string, sources = SOURCES): string {
  return `${sources}scimAuth:\n${yaml}`;
}

function errorOf(text: string): AppError {
  try {
    parseConfig(text, path);
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError');
}

describe('tether.yaml scimAuth', () => {
  it('parses every credential type with its defaults and keeps secrets out of JSON', () => {
    const config = parseConfig(
      withCredentials(`
  - { id: okta-bearer, type: bearer, token: "env:TETHER_TEST_SCIM_TOKEN", sources: [okta] }
  - { id: legacy, type: basic, username: gateway, password: "file:./basic.password", readOnly: true }
  - { id: hs, type: jwt, issuer: "https://idp.example.com", audience: tether, secret: "env:TETHER_TEST_JWT_SECRET", sources: [okta, entra], defaultSource: entra }
  - { id: rs, type: jwt, issuer: "https://idp.example.com", audience: other, publicKey: "file:./rsa.pem", clockToleranceSeconds: 5 }
  - { id: es, type: jwt, issuer: "https://es.example.com", audience: tether, publicKey: "file:./ec.pem" }
  - { id: ed, type: jwt, issuer: "https://ed.example.com", audience: tether, publicKey: "file:./ed.pem" }
  - { id: jwks, type: jwt, issuer: "https://login.example.com", audience: tether, jwksUrl: "https://login.example.com/keys", algorithms: [RS256] }
  - { id: entra-oauth, type: oauth2, clientId: entra, clientSecret: "env:TETHER_TEST_CLIENT_SECRET", sources: [entra] }
`),
      path,
    );
    const [bearer, basic, hs, rs, es, ed, jwks, oauth] = config.scimAuth;
    expect(bearer).toMatchObject({ type: 'bearer', readOnly: false, sources: ['okta'], defaultSource: 'okta' });
    expect(bearer?.type === 'bearer' && bearer.token.reveal()).toBe(SECRETS.TETHER_TEST_SCIM_TOKEN);
    expect(basic).toMatchObject({ type: 'basic', username: 'gateway', readOnly: true, sources: null, defaultSource: null });
    expect(basic?.type === 'basic' && basic.password.reveal()).toBe('correct horse battery staple');
    expect(hs).toMatchObject({ type: 'jwt', algorithms: ['HS256'], clockToleranceSeconds: 30, defaultSource: 'entra', key: { kind: 'secret' } });
    expect(rs).toMatchObject({ algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'], clockToleranceSeconds: 5, key: { kind: 'publicKey' } });
    expect(es).toMatchObject({ algorithms: ['ES256'] });
    expect(ed).toMatchObject({ algorithms: ['EdDSA', 'Ed25519'] });
    expect(jwks).toMatchObject({ algorithms: ['RS256'], key: { kind: 'jwks', url: 'https://login.example.com/keys' } });
    expect(oauth).toMatchObject({ type: 'oauth2', clientId: 'entra', tokenLifetimeSeconds: 3600, defaultSource: 'entra' });
    const json = JSON.stringify(config.scimAuth);
    for (const secret of [SECRETS.TETHER_TEST_SCIM_TOKEN, SECRETS.TETHER_TEST_JWT_SECRET, SECRETS.TETHER_TEST_CLIENT_SECRET, 'correct horse']) {
      expect(json).not.toContain(secret);
    }
  });

  it('defaults to no credentials, and to the only source when a credential names none', () => {
    expect(parseConfig(SOURCES, path).scimAuth).toEqual([]);
    const single = parseConfig(withCredentials('  - { id: b, type: bearer, token: "env:TETHER_TEST_SCIM_TOKEN" }\n', 'sources: [{ id: okta, kind: scim }]\n'), path);
    expect(single.scimAuth[0]).toMatchObject({ sources: null, defaultSource: 'okta' });
  });

  const bearer = '  - { id: b, type: bearer, token: "env:TETHER_TEST_SCIM_TOKEN" }\n';
  const jwt = (keys: string, extra = '') => `  - { id: j, type: jwt, issuer: "https://idp.example.com", audience: tether, ${keys}${extra} }\n`;
  it.each([
    ['a literal token', '  - { id: b, type: bearer, token: "plain-token-value-0123456789abcdefgh" }\n', 'scimAuth[0].token', 'never the secret itself'],
    ['a short token', '  - { id: b, type: bearer, token: "env:TETHER_TEST_SHORT" }\n', 'scimAuth[0].token', 'at least 32 characters'],
    ['an unset env reference', '  - { id: b, type: bearer, token: "env:TETHER_TEST_UNSET" }\n', 'scimAuth[0].token', 'TETHER_TEST_UNSET is not set'],
    ['an unknown source', '  - { id: b, type: bearer, token: "env:TETHER_TEST_SCIM_TOKEN", sources: [okta, workday] }\n', 'scimAuth[0].sources[1]', 'unknown source "workday"'],
    ['a default source outside sources', '  - { id: b, type: bearer, token: "env:TETHER_TEST_SCIM_TOKEN", sources: [okta], defaultSource: entra }\n', 'scimAuth[0].defaultSource', 'not one of'],
    ['an unknown key', '  - { id: b, type: bearer, token: "env:TETHER_TEST_SCIM_TOKEN", readonly: true }\n', 'scimAuth[0]', 'readonly'],
    ['an unknown type', '  - { id: b, type: digest, token: "env:TETHER_TEST_SCIM_TOKEN" }\n', 'scimAuth[0].type', ''],
    ['a duplicate id', `${bearer}  - { id: b, type: basic, username: u, password: "file:./basic.password" }\n`, 'scimAuth[1].id', 'duplicate id'],
    ['a duplicate username', '  - { id: a, type: basic, username: u, password: "file:./basic.password" }\n  - { id: b, type: basic, username: u, password: "file:./basic.password" }\n', 'scimAuth[1].username', 'duplicate username'],
    ['a colon in a username', '  - { id: a, type: basic, username: "a:b", password: "file:./basic.password" }\n', 'scimAuth[0].username', 'must not contain ":"'],
    ['a short password', '  - { id: a, type: basic, username: u, password: "env:TETHER_TEST_SHORT" }\n', 'scimAuth[0].password', 'at least 16'],
    ['a duplicate clientId', '  - { id: a, type: oauth2, clientId: c, clientSecret: "env:TETHER_TEST_CLIENT_SECRET" }\n  - { id: b, type: oauth2, clientId: c, clientSecret: "env:TETHER_TEST_CLIENT_SECRET" }\n', 'scimAuth[1].clientId', 'duplicate clientId'],
    ['a too short token lifetime', '  - { id: a, type: oauth2, clientId: c, clientSecret: "env:TETHER_TEST_CLIENT_SECRET", tokenLifetimeSeconds: 10 }\n', 'scimAuth[0].tokenLifetimeSeconds', ''],
    ['a jwt without issuer', '  - { id: j, type: jwt, audience: tether, secret: "env:TETHER_TEST_JWT_SECRET" }\n', 'scimAuth[0].issuer', ''],
    ['a jwt without key', jwt('clockToleranceSeconds: 5'), 'scimAuth[0]', 'exactly one of secret, publicKey, jwksUrl'],
    ['a jwt with two keys', jwt('secret: "env:TETHER_TEST_JWT_SECRET", publicKey: "file:./rsa.pem"'), 'scimAuth[0].publicKey', 'exactly one'],
    ['alg none', jwt('secret: "env:TETHER_TEST_JWT_SECRET"', ', algorithms: [none]'), 'scimAuth[0].algorithms[0]', ''],
    ['HS512 with a 32-byte secret', jwt('secret: "env:TETHER_TEST_JWT_SECRET"', ', algorithms: [HS256, HS512]'), 'scimAuth[0].algorithms[1]', 'at least 64 bytes'],
    ['RS256 with a shared secret', jwt('secret: "env:TETHER_TEST_JWT_SECRET"', ', algorithms: [RS256]'), 'scimAuth[0].algorithms[0]', 'does not fit the configured secret'],
    ['HS256 with a public key', jwt('publicKey: "file:./rsa.pem"', ', algorithms: [HS256]'), 'scimAuth[0].algorithms[0]', 'does not fit the configured publicKey'],
    ['ES384 with a P-256 key', jwt('publicKey: "file:./ec.pem"', ', algorithms: [ES384]'), 'scimAuth[0].algorithms[0]', 'does not fit'],
    ['a short jwt secret', jwt('secret: "env:TETHER_TEST_SHORT"'), 'scimAuth[0].secret', 'at least 32 bytes'],
    ['a private key', jwt('publicKey: "file:./private.pem"'), 'scimAuth[0].publicKey', 'private key'],
    ['a file that is no key', jwt('publicKey: "file:./garbage.pem"'), 'scimAuth[0].publicKey', 'not a PEM public key'],
    ['a plain-http JWKS URL', jwt('jwksUrl: "http://idp.example.com/keys"'), 'scimAuth[0].jwksUrl', 'must be https'],
    ['a negative clock tolerance', jwt('secret: "env:TETHER_TEST_JWT_SECRET"', ', clockToleranceSeconds: -1'), 'scimAuth[0].clockToleranceSeconds', ''],
    ['two jwt credentials for one issuer and audience', jwt('secret: "env:TETHER_TEST_JWT_SECRET"') + jwt('publicKey: "file:./rsa.pem"').replace('id: j', 'id: k'), 'scimAuth[1].issuer', 'same issuer and audience'],
  ])('rejects %s and names the key', (_label, yaml, key, message) => {
    const error = errorOf(withCredentials(yaml));
    expect(error.code).toBe('invalid_config');
    expect(error.message).toContain(`${key}:`);
    expect(error.message).toContain(message);
    expect(error.message).not.toContain(SECRETS.TETHER_TEST_SCIM_TOKEN);
  });

  it('accepts plain-http JWKS on loopback (a local identity provider)', () => {
    const config = parseConfig(withCredentials(jwt('jwksUrl: "http://127.0.0.1:8999/jwks"')), path);
    expect(config.scimAuth[0]).toMatchObject({ key: { kind: 'jwks', url: 'http://127.0.0.1:8999/jwks' } });
  });
});
