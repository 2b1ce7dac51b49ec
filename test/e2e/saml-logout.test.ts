import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startPrivateRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';
import { startTether, writeConfig, type TetherProcess } from '../support/tether-process.js';
import { generateKeyPair, parseAuthnRequest, parseLogoutRequest, TestIdp } from '../support/test-idp.js';

const SP_ENTITY_ID = 'urn:tether:e2e-slo';
const ADA = { nameId: 'ada@example.com', groups: ['Tether Admins'] };

/** SAML single logout with an IdP that publishes a SingleLogoutService (HTTP-Redirect), end to end. */
describe('SAML single logout', () => {
  let database: TestDatabase;
  let redis: PrivateRedis;
  let idp: TestIdp;
  let tether: TetherProcess;

  const get = (cookie: string, path: string) => fetch(new URL(path, tether.url), { headers: { cookie }, redirect: 'manual' });
  const csrfOf = async (cookie: string) => /name="_csrf" value="([^"]+)"/.exec(await (await get(cookie, '/ui')).text())?.[1] ?? '';

  async function signIn(): Promise<string> {
    const page = await fetch(`${tether.url}/ui/agents`, { redirect: 'manual' });
    const login = await fetch(new URL(page.headers.get('location') ?? '', tether.url), { redirect: 'manual' });
    const request = parseAuthnRequest(login.headers.get('location') ?? '');
    const body = new URLSearchParams({
      SAMLResponse: idp.response({ inResponseTo: request.id, acsUrl: request.acsUrl, audience: SP_ENTITY_ID, nameId: ADA.nameId, groups: ADA.groups }),
      ...(request.relayState === null ? {} : { RelayState: request.relayState }),
    });
    const response = await fetch(`${tether.url}/ui/saml/acs`, { method: 'POST', body, redirect: 'manual', headers: { origin: idp.baseUrl } });
    expect(response.status).toBe(303);
    return (response.headers.getSetCookie().find((value) => value.startsWith('tether_session=')) ?? '').split(';')[0] ?? '';
  }

  async function signOut(cookie: string): Promise<string> {
    const response = await fetch(`${tether.url}/ui/logout`, {
      method: 'POST', body: new URLSearchParams({ _csrf: await csrfOf(cookie) }), headers: { cookie, origin: tether.url }, redirect: 'manual',
    });
    expect(response.status).toBe(303);
    return response.headers.get('location') ?? '';
  }

  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
    redis = await startPrivateRedis();
    idp = await TestIdp.create();
    idp.singleLogout = true;
    await idp.start();
    const configPath = writeConfig(`
sources: [{ id: acme, kind: scim }]
tools: [{ id: crm.contacts.read, system: crm, risk: read }]
grantRules: []
admin:
  saml:
    issuer: ${SP_ENTITY_ID}
    idpMetadata: file:./idp-metadata.xml
    roles:
      admin: [Tether Admins]
`, { 'idp-metadata.xml': idp.metadata() });
    tether = await startTether({
      configPath, databaseUrl: database.url, redisUrl: redis.url, queuePrefix: uniquePrefix('slo'),
      env: { TETHER_SESSION_SECRET: 'e2e-session-secret-0123456789abcdef0123456789' },
    });
  });

  afterAll(async () => {
    await tether?.stop();
    await idp?.stop();
    await redis?.stop();
    await database?.drop();
  });

  it('signing out ends the session and sends the browser to the IdP with a LogoutRequest for this user; the signed answer is accepted', async () => {
    const cookie = await signIn();
    expect((await get(cookie, '/ui')).status).toBe(200);
    const location = await signOut(cookie);
    expect(location.startsWith(`${idp.baseUrl}/slo?`)).toBe(true);
    const request = parseLogoutRequest(location);
    expect(request).toMatchObject({ nameId: ADA.nameId, issuer: SP_ENTITY_ID });
    expect(request.id).not.toBe('');
    // The Tether session is gone before the IdP answers (a browser that never comes back is signed out too).
    expect((await get(cookie, '/ui')).status).toBe(303);

    const confirmed = await fetch(idp.logoutResponseUrl(request, `${tether.url}/ui/saml/slo`), { redirect: 'manual' });
    expect(confirmed.status).toBe(200);
    expect(await confirmed.text()).toContain('Signed out');

    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const rows = (await client.query(`select actor, detail from audit_log where action = 'ui.logout'`)).rows as { actor: string; detail: { singleLogout?: boolean } }[];
      expect(rows).toEqual([expect.objectContaining({ actor: `saml:${ADA.nameId}`, detail: expect.objectContaining({ singleLogout: true }) })]);
    } finally {
      await client.end();
    }
  });

  it('refuses a LogoutResponse signed with another key, or answering no request of ours', async () => {
    const request = parseLogoutRequest(await signOut(await signIn()));
    const forged = await fetch(idp.logoutResponseUrl(request, `${tether.url}/ui/saml/slo`, await generateKeyPair('not-the-idp')), { redirect: 'manual' });
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain('did not confirm');
    const unknown = await fetch(idp.logoutResponseUrl({ ...request, id: '_never_sent' }, `${tether.url}/ui/saml/slo`), { redirect: 'manual' });
    expect(unknown.status).toBe(400);
  });
});
