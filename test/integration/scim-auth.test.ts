import express from 'express';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticateToken, hashToken } from '../../src/app/auth/tokens.js';
import { parseConfig } from '../../src/config/file.js';
import { createScimAuth } from '../../src/http/auth/scim-auth.js';
import { scimAuthentication } from '../../src/http/auth/scim-authentication.js';
import { scimErrorHandler } from '../../src/http/scim/errors.js';
import { createHttpApp } from '../../src/http/app.js';
import { syncPolicy } from '../../src/main/bootstrap.js';
import { createStore, type Store } from '../../src/store/index.js';
import { RecordingQueue, silentLogger } from '../support/pipeline.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { freePort } from '../support/ports.js';
import { writeConfig } from '../support/tether-process.js';

const ENV = {
  TETHER_IT_STATIC_TOKEN: 'static-okta-token-0123456789abcdefghijkl',
  TETHER_IT_GATEWAY_PASSWORD: 'gateway-password-0123456789',
  TETHER_IT_AUDITOR_PASSWORD: 'auditor-password-0123456789',
  TETHER_IT_JWT_SECRET: 'hs256-shared-secret-0123456789abcdef',
  TETHER_IT_CLIENT_SECRET: 'entra-client-secret-0123456789abcdefgh',
};
const HS_ISSUER = 'https://hs.idp.example';
const PEM_ISSUER = 'https://pem.idp.example';
const JWKS_ISSUER = 'https://jwks.idp.example';
const SCIM_ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const CHALLENGE = 'Bearer realm="tether-scim", Basic realm="tether-scim"';

interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
}

/**
 * Every SCIM authentication method against the real HTTP app on a real PostgreSQL: database tokens, static
 * bearer tokens, Basic, JWTs (shared secret, PEM key, JWKS from a local key server), and the OAuth2
 * client-credentials flow; read-only and per-source credentials.
 */
