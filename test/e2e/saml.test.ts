import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/http.js';
import { waitFor } from '../support/ports.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startPrivateRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';
import { startTether, writeConfig, type TetherProcess } from '../support/tether-process.js';
import { generateKeyPair, parseAuthnRequest, TestIdp, type AuthnRequestInfo, type ResponseOptions } from '../support/test-idp.js';

const SP_ENTITY_ID = 'urn:tether:e2e-sp';
const ADMINS = { nameId: 'ada@example.com', groups: ['Tether Admins'] };
const OPERATORS = { nameId: 'otto@example.com', groups: ['Everyone', 'tether operators'] };
const VIEWERS = { nameId: 'vera@example.com', groups: ['Tether Viewers'] };

/**
 * SAML sign-in end to end against a real `tether start` process, PostgreSQL and a private Redis, with a
 * test IdP that signs real responses: what must be accepted is, what must be refused is refused with a
 * 4xx page and no session, and every dashboard route enforces sign-in, roles and CSRF.
 */
describe('dashboard SAML sign-in, sessions, CSRF and roles', () => {
  let database: TestDatabase;
  let redis: PrivateRedis;
  let idp: TestIdp;
  let tether: TetherProcess;
  let agentId: string;
  let sponsorId: string;

  const api = (method: string, path: string, body?: unknown) => call(`${tether.url}/api/v1${path}`, method, tether.adminToken, body);
  const scim = (method: string, path: string, body?: unknown) => call(`${tether.url}/scim/v2${path}`, method, tether.scimToken, body);

  /** Starts a sign-in like a browser: the protected page sends us to /ui/login, which redirects to the IdP. */
  async function beginLogin(path = '/ui/agents'): Promise<AuthnRequestInfo> {
    const page = await fetch(`${tether.url}${path}`, { redirect: 'manual' });
    expect(page.status).toBe(303);
    const login = await fetch(new URL(page.headers.get('location') ?? '', tether.url), { redirect: 'manual' });
    expect(login.status).toBe(302);
    const location = login.headers.get('location') ?? '';
    expect(location.startsWith(idp.ssoUrl)).toBe(true);
    return parseAuthnRequest(location);
  }

  const good = (request: AuthnRequestInfo, user = ADMINS): ResponseOptions => ({
    inResponseTo: request.id, acsUrl: request.acsUrl, audience: SP_ENTITY_ID, nameId: user.nameId, groups: user.groups,
  });

  async function postResponse(samlResponse: string, relayState: string | null = null) {
    const body = new URLSearchParams({ SAMLResponse: samlResponse, ...(relayState === null ? {} : { RelayState: relayState }) });
    const response = await fetch(`${tether.url}/ui/saml/acs`, { method: 'POST', body, redirect: 'manual', headers: { origin: idp.baseUrl } });
    const cookie = response.headers.getSetCookie().find((value) => value.startsWith('tether_session='));
    return { status: response.status, location: response.headers.get('location'), cookie, text: await response.text() };
  }

  async function signIn(user = ADMINS): Promise<string> {
    const request = await beginLogin();
    const result = await postResponse(idp.response(good(request, user)), request.relayState);
    expect(result.status).toBe(303);
    expect(result.cookie).toBeDefined();
    return (result.cookie ?? '').split(';')[0] ?? '';
  }

  const get = (cookie: string, path: string, headers: Record<string, string> = {}) =>
    fetch(`${tether.url}${path}`, { headers: { cookie, ...headers }, redirect: 'manual' });
  const post = (cookie: string, path: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${tether.url}${path}`, { method: 'POST', body: new URLSearchParams(form), headers: { cookie, ...headers }, redirect: 'manual' });
  const csrfOf = async (cookie: string) => /name="_csrf" value="([^"]+)"/.exec(await (await get(cookie, '/ui')).text())?.[1] ?? '';

  async function auditRows(): Promise<{ actor: string; action: string; detail: Record<string, unknown> }[]> {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      return (await client.query(`select actor, action, detail from audit_log where action like 'ui.%' or action like 'grant.%' order by seq`)).rows;
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
    redis = await startPrivateRedis();
    idp = await TestIdp.create();
    await idp.start();
    const configPath = writeConfig(
      `
sources: [{ id: acme, kind: scim }]
tools:
  - { id: crm.contacts.read, system: crm, risk: read }
  - { id: ops.dispatch, system: ops, risk: orchestrate }
grantRules:
  - { id: sales, when: [{ group: Sales }], tools: ["crm.*"] }
  - { id: ops, when: [{ group: Ops }], tools: ["ops.*"] }
admin:
  saml:
    issuer: ${SP_ENTITY_ID}
    idpMetadata: file:./idp-metadata.xml
    acceptedClockSkewSeconds: 30
    roles:
      admin: [Tether Admins]
      operator: [Tether Operators]
      viewer: [Tether Viewers]
`,
      { 'idp-metadata.xml': idp.metadata() },
    );
    tether = await startTether({
      configPath, databaseUrl: database.url, redisUrl: redis.url, queuePrefix: uniquePrefix('saml'),
      env: { TETHER_SESSION_SECRET: 'e2e-session-secret-0123456789abcdef0123456789', TETHER_OUTBOX_RELAY_MS: '300', TETHER_OUTBOX_GRACE_MS: '500' },
    });
    const person = await scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'sam@example.com', active: true });
    sponsorId = person.body.id;
    await scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Sales', members: [{ value: sponsorId }] });
    const agent = await api('POST', '/agents', {
      name: 'dispatch-bot', purpose: 'Routes work orders', environment: 'production', sponsor: { id: sponsorId },
      requestedTools: ['crm.contacts.read', 'ops.dispatch'], delegation: { approver: 'cio@example.com', justification: 'Dispatch pilot' },
    });
    expect(agent.status).toBe(201);
    agentId = agent.body.id;
  });

  afterAll(async () => {
    expect(await tether?.stop()).toBe(0);
    await idp?.stop();
    await redis?.stop();
    await database?.drop();
  });

  it('publishes SP metadata that asks for signed assertions at the ACS URL', async () => {
    const response = await fetch(`${tether.url}/ui/saml/metadata`);
    expect(response.status).toBe(200);
    const xml = await response.text();
    expect(xml).toContain(`entityID="${SP_ENTITY_ID}"`);
    expect(xml).toContain('WantAssertionsSigned="true"');
    expect(xml).toContain(`Location="${tether.url}/ui/saml/acs"`);
  });

  it('signs in with a signed assertion: new HttpOnly SameSite=Lax session, back to the page asked for, audited', async () => {
    const request = await beginLogin('/ui/agents');
    expect(request.relayState).toBe('/ui/agents');
    expect(request.issuer).toBe(SP_ENTITY_ID);
    const result = await postResponse(idp.response(good(request)), request.relayState);
    expect(result.status).toBe(303);
    expect(result.location).toBe('/ui/agents');
    expect(result.cookie).toMatch(/HttpOnly/i);
    expect(result.cookie).toMatch(/SameSite=Lax/i);
    const cookie = (result.cookie ?? '').split(';')[0] ?? '';
    const page = await get(cookie, '/ui/agents');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const text = await page.text();
    expect(text).toContain('dispatch-bot');
    expect(text).toContain('ada@example.com');
    const audit = await waitFor(async () => (await auditRows()).find((row) => row.action === 'ui.login'), { what: 'login audit' });
    expect(audit).toMatchObject({ actor: 'saml:ada@example.com', detail: { role: 'admin' } });
  });

  it('also accepts a response signed on both the Response and the Assertion', async () => {
    const request = await beginLogin();
    expect((await postResponse(idp.response({ ...good(request), sign: 'both' }))).status).toBe(303);
  });

  const rejections: [string, (request: AuthnRequestInfo) => Promise<string> | string][] = [
    ['unsigned', (request) => idp.response({ ...good(request), sign: 'none' })],
    ['signed only on the Response (assertion unsigned)', (request) => idp.response({ ...good(request), sign: 'response' })],
    ['signed with a key the SP does not trust', async (request) => idp.response({ ...good(request), signWith: await generateKeyPair('attacker') })],
    ['expired', (request) => idp.response({ ...good(request), shiftMs: -2 * 3_600_000 })],
    ['issued in the future beyond the clock skew', (request) => idp.response({ ...good(request), shiftMs: 10 * 60_000 })],
    ['for another audience', (request) => idp.response({ ...good(request), audience: 'urn:some-other-sp' })],
    ['from another issuer', (request) => idp.response({ ...good(request), issuer: 'https://evil.example.com' })],
    ['signed with SHA-1', (request) => idp.response({ ...good(request), sha1: true })],
    ['unsolicited (no InResponseTo)', (request) => idp.response({ ...good(request), inResponseTo: null })],
    ['answering a request the SP never sent', (request) => idp.response({ ...good(request), inResponseTo: '_never_sent_1234567890' })],
    ['signature-wrapped: signed assertion hidden in Extensions, forged one in its place', (request) =>
      idp.wrappedResponse(good(request, VIEWERS), ADMINS, 'extensions')],
    ['signature-wrapped: signed assertion nested in a forged one', (request) => idp.wrappedResponse(good(request, VIEWERS), ADMINS, 'nested')],
  ];

  for (const [name, build] of rejections) {
    it(`refuses a response ${name}: 401 page, no session`, async () => {
      const request = await beginLogin();
      const result = await postResponse(await build(request));
      expect(result.status).toBe(401);
      expect(result.cookie).toBeUndefined();
      expect(result.text).toContain('Sign-in failed');
      expect(result.text).not.toMatch(/at \S+\.js:\d+/);
    });
  }

  it('refuses a replayed response, and a fresh response reusing a consumed InResponseTo', async () => {
    const request = await beginLogin();
    const once = idp.response(good(request));
    expect((await postResponse(once)).status).toBe(303);
    const replay = await postResponse(once);
    expect(replay.status).toBe(401);
    expect(replay.cookie).toBeUndefined();
    expect((await postResponse(idp.response(good(request)))).status).toBe(401);
  });

  it('refuses a signed-in user whose groups map to no role with a 403 page', async () => {
    const request = await beginLogin();
    const result = await postResponse(idp.response(good(request, { nameId: 'nobody@example.com', groups: ['Everyone'] })));
    expect(result.status).toBe(403);
    expect(result.cookie).toBeUndefined();
    expect(result.text).toContain('none of your groups');
    const failures = (await auditRows()).filter((row) => row.action === 'ui.login_failed');
    expect(failures.length).toBeGreaterThanOrEqual(rejections.length);
  });

  it('sends a relay state only back into the dashboard', async () => {
    const login = await fetch(`${tether.url}/ui/login?RelayState=${encodeURIComponent('https://evil.example.com/')}`, { redirect: 'manual' });
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/ui/login');
    const request = await beginLogin();
    const result = await postResponse(idp.response(good(request)), '//evil.example.com/ui');
    expect(result.status).toBe(303);
    expect(result.location).toBe('/ui');
  });

  it('requires sign-in on every page: pages redirect to sign-in, live-update polls and actions get 401', async () => {
    for (const path of ['/ui', '/ui/agents', `/ui/agents/${agentId}`, '/ui/people', `/ui/people/${sponsorId}`]) {
      const response = await fetch(`${tether.url}${path}`, { redirect: 'manual' });
      expect(response.status, path).toBe(303);
      expect(response.headers.get('location'), path).toBe(`/ui/login?RelayState=${encodeURIComponent(path)}`);
    }
    const poll = await fetch(`${tether.url}/ui/fragments/agents/${agentId}/rights`, { headers: { 'x-tether-poll': '1' }, redirect: 'manual' });
    expect(poll.status).toBe(401);
    const action = await fetch(`${tether.url}/ui/sources/acme/reconcile`, { method: 'POST', redirect: 'manual' });
    expect(action.status).toBe(403);
  });

  it('lets a viewer read every page but not act, and hides actions from them', async () => {
    const cookie = await signIn(VIEWERS);
    for (const path of ['/ui', '/ui/agents', `/ui/agents/${agentId}`, '/ui/people', `/ui/people/${sponsorId}`, '/ui/fragments/overview', `/ui/fragments/agents/${agentId}/rights`]) {
      expect((await get(cookie, path)).status, path).toBe(200);
    }
    const detail = await (await get(cookie, `/ui/agents/${agentId}`)).text();
    expect(detail).toContain('crm.contacts.read');
    expect(detail).not.toContain('Pending grants');
    const csrf = await csrfOf(cookie);
    const denied = await post(cookie, `/ui/agents/${agentId}/grants/00000000-0000-4000-8000-000000000000/confirm`, { _csrf: csrf });
    expect(denied.status).toBe(403);
    expect(await denied.text()).toContain('operator role');
    expect((await post(cookie, '/ui/sources/acme/reconcile', { _csrf: csrf })).status).toBe(403);
  });

  it('lets an operator confirm a pending grant with a CSRF token, and refuses the same POST without one', async () => {
    const join = await scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Ops', members: [{ value: sponsorId }] });
    expect(join.status).toBe(201);
    const grant = await waitFor(async () => (await api('GET', `/agents/${agentId}/pending-grants?status=pending`)).body.items[0], { timeoutMs: 15_000, what: 'pending grant' });
    expect(grant.toolId).toBe('ops.dispatch');
    const cookie = await signIn(OPERATORS);
    const page = await (await get(cookie, `/ui/agents/${agentId}`)).text();
    expect(page).toContain('Pending grants');
    const csrf = await csrfOf(cookie);
    const path = `/ui/agents/${agentId}/grants/${grant.id}/confirm`;

    const missing = await post(cookie, path, {});
    expect(missing.status).toBe(403);
    expect(await missing.text()).toContain('did not come from Tether');
    expect((await post(cookie, path, { _csrf: `${csrf.slice(0, -2)}xx` })).status).toBe(403);
    expect((await post(cookie, path, { _csrf: csrf }, { origin: 'https://evil.example.com' })).status).toBe(403);
    const otherSession = await signIn(OPERATORS);
    expect((await post(otherSession, path, { _csrf: csrf })).status).toBe(403);
    expect((await api('GET', `/agents/${agentId}/pending-grants?status=pending`)).body.items).toHaveLength(1);

    const confirmed = await post(cookie, path, { _csrf: csrf }, { origin: tether.url });
    expect(confirmed.status).toBe(303);
    expect((await api('GET', `/agents/${agentId}/pending-grants?status=pending`)).body.items).toHaveLength(0);
    await waitFor(async () => (await api('GET', `/agents/${agentId}`)).body.effective.some((item: { toolId: string }) => item.toolId === 'ops.dispatch'), { timeoutMs: 15_000, what: 'confirmed grant applied' });
    const audit = (await auditRows()).find((row) => row.action === 'grant.confirmed');
    expect(audit?.actor).toBe('saml:otto@example.com');
  });

  it('signs out with a CSRF-protected POST: the session is gone, and the sign-out is audited', async () => {
    const cookie = await signIn(ADMINS);
    expect((await post(cookie, '/ui/logout', {})).status).toBe(403);
    expect((await get(cookie, '/ui')).status).toBe(200);
    const out = await post(cookie, '/ui/logout', { _csrf: await csrfOf(cookie) });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/ui/signed-out');
    expect((await get(cookie, '/ui')).status).toBe(303);
    expect((await auditRows()).some((row) => row.action === 'ui.logout' && row.actor === 'saml:ada@example.com')).toBe(true);
  });

  it('serves the same people and version data over /api/v1 that the pages show', async () => {
    const people = await api('GET', '/people?q=sam');
    expect(people.status).toBe(200);
    expect(people.body.items).toEqual([expect.objectContaining({ id: sponsorId, userName: 'sam@example.com', active: true })]);
    const person = await api('GET', `/people/${sponsorId}`);
    expect(person.body.sponsoredAgents.map((agent: { id: string }) => agent.id)).toEqual([agentId]);
    expect(person.body.groups.map((group: { display: string }) => group.display).sort()).toEqual(['Ops', 'Sales']);
    const versions = await api('GET', `/agents/${agentId}/versions`);
    expect(versions.status).toBe(200);
    expect(versions.body.items[0].version).toBeGreaterThan(versions.body.items.at(-1).version);
    expect(versions.body.items.at(-1).tools).toEqual(['crm.contacts.read']);
    expect((await api('GET', '/openapi.json')).body.paths).toHaveProperty('/people/{id}');
  });
});
