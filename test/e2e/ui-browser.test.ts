import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/http.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startPrivateRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';
import { startTether, writeConfig, type TetherProcess } from '../support/tether-process.js';
import { TestIdp } from '../support/test-idp.js';

const SP_ENTITY_ID = 'urn:tether:browser-e2e';
const SCREENSHOTS = resolve(import.meta.dirname, '../../docs/screenshots');

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
    roles: { admin: [Tether Admins], operator: [], viewer: [] }
`,
      { 'idp.pem': idp.keys.cert },
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
});