describe('SCIM authentication', () => {
  let database: TestDatabase;
  let store: Store;
  let server: Server;
  let bareServer: Server;
  let bareUrl: string;
  let jwksServer: Server;
  let url: string;
  let skewMs = 0;
  let dbToken: string;
  let ecKey: { publicKey: CryptoKey; privateKey: CryptoKey };
  let jwksKey: { publicKey: CryptoKey; privateKey: CryptoKey };
  let strangerKey: { publicKey: CryptoKey; privateKey: CryptoKey };
  let ecPem: string;
  const clock = () => new Date(Date.now() + skewMs);

  const request = async (method: string, path: string, authorization: string | null, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        ...(authorization === null ? {} : { authorization }),
        ...(body === undefined ? {} : { 'content-type': typeof body === 'string' ? 'application/x-www-form-urlencoded' : 'application/scim+json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text === '' ? null : JSON.parse(text) };
  };
  const bearer = (token: string) => `Bearer ${token}`;
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const user = (userName: string) => ({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, active: true });
  const sign = (payload: JWTPayload, key: CryptoKey | Uint8Array, header: { alg: string; kid?: string }) =>
    new SignJWT(payload).setProtectedHeader(header).sign(key);
  const now = () => Math.floor(Date.now() / 1000);
  const hsToken = (claims: Record<string, unknown> = {}) =>
    sign({ iss: HS_ISSUER, aud: 'tether-scim', sub: 'okta-app', exp: now() + 300, ...claims }, new TextEncoder().encode(ENV.TETHER_IT_JWT_SECRET), { alg: 'HS256' });
  const expectUnauthenticated = (reply: Reply, challenge = CHALLENGE) => {
    expect(reply.status).toBe(401);
    expect(reply.headers.get('content-type')).toContain('application/scim+json');
    expect(reply.body).toMatchObject({ schemas: [SCIM_ERROR], status: '401' });
    expect(reply.headers.get('www-authenticate')).toBe(challenge);
    expect(JSON.stringify(reply.body)).not.toMatch(/password|secret-0123/);
  };
  const invalidToken = 'Bearer realm="tether-scim", error="invalid_token", Basic realm="tether-scim"';

  beforeAll(async () => {
    Object.assign(process.env, ENV);
    ecKey = await generateKeyPair('ES256');
    jwksKey = await generateKeyPair('RS256');
    strangerKey = await generateKeyPair('RS256');
    ecPem = await exportSPKI(ecKey.publicKey);
    const jwk = { ...(await exportJWK(jwksKey.publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' };
    jwksServer = createServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((done) => jwksServer.listen(0, '127.0.0.1', done));
    const jwksPort = (jwksServer.address() as AddressInfo).port;
    const deadPort = await freePort();
    const configPath = writeConfig(`
sources: [{ id: okta, kind: scim }, { id: entra, kind: scim }]
scimAuth:
  - { id: okta-static, type: bearer, token: "env:TETHER_IT_STATIC_TOKEN", sources: [okta] }
  - { id: gateway, type: basic, username: gateway, password: "env:TETHER_IT_GATEWAY_PASSWORD", sources: [okta] }
  - { id: auditor, type: basic, username: auditor, password: "env:TETHER_IT_AUDITOR_PASSWORD", readOnly: true, defaultSource: okta }
  - { id: okta-jwt, type: jwt, issuer: "${HS_ISSUER}", audience: tether-scim, secret: "env:TETHER_IT_JWT_SECRET", sources: [entra], clockToleranceSeconds: 30 }
  - { id: pem-jwt, type: jwt, issuer: "${PEM_ISSUER}", audience: tether, publicKey: "file:./ec.pem", sources: [okta] }
  - { id: jwks-jwt, type: jwt, issuer: "${JWKS_ISSUER}", audience: tether, jwksUrl: "http://127.0.0.1:${jwksPort}/jwks", sources: [okta] }
  - { id: jwks-down, type: jwt, issuer: "https://down.idp.example", audience: tether, jwksUrl: "http://127.0.0.1:${deadPort}/jwks" }
  - { id: entra-oauth, type: oauth2, clientId: entra-provisioning, clientSecret: "env:TETHER_IT_CLIENT_SECRET", sources: [entra], tokenLifetimeSeconds: 60 }
`);
    writeFileSync(join(dirname(configPath), 'ec.pem'), ecPem);
    const config = parseConfig((await import('node:fs')).readFileSync(configPath, 'utf8'), configPath);

    database = await createTestDatabase();
    store = createStore(database.db);
    const { policy } = await syncPolicy(store, config, new Date());
    dbToken = `tth_scim_${'d'.repeat(43)}`;
    await store.insertToken({ id: crypto.randomUUID(), name: 'db', kind: 'scim', role: null, sourceId: 'okta', expiresAt: null, tokenHash: hashToken(dbToken) }, new Date());

    const queue = new RecordingQueue();
    const base = { store, queue, clock, logger: silentLogger };
    const scimAuth = createScimAuth({ credentials: config.scimAuth, accessTokens: store, clock, logger: silentLogger });
    const app = createHttpApp({
      logger: silentLogger,
      authenticate: (token) => authenticateToken(store, token, clock(), (id) => scimAuth.credentials.accessTokenPrincipal(id)),
      scim: { people: base, groups: base, directory: store, sourceIds: config.sources.map((source) => source.id), scimAuth },
      api: { agents: { ...base, policy: () => policy }, readModels: store.readModels, status: () => Promise.reject(new Error('unused')) },
      readiness: async () => ({}),
      metrics: { contentType: 'text/plain', render: async () => '' },
      observeHttp: () => undefined,
      trustProxy: false,
      version: 'test',
    });
    server = await new Promise<Server>((done) => {
      const listening = app.listen(0, '127.0.0.1', () => done(listening));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    // The middleware alone in front of a catch-all, so its own guards are observable without the SCIM routes'.
    const bare = express();
    bare.use(scimAuthentication((token) => authenticateToken(store, token, clock()), scimAuth));
    bare.use((request, response) => {
      response.json({ principal: request.principal });
    });
    bare.use(scimErrorHandler(silentLogger));
    bareServer = await new Promise<Server>((done) => {
      const listening = bare.listen(0, '127.0.0.1', () => done(listening));
    });
    bareUrl = `http://127.0.0.1:${(bareServer.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((done) => server?.close(done));
    await new Promise((done) => bareServer?.close(done));
    await new Promise((done) => jwksServer?.close(done));
    await database?.drop();
    for (const name of Object.keys(ENV)) Reflect.deleteProperty(process.env, name);
  });

  describe('challenges', () => {
    it('answers a request without credentials with SCIM JSON and every configured scheme', async () => {
      expectUnauthenticated(await request('GET', '/scim/v2/Users', null));
    });

    it('answers an unknown scheme or a malformed Basic header the same way', async () => {
      expectUnauthenticated(await request('GET', '/scim/v2/Users', 'Digest username="gateway"'));
      expectUnauthenticated(await request('GET', '/scim/v2/Users', 'Basic !!!'));
      expectUnauthenticated(await request('GET', '/scim/v2/Users', `Basic ${Buffer.from('no-colon').toString('base64')}`));
    });
  });

  describe('bearer tokens', () => {
    it('still accepts database SCIM tokens (the default method)', async () => {
      const reply = await request('GET', '/scim/v2/Users', bearer(dbToken));
      expect(reply.status).toBe(200);
    });

    it('accepts a static token from the config, bound to its source', async () => {
      const created = await request('POST', '/scim/v2/Users', bearer(ENV.TETHER_IT_STATIC_TOKEN), user('static@example.com'));
      expect(created.status).toBe(201);
      const fromDb = await request('GET', `/scim/v2/Users/${created.body.id}`, bearer(dbToken));
      expect(fromDb.status).toBe(200);
    });

    it('refuses a wrong token, or a config token with a changed character', async () => {
      expectUnauthenticated(await request('GET', '/scim/v2/Users', bearer('tth_scim_not-a-token-0123456789abcdef')), invalidToken);
      expectUnauthenticated(await request('GET', '/scim/v2/Users', bearer(`${ENV.TETHER_IT_STATIC_TOKEN.slice(0, -1)}X`)), invalidToken);
    });
  });

  describe('HTTP Basic', () => {
    it('accepts the configured user and password', async () => {
      const reply = await request('POST', '/scim/v2/Users', basic('gateway', ENV.TETHER_IT_GATEWAY_PASSWORD), user('basic@example.com'));
      expect(reply.status).toBe(201);
    });

    it('refuses a wrong password, a wrong user, and one user with the other user\'s password', async () => {
      expectUnauthenticated(await request('GET', '/scim/v2/Users', basic('gateway', 'wrong-password-0123456789')));
      expectUnauthenticated(await request('GET', '/scim/v2/Users', basic('nobody', ENV.TETHER_IT_GATEWAY_PASSWORD)));
      expectUnauthenticated(await request('GET', '/scim/v2/Users', basic('gateway', ENV.TETHER_IT_AUDITOR_PASSWORD)));
    });
  });

  describe('JWT', () => {
    it('accepts an HS256 token with the right issuer, audience and expiry', async () => {
      const reply = await request('POST', '/scim/v2/Users', bearer(await hsToken()), user('jwt@example.com'));
      expect(reply.status).toBe(201);
    });

    it('accepts a token expired within the clock tolerance, refuses one expired beyond it', async () => {
      expect((await request('GET', '/scim/v2/Users', bearer(await hsToken({ exp: now() - 10 })))).status).toBe(200);
      expectUnauthenticated(await request('GET', '/scim/v2/Users', bearer(await hsToken({ exp: now() - 120 }))), invalidToken);
    });

    it.each([
      ['a wrong audience', { aud: 'someone-else' }],
      ['a wrong issuer', { iss: 'https://evil.example' }],
      ['no expiry', { exp: undefined }],
      ['a future nbf', { nbf: now() + 600 }],
    ])('refuses a token with %s', async (_label, claims) => {
      expectUnauthenticated(await request('GET', '/scim/v2/Users', bearer(await hsToken(claims))), invalidToken);
    });

    it('refuses a token signed with another secret', async () => {
      const token = await sign({ iss: HS_ISSUER, aud: 'tether-scim', exp: now() + 300 }, new TextEncoder().encode('another-secret-0123456789abcdefghij'), { alg: 'HS256' });
      expectUnauthenticated(await request('GET', '/scim/v2/Users', bearer(token)), invalidToken);
    });

    it('refuses alg none', async () => {
      const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const token = `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ iss: HS_ISSUER, aud: 'tether-scim', exp: now() + 300 })}.`;
      expectUnauthenticated(await request('GET', '/scim/v2/Users', bearer(token)), invalidToken);
    });

    it('accepts an ES256 token verified with the configured PEM key, and refuses the key used as an HMAC secret', async () => {
      const claims = { iss: PEM_ISSUER, aud: 'tether', exp: now() + 300 };
      expect((await request('GET', '/scim/v2/Users', bearer(await sign(claims, ecKey.privateKey, { alg: 'ES256' })))).status).toBe(200);
      const confused = await sign(claims, new TextEncoder().encode(ecPem), { alg: 'HS256' });
      expectUnauthenticated(await request('GET', '/scim/v2/Users', bearer(confused)), invalidToken);
    });

    it('accepts an RS256 token whose key comes from the JWKS server, and refuses one signed by a key not in it', async () => {
      const claims = { iss: JWKS_ISSUER, aud: 'tether', exp: now() + 300 };
      expect((await request('GET', '/scim/v2/Users', bearer(await sign(claims, jwksKey.privateKey, { alg: 'RS256', kid: 'key-1' })))).status).toBe(200);
      const stranger = await sign(claims, strangerKey.privateKey, { alg: 'RS256', kid: 'key-2' });
      expectUnauthenticated(await request('GET', '/scim/v2/Users', bearer(stranger)), invalidToken);
    });

    it('answers 503 (retryable), not 401, when the JWKS cannot be fetched', async () => {
      const token = await sign({ iss: 'https://down.idp.example', aud: 'tether', exp: now() + 300 }, jwksKey.privateKey, { alg: 'RS256', kid: 'key-1' });
      const reply = await request('GET', '/scim/v2/Users', bearer(token));
      expect(reply.status).toBe(503);
      expect(reply.body).toMatchObject({ schemas: [SCIM_ERROR], status: '503' });
      expect(reply.headers.get('retry-after')).toBe('30');
    });
  });

  describe('read-only credentials', () => {
    it('may read and search but not create, replace, patch or delete, and change nothing', async () => {
      const auditor = basic('auditor', ENV.TETHER_IT_AUDITOR_PASSWORD);
      const target = (await request('POST', '/scim/v2/Users', bearer(dbToken), user('target@example.com'))).body;
      const before = await request('GET', '/scim/v2/Users', auditor);
      expect(before.status).toBe(200);
      const search = await request('POST', '/scim/v2/Users/.search', auditor, { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'userName eq "target@example.com"' });
      expect(search.status).toBe(200);
      expect(search.body.totalResults).toBe(1);
      const forbidden = [
        await request('POST', '/scim/v2/Users', auditor, user('blocked@example.com')),
        await request('PUT', `/scim/v2/Users/${target.id}`, auditor, { ...user('target@example.com'), active: false }),
        await request('PATCH', `/scim/v2/Users/${target.id}`, auditor, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value: false }] }),
        await request('DELETE', `/scim/v2/Users/${target.id}`, auditor),
      ];
      for (const reply of forbidden) {
        expect(reply.status).toBe(403);
        expect(reply.body).toMatchObject({ schemas: [SCIM_ERROR], status: '403' });
      }
      const after = await request('GET', '/scim/v2/Users', auditor);
      expect(after.body.totalResults).toBe(before.body.totalResults);
      const still = await request('GET', `/scim/v2/Users/${target.id}`, auditor);
      expect(still.body).toMatchObject({ userName: 'target@example.com', active: true });
    });
  });

  describe('the authentication middleware alone', () => {
    const atBare = async (method: string, path: string, authorization: string) =>
      fetch(`${bareUrl}${path}`, { method, headers: { authorization, 'content-type': 'application/scim+json' }, ...(method === 'GET' || method === 'HEAD' ? {} : { body: '{}' }) });

    it('sets the principal from the credential, never its secret', async () => {
      const reply = await atBare('GET', '/Users', bearer(ENV.TETHER_IT_STATIC_TOKEN));
      const body: any = await reply.json();
      expect(body.principal).toEqual({ tokenId: 'scim_cred:okta-static', kind: 'scim', role: null, sourceId: 'okta', sourceIds: ['okta'], readOnly: false });
      const auditor: any = await (await atBare('GET', '/Users', basic('auditor', ENV.TETHER_IT_AUDITOR_PASSWORD))).json();
      expect(auditor.principal).toEqual({ tokenId: 'scim_cred:auditor', kind: 'scim', role: null, sourceId: 'okta', sourceIds: null, readOnly: true });
    });

    it.each([
      ['GET', '/Users', 200],
      ['HEAD', '/Users', 200],
      ['POST', '/Users/.search', 200],
      ['POST', '/.search', 200],
      ['POST', '/Users', 403],
      ['PUT', '/Users/x', 403],
      ['PATCH', '/Users/x', 403],
      ['DELETE', '/Users/x', 403],
      ['POST', '/Bulk', 403],
    ])('lets a read-only credential %s %s: %i', async (method, path, status) => {
      const reply = await atBare(method, path, basic('auditor', ENV.TETHER_IT_AUDITOR_PASSWORD));
      expect(reply.status).toBe(status);
      if (status === 403) expect(await reply.json()).toMatchObject({ schemas: [SCIM_ERROR], detail: 'This credential is read-only' });
    });
  });

  describe('source restrictions', () => {
    it('keeps each credential to its sources', async () => {
      const entraJwt = bearer(await hsToken());
      const created = await request('POST', '/scim/v2/Users', entraJwt, user('entra-only@example.com'));
      expect(created.status).toBe(201);
      expect((await request('GET', `/scim/v2/Users/${created.body.id}`, entraJwt)).status).toBe(200);
      expect((await request('GET', `/scim/v2/Users/${created.body.id}`, bearer(ENV.TETHER_IT_STATIC_TOKEN))).status).toBe(404);
      const elsewhere = await request('GET', '/scim/v2/okta/Users', entraJwt);
      expect(elsewhere.status).toBe(403);
      expect(elsewhere.body).toMatchObject({ schemas: [SCIM_ERROR], status: '403' });
      expect((await request('GET', '/scim/v2/entra/Users', entraJwt)).status).toBe(200);
    });

    it('lets an all-sources credential address any source by baseEntity', async () => {
      const auditor = basic('auditor', ENV.TETHER_IT_AUDITOR_PASSWORD);
      const inEntra = await request('GET', '/scim/v2/entra/Users?filter=userName%20eq%20%22entra-only@example.com%22', auditor);
      expect(inEntra.status).toBe(200);
      expect(inEntra.body.totalResults).toBe(1);
    });
  });

  describe('OAuth2 client credentials', () => {
    const clientBasic = basic('entra-provisioning', ENV.TETHER_IT_CLIENT_SECRET);

    it('issues an opaque token (client authenticated by Basic) that works for SCIM on the credential\'s source', async () => {
      const reply = await request('POST', '/scim/v2/oauth/token', clientBasic, 'grant_type=client_credentials');
      expect(reply.status).toBe(200);
      expect(reply.headers.get('cache-control')).toBe('no-store');
      expect(reply.body).toEqual({ access_token: expect.stringMatching(/^tth_oauth_/), token_type: 'Bearer', expires_in: 60 });
      const token: string = reply.body.access_token;
      const created = await request('POST', '/scim/v2/Users', bearer(token), user('oauth@example.com'));
      expect(created.status).toBe(201);
      expect((await request('GET', `/scim/v2/Users/${created.body.id}`, bearer(await hsToken()))).status).toBe(200);
      expect((await request('GET', '/scim/v2/okta/Users', bearer(token))).status).toBe(403);
      const rows = await database.db.query<{ token_hash: string; credential_id: string }>('select token_hash, credential_id from api_tokens where credential_id is not null');
      expect(rows.rows).toContainEqual({ token_hash: hashToken(token), credential_id: 'entra-oauth' });
      expect(JSON.stringify(rows.rows)).not.toContain(token);
      expect((await store.listTokens()).map((listed) => listed.name)).not.toContain('oauth2:entra-oauth');
    });

    it('accepts client_id and client_secret in the body at scimgateway\'s /oauth/token', async () => {
      const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: 'entra-provisioning', client_secret: ENV.TETHER_IT_CLIENT_SECRET });
      const reply = await request('POST', '/oauth/token', null, form.toString());
      expect(reply.status).toBe(200);
      expect((await request('GET', '/scim/v2/Users', bearer(reply.body.access_token))).status).toBe(200);
    });

    it('refuses the token once it has expired', async () => {
      const token: string = (await request('POST', '/oauth/token', clientBasic, 'grant_type=client_credentials')).body.access_token;
      skewMs = 61_000;
      try {
        expectUnauthenticated(await request('GET', '/scim/v2/Users', bearer(token)), invalidToken);
      } finally {
        skewMs = 0;
      }
    });

    it('stops honouring issued tokens of a credential that is no longer configured', async () => {
      const token: string = (await request('POST', '/oauth/token', clientBasic, 'grant_type=client_credentials')).body.access_token;
      expect(await authenticateToken(store, token, new Date(), () => null)).toBeNull();
    });

    it.each([
      ['a wrong secret (Basic)', basic('entra-provisioning', 'wrong-secret-0123456789abcdefghijklmn'), 'grant_type=client_credentials', 401, 'invalid_client'],
      ['a wrong secret (body)', null, 'grant_type=client_credentials&client_id=entra-provisioning&client_secret=wrong', 401, 'invalid_client'],
      ['no client authentication', null, 'grant_type=client_credentials', 401, 'invalid_client'],
      ['a bearer header', bearer(ENV.TETHER_IT_STATIC_TOKEN), 'grant_type=client_credentials', 401, 'invalid_client'],
      ['an unsupported grant type', clientBasic, 'grant_type=password&username=a&password=b', 400, 'unsupported_grant_type'],
      ['no grant type', clientBasic, 'client_id=entra-provisioning', 400, 'invalid_request'],
      ['a repeated parameter', clientBasic, 'grant_type=client_credentials&grant_type=client_credentials', 400, 'invalid_request'],
      ['two client authentication methods', clientBasic, `grant_type=client_credentials&client_secret=${ENV.TETHER_IT_CLIENT_SECRET}`, 400, 'invalid_request'],
    ])('answers %s with the RFC 6749 error', async (_label, authorization, form, status, error) => {
      const reply = await request('POST', '/scim/v2/oauth/token', authorization, form);
      expect(reply.status).toBe(status);
      expect(reply.body).toEqual({ error, error_description: expect.any(String) });
      expect(reply.headers.get('cache-control')).toBe('no-store');
      if (error === 'invalid_client') expect(reply.headers.get('www-authenticate')).toBe('Basic realm="tether-oauth"');
    });

    it('refuses a JSON body and methods other than POST', async () => {
      const json = await request('POST', '/oauth/token', clientBasic, { grant_type: 'client_credentials' });
      expect(json.status).toBe(400);
      expect(json.body.error).toBe('invalid_request');
      const get = await request('GET', '/oauth/token', clientBasic);
      expect(get.status).toBe(405);
      expect(get.headers.get('allow')).toBe('POST');
    });

    it('does not let an OAuth2 client secret act as a SCIM credential', async () => {
      expectUnauthenticated(await request('GET', '/scim/v2/Users', bearer(ENV.TETHER_IT_CLIENT_SECRET)), invalidToken);
      expectUnauthenticated(await request('GET', '/scim/v2/Users', clientBasic));
    });
  });
});
