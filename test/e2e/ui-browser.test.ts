import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/http.js';
import { waitFor } from '../support/ports.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startPrivateRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';
import { CLI, startTether, writeConfig, type TetherProcess } from '../support/tether-process.js';
import { TestIdp } from '../support/test-idp.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const SP_ENTITY_ID = 'urn:tether:browser-e2e';
const SCREENSHOTS = resolve(import.meta.dirname, '../../docs/screenshots');
const HOOK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/**
 * The dashboard in real headless Chromium: sign in through the test IdP (redirect, auto-posted signed
 * response), read an agent's rights with their provenance, and watch a revocation arrive without a reload
 * when the sponsor is deactivated over SCIM. Screenshots of the main pages go to docs/screenshots/.
 */
describe('dashboard in a real browser', () => {
  let database: TestDatabase;
  let redis: PrivateRedis;
  let idp: TestIdp;
  let tether: TetherProcess;
  let receiver: WebhookReceiver;
  let browser: Browser;
  let page: Page;
  let agentId: string;
  let sponsorId: string;

  const scim = (method: string, path: string, body?: unknown) => call(`${tether.url}/scim/v2${path}`, method, tether.scimToken, body);
  const api = (method: string, path: string, body?: unknown) => call(`${tether.url}/api/v1${path}`, method, tether.adminToken, body);
  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    database = await createTestDatabase({ migrate: false });
    redis = await startPrivateRedis();
    idp = await TestIdp.create();
    await idp.start();
    idp.audience = SP_ENTITY_ID;
    idp.user = { nameId: 'ada@example.com', groups: ['Tether Admins'] };
    // A webhook target that rejects every push (400 is permanent), so the first pushes become dead letters.
    receiver = new WebhookReceiver(HOOK_SECRET);
    receiver.failWith = 400;
    await receiver.start();
    const configPath = writeConfig(
      `
sources: [{ id: acme, kind: scim, displayName: Acme Okta }]
tools:
  - { id: crm.contacts.read, system: crm, risk: read }
  - { id: crm.contacts.write, system: crm, risk: write }
  - { id: finance.invoices.read, system: erp, risk: read }
grantRules:
  - { id: sales-crm, when: [{ group: Sales }], tools: ["crm.*"] }
  - { id: finance, when: [{ attribute: department, in: [Finance] }], tools: [finance.invoices.read] }
admin:
  saml:
    issuer: ${SP_ENTITY_ID}
    entryPoint: ${idp.ssoUrl}
    idpIssuer: ${idp.entityId}
    idpCert: file:./idp.pem
    roles: { admin: [Tether Admins], operator: [], viewer: [Tether Viewers] }
targets:
  - { id: hooks, kind: webhook, url: "${receiver.url}", secret: "file:./hook.secret", backoffMs: 50, maxAttempts: 3, allowPrivateNetwork: true }
`,
      { 'idp.pem': idp.keys.cert, 'hook.secret': HOOK_SECRET },
    );
    tether = await startTether({
      configPath, databaseUrl: database.url, redisUrl: redis.url, queuePrefix: uniquePrefix('ui'),
      env: { TETHER_SESSION_SECRET: 'browser-e2e-session-secret-0123456789abcdef', TETHER_OUTBOX_RELAY_MS: '300', TETHER_OUTBOX_GRACE_MS: '500' },
    });
    const sponsor = await scim('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'alice@example.com', displayName: 'Alice Archer', active: true,
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Sales' },
    });
    sponsorId = sponsor.body.id;
    await scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Sales', members: [{ value: sponsorId }] });
    const agent = await api('POST', '/agents', {
      name: 'pipeline-bot', purpose: 'Keeps the sales pipeline tidy', environment: 'production', sponsor: { id: sponsorId },
      requestedTools: ['crm.contacts.read', 'crm.contacts.write', 'finance.invoices.read'],
      delegation: { approver: 'bob@example.com', justification: 'Q3 pipeline clean-up' },
    });
    expect(agent.status).toBe(201);
    agentId = agent.body.id;
    await api('POST', '/agents', {
      name: 'report-writer', purpose: 'Drafts weekly CRM reports', environment: 'sandbox', sponsor: { id: sponsorId },
      requestedTools: ['crm.contacts.read'], delegation: { approver: 'bob@example.com', justification: 'Weekly reports' },
    });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  });

  afterAll(async () => {
    await browser?.close();
    expect(await tether?.stop()).toBe(0);
    await idp?.stop();
    await receiver?.stop();
    await redis?.stop();
    await database?.drop();
  });

  it('signs in through the IdP and lands on the page asked for, showing the rights and why', async () => {
    await page.goto(`${tether.url}/ui/agents/${agentId}`);
    await page.waitForURL(`${tether.url}/ui/agents/${agentId}`);
    expect(idp.requests).toHaveLength(1);
    await expect.poll(() => page.locator('h1').textContent()).toBe('pipeline-bot');
    const effective = page.locator('#effective');
    await expect.poll(() => effective.locator('tbody tr').count(), { timeout: 10_000 }).toBe(2);
    const text = await effective.textContent();
    expect(text).toContain('crm.contacts.read');
    expect(text).toContain('crm.contacts.write');
    expect(text).toContain('Sales');
    expect(await page.locator('#denied').textContent()).toContain('not_covered');
    expect(await page.locator('.who').textContent()).toContain('ada@example.com');
    await shot('agent-detail');
  });

  it('is keyboard-navigable: the first Tab reaches the skip link, which moves focus to the content', async () => {
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate('document.activeElement?.id')).toBe('main');
  });

  it('shows the overview, the agents list with filters, and people with the agents they sponsor', async () => {
    await page.goto(`${tether.url}/ui`);
    expect(await page.locator('main').textContent()).toContain('Acme Okta');
    await page.waitForTimeout(300);
    await shot('overview');
    await page.goto(`${tether.url}/ui/agents`);
    expect(await page.locator('table tbody tr').count()).toBe(2);
    await shot('agents');
    await page.getByLabel('Environment').selectOption('sandbox');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/environment=sandbox/);
    expect(await page.locator('table tbody').textContent()).toContain('report-writer');
    expect(await page.locator('table tbody').textContent()).not.toContain('pipeline-bot');
    await page.goto(`${tether.url}/ui/people?q=alice`);
    await page.getByRole('link', { name: 'alice@example.com' }).click();
    await page.waitForURL(`${tether.url}/ui/people/${sponsorId}`);
    const person = await page.locator('main').textContent();
    expect(person).toContain('pipeline-bot');
    expect(person).toContain('report-writer');
    expect(person).toContain('Sales');
    await shot('person');
  });

  it('targets: a rejected push shows as a dead letter and is retried from the page (audited)', async () => {
    const dead = await waitFor(async () => {
      const page = (await api('GET', '/targets/hooks/dead-letters')).body as { items: { jobId: string; agentId: string; version: number }[] };
      return page.items.find((item) => item.agentId === agentId);
    }, { timeoutMs: 15_000, what: 'a dead letter for pipeline-bot' });
    await page.goto(`${tether.url}/ui/targets`);
    const status = await page.locator('#targets-status').textContent();
    expect(status).toContain('hooks');
    expect(status).toContain('failing deliveries');
    const row = page.locator('tr', { hasText: dead.jobId });
    expect(await row.textContent()).toContain('pipeline-bot');
    expect(await row.textContent()).toContain('400');
    await shot('targets');

    receiver.failWith = null;
    // Keyboard: focus the row's Retry button and press Enter (a CSRF-protected POST, then back to the page).
    await page.getByRole('button', { name: `Retry ${dead.jobId}` }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/ui\/targets\?done=retried/);
    expect(await page.locator('main [role="status"]').first().textContent()).toContain('queued again');
    await waitFor(async () => receiver.latestFor(agentId), { timeoutMs: 15_000, what: 'the retried push delivered' });
    await expect.poll(() => page.locator('tr', { hasText: dead.jobId }).count(), { timeout: 10_000 }).toBe(0);
    const audit = await database.db.query<{ actor: string; subject_id: string; detail: { jobId: string } }>(
      "select actor, subject_id, detail from audit_log where action = 'target.dead_letter_retried'",
    );
    expect(audit.rows).toEqual([{ actor: 'saml:ada@example.com', subject_id: 'hooks', detail: { jobId: dead.jobId } }]);
  });

  it('overview: propagation latency p50/p99 chart from the deliveries, also in /api/v1', async () => {
    const series = await waitFor(async () => {
      const body = (await api('GET', '/metrics/propagation-latency?minutes=30&bucketSeconds=60')).body as { buckets: { count: number; p50Ms: number | null; p99Ms: number | null }[] };
      return body.buckets.some((bucket) => bucket.count > 0) ? body : undefined;
    }, { timeoutMs: 10_000, what: 'a latency sample' });
    expect(series.buckets).toHaveLength(30);
    const sample = series.buckets.find((bucket) => bucket.count > 0);
    expect(sample?.p99Ms).toBeGreaterThanOrEqual(sample?.p50Ms ?? Number.POSITIVE_INFINITY);
    await page.goto(`${tether.url}/ui`);
    const chart = page.getByRole('img', { name: 'Propagation latency p50 and p99' });
    await chart.waitFor();
    expect(await page.locator('figure.chart desc').textContent()).toMatch(/\d+ deliver(y|ies) in the last 60 minutes/);
    expect(await page.locator('figure.chart path.p50').getAttribute('d')).toMatch(/^M\d/);
    await shot('overview');
    const openapi = (await call(`${tether.url}/api/v1/openapi.json`, 'GET', null)).body as { paths: Record<string, unknown> };
    expect(openapi.paths).toHaveProperty('/metrics/propagation-latency');
  });

  it('sources: each source with its health; a SCIM source says there is nothing to reconcile', async () => {
    await page.goto(`${tether.url}/ui/sources`);
    expect(await page.locator('#sources-status').textContent()).toContain('Acme Okta');
    expect(await page.locator('main').textContent()).toContain('pushes changes over SCIM');
    await shot('sources');
  });

  it('what-if: a sponsor leaving is predicted in a table, nothing changes, and the POST needs the CSRF token', async () => {
    await page.goto(`${tether.url}/ui/what-if`);
    await page.getByLabel('A sponsor leaves (deactivated)').check();
    await page.getByLabel('Sponsor', { exact: true }).fill('alice@example.com');
    await page.getByRole('button', { name: 'Predict' }).click();
    const result = page.locator('#what-if-result');
    await result.waitFor();
    const pipeline = await result.locator('tr', { hasText: 'pipeline-bot' }).textContent();
    expect(pipeline).toContain('crm.contacts.read');
    expect(pipeline).toContain('crm.contacts.write');
    expect(pipeline).toContain('pending reassignment');
    expect(await result.textContent()).toContain('report-writer');
    expect(await page.getByLabel('Sponsor', { exact: true }).inputValue()).toBe('alice@example.com');
    await shot('what-if');
    expect((await api('GET', `/agents/${agentId}`)).body.effective).toHaveLength(2);

    await page.getByLabel('A sponsor moves between groups').check();
    await page.getByLabel('Leaves groups').fill('Sales');
    await page.getByRole('button', { name: 'Predict' }).click();
    await expect.poll(async () => page.locator('#what-if-result tr', { hasText: 'pipeline-bot' }).textContent()).not.toContain('pending reassignment');
    expect(await page.locator('#result').textContent()).toContain('2 agents would change');

    await page.getByLabel('Sponsor', { exact: true }).fill('nobody@example.com');
    await page.getByRole('button', { name: 'Predict' }).click();
    expect(await page.getByRole('alert').textContent()).toContain('No person with user name or id');

    const forged = await page.request.post(`${tether.url}/ui/what-if`, { form: { kind: 'sponsor_leaves', person: 'alice@example.com' }, maxRedirects: 0 });
    expect(forged.status()).toBe(403);
  });

  it('the CLI shows the same status, targets and agents from a remote Tether (tables, and --json)', async () => {
    const cli = async (...args: string[]) => (await promisify(execFile)(process.execPath, [CLI, ...args], {
      env: { PATH: process.env['PATH'] ?? '', TETHER_URL: tether.url, TETHER_TOKEN: tether.adminToken },
    })).stdout;
    const status = JSON.parse(await cli('status', '--json'));
    expect(status.status.agents.total).toBe(2);
    expect(status.sources).toEqual([expect.objectContaining({ id: 'acme', kind: 'scim', sync: null })]);
    expect(status.targets).toEqual([expect.objectContaining({ id: 'hooks', kind: 'webhook' })]);
    const text = await cli('status');
    expect(text).toMatch(/^acme\s+scim\s+1\s+1\s+-\s+-\s+push \(SCIM\)$/m);
    expect(text).toMatch(/^push\.hooks\s+\d+/m);
    expect(text).toMatch(/^hooks\s+webhook\s+1\s+0\s+\d+\s+1\s+\d{4}-/m);

    expect(JSON.parse(await cli('agents', 'list', '--environment', 'sandbox', '--json')).items.map((item: { name: string }) => item.name)).toEqual(['report-writer']);
    expect(await cli('agents', 'list')).toMatch(/^\S+\s+pipeline-bot\s+active\s+production\s+\d+\s+crm\.contacts\.read,crm\.contacts\.write$/m);
    const shown = await cli('agents', 'show', agentId);
    expect(shown).toMatch(/^crm\.contacts\.write\s+write\s+group Sales\s+sales-crm v1$/m);
    expect(shown).toMatch(/^finance\.invoices\.read\s+not_covered$/m);
    expect(JSON.parse(await cli('agents', 'show', agentId, '--json'))).toMatchObject({ id: agentId, name: 'pipeline-bot' });
  });

  it('shows a revocation live, without a reload, when the sponsor is deactivated over SCIM', async () => {
    await page.goto(`${tether.url}/ui/agents/${agentId}`);
    await page.evaluate("window.tetherMarker = 'same-document'");
    const deactivate = await scim('PATCH', `/Users/${sponsorId}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value: false }],
    });
    expect(deactivate.status).toBe(204);
    await page.locator('#effective', { hasText: 'This agent currently holds no rights' }).waitFor({ timeout: 15_000 });
    expect(await page.evaluate('window.tetherMarker')).toBe('same-document');
    expect(await page.locator('#denied').textContent()).toContain('sponsor_inactive');
    await shot('agent-revoked');
    await page.goto(`${tether.url}/ui`);
    await page.locator('main', { hasText: 'leaver' }).waitFor({ timeout: 10_000 });
    await shot('overview-after-leaver');
  });

  it('signs out', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${tether.url}/ui/signed-out`);
    await page.goto(`${tether.url}/ui`);
    await page.waitForURL(`${tether.url}/ui`);
    // The session ended, so reaching the dashboard again took a second round trip through the IdP.
    expect(idp.requests).toHaveLength(2);
  });

  it('queues: bull-board at /ui/queues behind the same sign-in, shown to a viewer, read-only', async () => {
    type BoardQueues = { queues: { name: string; isPaused: boolean; readOnlyMode: boolean; allowRetries: boolean; counts: Record<string, number> }[] };
    const QUEUE_NAMES = ['recompute', 'push.hooks', 'directory-sync', 'drift', 'governance'];

    // Not signed in: the page goes to sign-in (and back afterwards), the board's JSON API answers 401; no queue data.
    const anonymous = await browser.newContext();
    const unsigned = await anonymous.request.get(`${tether.url}/ui/queues`, { maxRedirects: 0 });
    expect(unsigned.status()).toBe(303);
    expect(unsigned.headers()['location']).toBe('/ui/login?RelayState=%2Fui%2Fqueues');
    const unsignedApi = await anonymous.request.get(`${tether.url}/ui/queues/api/queues`, { maxRedirects: 0 });
    expect(unsignedApi.status()).toBe(401);
    expect(await unsignedApi.text()).not.toContain('recompute');
    expect((await anonymous.request.put(`${tether.url}/ui/queues/api/queues/recompute/pause`, { maxRedirects: 0 })).status()).toBe(403);
    await anonymous.close();

    // A viewer signs in through the IdP on the way to /ui/queues and lands there.
    idp.user = { nameId: 'vera@example.com', groups: ['Tether Viewers'] };
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const viewer = await context.newPage();
    const refused: string[] = [];
    viewer.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) refused.push(message.text());
    });
    await viewer.goto(`${tether.url}/ui/queues`);
    await viewer.waitForURL(`${tether.url}/ui/queues`);
    expect(idp.requests).toHaveLength(3);
    await viewer.getByText('recompute', { exact: true }).first().waitFor({ timeout: 15_000 });
    expect(await viewer.locator('body').textContent()).toContain('push.hooks');
    await viewer.getByText(/^\d+ Jobs?$/).first().waitFor({ timeout: 15_000 });
    await viewer.screenshot({ path: join(SCREENSHOTS, 'queues.png'), fullPage: true });
    // Read-only: the failed push (report-writer's, never retried) is shown with its error, but bull-board offers
    // no retry / clean / promote / duplicate, and no pause, add or empty for the queue.
    await viewer.goto(`${tether.url}/ui/queues/queue/push.hooks?status=failed`);
    await viewer.getByText(/^[0-9a-f-]{36}\.v\d+$/).first().waitFor({ timeout: 15_000 });
    expect(await viewer.getByRole('button', { name: /retry|clean|remove|promote|duplicate|pause|resume|add|empty|obliterate/i }).count()).toBe(0);
    // Our CSP (with base-uri 'self' here) lets bull-board's own scripts, styles and API calls through; what it
    // refuses is the Google Fonts stylesheet and the inline styles of the loading placeholder, nothing else.
    expect(refused.filter((text) => !/fonts\.googleapis\.com|inline style/i.test(text))).toEqual([]);

    const board = async () => (await context.request.get(`${tether.url}/ui/queues/api/queues`)).json() as Promise<BoardQueues>;
    const before = await board();
    expect(before.queues.map((queue) => queue.name).sort()).toEqual([...QUEUE_NAMES].sort());
    expect(before.queues.every((queue) => queue.readOnlyMode && !queue.allowRetries && !queue.isPaused)).toBe(true);
    const counts = (state: BoardQueues, name: string) => state.queues.find((queue) => queue.name === name)?.counts;
    expect(counts(before, 'push.hooks')?.['failed']).toBeGreaterThan(0);

    // The nav links to it; the dashboard pages carry the session's CSRF token, which a mutating call still cannot use.
    await viewer.goto(`${tether.url}/ui`);
    expect(await viewer.locator('.who .badge').textContent()).toBe('viewer');
    const csrf = await viewer.locator('input[name="_csrf"]').first().inputValue();
    const attempts = [
      ['PUT', '/api/queues/recompute/pause'],
      ['PUT', '/api/queues/pause'],
      ['PUT', '/api/queues/push.hooks/retry/failed'],
      ['PUT', '/api/queues/push.hooks/clean/completed'],
      ['POST', '/api/queues/recompute/add'],
      ['PATCH', '/api/queues/drift/job-schedulers/anything'],
      ['DELETE', '/api/queues/recompute'],
    ] as const;
    for (const [method, path] of attempts) {
      const response = await context.request.fetch(`${tether.url}/ui/queues${path}`, {
        method, headers: { 'x-csrf-token': csrf, origin: tether.url }, data: { name: 'probe', data: {} }, maxRedirects: 0,
      });
      expect(response.status(), `${method} ${path}`).toBe(403);
      expect(await response.text()).toContain('read-only');
    }
    const after = await board();
    expect(after.queues.every((queue) => !queue.isPaused)).toBe(true);
    expect(counts(after, 'push.hooks')?.['failed']).toBe(counts(before, 'push.hooks')?.['failed']);
    expect(counts(after, 'push.hooks')?.['completed']).toBe(counts(before, 'push.hooks')?.['completed']);
    await viewer.getByRole('link', { name: 'Queues' }).click();
    await viewer.waitForURL(`${tether.url}/ui/queues`);
    await context.close();
  });
});
