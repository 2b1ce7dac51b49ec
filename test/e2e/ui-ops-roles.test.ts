import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/http.js';
import { waitFor } from '../support/ports.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startPrivateRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';
import { startTether, writeConfig, type TetherProcess } from '../support/tether-process.js';
import { parseAuthnRequest, TestIdp } from '../support/test-idp.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const SP_ENTITY_ID = 'urn:tether:e2e-ops-roles';
const HOOK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ADMINS = { nameId: 'ada@example.com', groups: ['Tether Admins'] };
const OPERATORS = { nameId: 'otto@example.com', groups: ['Tether Operators'] };
const VIEWERS = { nameId: 'vera@example.com', groups: ['Tether Viewers'] };

/**
 * Roles and CSRF on the sources, targets and what-if pages, over plain HTTP against a real `tether start`:
 * viewers read everything and act on nothing, operators retry dead letters and reconcile, only admins decide
 * held runs, every POST needs the session's CSRF token, and a malformed URL is a 404 page, not a 500.
 */
describe('dashboard operations pages: roles, CSRF, audit', () => {
  let database: TestDatabase;
  let redis: PrivateRedis;
  let idp: TestIdp;
  let receiver: WebhookReceiver;
  let tether: TetherProcess;
  let jobId: string;

  const api = (method: string, path: string, body?: unknown) => call(`${tether.url}/api/v1${path}`, method, tether.adminToken, body);
  const scim = (method: string, path: string, body?: unknown) => call(`${tether.url}/scim/v2${path}`, method, tether.scimToken, body);
  const get = (cookie: string, path: string) => fetch(`${tether.url}${path}`, { headers: { cookie }, redirect: 'manual' });
  const post = (cookie: string, path: string, form: Record<string, string>) =>
    fetch(`${tether.url}${path}`, { method: 'POST', body: new URLSearchParams(form), headers: { cookie, origin: tether.url }, redirect: 'manual' });
  const csrfOf = async (cookie: string) => /name="_csrf" value="([^"]+)"/.exec(await (await get(cookie, '/ui')).text())?.[1] ?? '';

  async function signIn(user: { nameId: string; groups: string[] }): Promise<string> {
    const page = await fetch(`${tether.url}/ui/targets`, { redirect: 'manual' });
    const login = await fetch(new URL(page.headers.get('location') ?? '', tether.url), { redirect: 'manual' });
    const request = parseAuthnRequest(login.headers.get('location') ?? '');
    const body = new URLSearchParams({ SAMLResponse: idp.response({ inResponseTo: request.id, acsUrl: request.acsUrl, audience: SP_ENTITY_ID, nameId: user.nameId, groups: user.groups }), ...(request.relayState === null ? {} : { RelayState: request.relayState }) });
    const response = await fetch(`${tether.url}/ui/saml/acs`, { method: 'POST', body, redirect: 'manual', headers: { origin: idp.baseUrl } });
    expect(response.status).toBe(303);
    return (response.headers.getSetCookie().find((value) => value.startsWith('tether_session=')) ?? '').split(';')[0] ?? '';
  }

  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
    redis = await startPrivateRedis();
    idp = await TestIdp.create();
    await idp.start();
    receiver = new WebhookReceiver(HOOK_SECRET);
    receiver.failWith = 422;
    await receiver.start();
    tether = await startTether({
      configPath: writeConfig(`
sources: [{ id: acme, kind: scim }]
tools: [{ id: crm.contacts.read, system: crm, risk: read }]
grantRules: [{ id: sales, when: [{ group: Sales }], tools: ["crm.*"] }]
targets:
  - { id: hooks, kind: webhook, url: "${receiver.url}", secret: "file:./hook.secret", backoffMs: 50, maxAttempts: 2, allowPrivateNetwork: true }
admin:
  saml:
    issuer: ${SP_ENTITY_ID}
    idpMetadata: file:./idp-metadata.xml
    roles: { admin: [Tether Admins], operator: [Tether Operators], viewer: [Tether Viewers] }
`, { 'idp-metadata.xml': idp.metadata(), 'hook.secret': HOOK_SECRET }),
      databaseUrl: database.url, redisUrl: redis.url, queuePrefix: uniquePrefix('ui-ops'),
      env: { TETHER_SESSION_SECRET: 'e2e-ops-session-secret-0123456789abcdef01234', TETHER_OUTBOX_RELAY_MS: '300', TETHER_OUTBOX_GRACE_MS: '500' },
    });
    const person = await scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'sam@example.com', active: true });
    await scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Sales', members: [{ value: person.body.id }] });
    const agent = await api('POST', '/agents', {
      name: 'lookup-bot', purpose: 'Looks up contacts', environment: 'production', sponsor: { id: person.body.id },
      requestedTools: ['crm.contacts.read'], delegation: { approver: 'cio@example.com', justification: 'pilot' },
    });
    expect(agent.status).toBe(201);
    jobId = (await waitFor(async () => (await api('GET', '/targets/hooks/dead-letters')).body.items[0], { timeoutMs: 15_000, what: 'a dead letter' })).jobId;
  });

  afterAll(async () => {
    expect(await tether?.stop()).toBe(0);
    await receiver?.stop();
    await idp?.stop();
    await redis?.stop();
    await database?.drop();
  });

  it('lets a viewer read the pages and fragments, shows them no action, and refuses their POSTs', async () => {
    const cookie = await signIn(VIEWERS);
    for (const path of ['/ui/targets', '/ui/fragments/targets', '/ui/sources', '/ui/fragments/sources', '/ui/what-if']) {
      const response = await get(cookie, path);
      expect(response.status, path).toBe(200);
      const text = await response.text();
      expect(text.match(/<form /g)?.length ?? 0, path).toBeLessThanOrEqual(path === '/ui/what-if' ? 2 : path.includes('fragments') ? 0 : 1);
    }
    expect(await (await get(cookie, '/ui/targets')).text()).toContain(jobId);
    const csrf = await csrfOf(cookie);
    const retry = await post(cookie, `/ui/targets/hooks/dead-letters/${jobId}/retry`, { _csrf: csrf });
    expect(retry.status).toBe(403);
    expect(await retry.text()).toContain('operator role');
    expect((await post(cookie, '/ui/targets/hooks/dead-letters/retry-all', { _csrf: csrf })).status).toBe(403);
    expect((await post(cookie, '/ui/sources/acme/reconcile', { _csrf: csrf })).status).toBe(403);
    // What-if changes nothing, so viewers may run it (as in the API); the token is still required.
    expect((await post(cookie, '/ui/what-if', { _csrf: csrf, kind: 'sponsor_leaves', person: 'sam@example.com' })).status).toBe(200);
    expect((await post(cookie, '/ui/what-if', { kind: 'sponsor_leaves', person: 'sam@example.com' })).status).toBe(403);
    expect((await api('GET', '/targets/hooks/dead-letters')).body.total).toBe(1);
  });

  it('lets an operator retry a dead letter with the CSRF token only; the retry is audited with their name', async () => {
    const cookie = await signIn(OPERATORS);
    const path = `/ui/targets/hooks/dead-letters/${jobId}/retry`;
    expect((await post(cookie, path, {})).status).toBe(403);
    expect((await api('GET', '/targets/hooks/dead-letters')).body.total).toBe(1);
    receiver.failWith = null;
    const retried = await post(cookie, path, { _csrf: await csrfOf(cookie) });
    expect(retried.status).toBe(303);
    expect(retried.headers.get('location')).toBe('/ui/targets?done=retried#dead-hooks');
    await waitFor(async () => receiver.deliveries.length > 0, { timeoutMs: 15_000, what: 'the retried push delivered' });
    const again = await post(cookie, path, { _csrf: await csrfOf(cookie) });
    expect(again.status).toBe(404);
    const audit = await database.db.query<{ actor: string; action: string }>("select actor, action from audit_log where action like 'target.%' order by seq");
    expect(audit.rows).toEqual([{ actor: 'saml:otto@example.com', action: 'target.dead_letter_retried' }]);
  });

  it('keeps held-run decisions to admins, and answers malformed or unknown addresses with a 4xx page', async () => {
    const operator = await signIn(OPERATORS);
    const denied = await post(operator, '/ui/sources/acme/held-runs/1/confirm', { _csrf: await csrfOf(operator) });
    expect(denied.status).toBe(403);
    expect(await denied.text()).toContain('admin role');
    const admin = await signIn(ADMINS);
    const csrf = await csrfOf(admin);
    // acme receives SCIM pushes: it has no runs to decide, and saying so is not a server error.
    expect((await post(admin, '/ui/sources/acme/held-runs/1/discard', { _csrf: csrf })).status).toBe(400);
    expect((await post(admin, '/ui/sources/acme/held-runs/x/discard', { _csrf: csrf })).status).toBe(404);
    expect((await post(admin, `/ui/targets/hooks/dead-letters/${'j'.repeat(201)}/retry`, { _csrf: csrf })).status).toBe(404);
    expect((await post(admin, '/ui/targets/nope/dead-letters/a.v1/retry', { _csrf: csrf })).status).toBe(404);
  });
});
