import { sealAll as sealAllEntries } from '../support/audit.js';
import { execFile } from 'node:child_process';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/app/auth/tokens.js';
import type { AuditApi } from '../../src/http/api/audit-routes.js';
import { apiRouter } from '../../src/http/api/router.js';
import { auditPages } from '../../src/http/ui/audit-routes.js';
import { createStore, type Store } from '../../src/store/index.js';
import { appendAudit } from '../../src/store/audit.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { silentLogger } from '../support/pipeline.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');

/**
 * The audit log through the admin API over real HTTP on real PostgreSQL: search with filters and cursor
 * pagination, the streamed JSON lines export (itself audited), chain verification, roles, the OpenAPI
 * description, and `tether audit verify|export` against it (exit 2 naming the first broken entry).
 */
describe('audit log API and CLI', () => {
  let database: TestDatabase;
  let store: Store;
  let server: Server;
  let base: string;
  const tokens: Record<string, Principal> = {
    viewer: { tokenId: 'v1', kind: 'admin', role: 'viewer', sourceId: null, sourceIds: null, readOnly: false },
    scim: { tokenId: 's1', kind: 'scim', role: null, sourceId: 'src', sourceIds: null, readOnly: false },
  };
  const T0 = new Date('2025-06-01T00:00:00Z');
  const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

  const sealAll = () => sealAllEntries(database.db);
  const get = async (path: string, token = 'viewer') => fetch(`${base}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
  const cli = (args: string[]) => run(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], {
    env: { ...process.env, TETHER_URL: base, TETHER_TOKEN: 'viewer' }, cwd: ROOT,
  }).then(({ stdout, stderr }) => ({ code: 0, stdout, stderr }), (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }));

  beforeAll(async () => {
    database = await createTestDatabase();
    store = createStore(database.db);
    await database.db.transaction(async (tx) => {
      for (let index = 0; index < 30; index += 1) {
        await appendAudit(tx, {
          at: at(index), actor: index % 2 === 0 ? 'admin_token:a' : 'system:recompute', action: index % 3 === 0 ? 'grant.confirmed' : 'entitlements.changed',
          subjectType: 'agent', subjectId: `agent-${index % 5}`, detail: { index },
        });
      }
    });
    await sealAll();
    const app = express();
    const audit: AuditApi = {
      store,
      clock: () => new Date(),
    };
    // The dashboard's audit pages on the same use cases (sign-in and layout are the UI router's; here the body alone).
    app.use('/ui', auditPages({
      api: { agents: {} as never, readModels: store.readModels, status: () => Promise.reject(new Error('unused')), audit },
      render: (_request, _title, _nav, body) => body, actorOf: () => 'saml:ada@example.com', logger: silentLogger, clock: () => new Date(),
      saml: {} as never, session: {} as never, publicOrigin: 'http://127.0.0.1', formOrigins: [], audit: () => Promise.resolve(),
    }));
    app.use('/api/v1', apiRouter({
      agents: {} as never, readModels: store.readModels, status: () => Promise.reject(new Error('unused')),
      audit,
      authenticate: (token) => Promise.resolve(tokens[token] ?? null), logger: silentLogger, version: 'test', maxBodyBytes: 65_536,
    }));
    server = await new Promise((done) => {
      const listening = app.listen(0, '127.0.0.1', () => done(listening));
    });
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  });

  afterAll(async () => {
    await new Promise((done) => server?.close(done));
    await database?.drop();
  });

  it('searches newest first with filters and walks pages by cursor without gaps or repeats', async () => {
    const first = await (await get('/audit?actor=admin_token:a&limit=4')).json() as { items: { seq: number; actor: string; detail: { index: number } }[]; next: string | null };
    expect(first.items.map((item) => item.detail.index)).toEqual([28, 26, 24, 22]);
    expect(first.next).not.toBeNull();
    const seen = [...first.items];
    let next = first.next;
    while (next !== null) {
      const page = await (await get(`/audit?actor=admin_token:a&limit=4&cursor=${next}`)).json() as typeof first;
      seen.push(...page.items);
      next = page.next;
    }
    expect(seen.map((item) => item.detail.index)).toEqual([28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0]);

    const ranged = await (await get(`/audit?action=grant.*&subjectType=agent&subjectId=agent-0&from=${at(0).toISOString()}&to=${at(15).toISOString()}`)).json() as typeof first;
    expect(ranged.items.map((item) => item.detail.index)).toEqual([0]);
    const bad = await get(`/audit?from=${at(10).toISOString()}&to=${at(5).toISOString()}`);
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    expect((await get('/audit?limit=0')).status).toBe(400);
    expect((await get('/audit', 'scim')).status).toBe(403);
    expect((await get('/audit', 'nobody')).status).toBe(401);
  });

  it('exports matching entries as streamed JSON lines, oldest first, and audits the export', async () => {
    const response = await get(`/audit/export?actor=system:recompute&from=${at(20).toISOString()}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = (await response.text()).trimEnd().split('\n').map((line) => JSON.parse(line) as { detail: { index: number }; chainSeq: number | null; at: string });
    expect(lines.map((line) => line.detail.index)).toEqual([21, 23, 25, 27, 29]);
    expect(lines[0]?.at).toBe(at(21).toISOString());
    const exported = await database.db.query<{ actor: string; detail: { filter: Record<string, string> } }>(`select actor, detail from audit_log where action = 'audit.exported'`);
    expect(exported.rows).toEqual([{ actor: 'admin_token:v1', detail: { filter: { actor: 'system:recompute', from: at(20).toISOString() } } }]);
    expect((await get(`/audit/export?from=nope`)).status).toBe(400);
  });

  it('the dashboard page searches and exports through the same use cases', async () => {
    const page = await (await fetch(`${base}/ui/audit?action=grant.*&subjectId=agent-3&to=2025-06-01T00:20:00`)).text();
    expect(page).toContain('<code>grant.confirmed</code>');
    expect(page.match(/<tr>\n<td><time/g)).toHaveLength(2);
    expect(page).toContain('href="/ui/audit/export?action=grant.*&amp;subjectId=agent-3&amp;to=2025-06-01T00%3A20%3A00"');
    expect(await (await fetch(`${base}/ui/audit?from=yesterday`)).text()).toContain('role="alert"');
    const exported = await fetch(`${base}/ui/audit/export?action=grant.*&subjectId=agent-3`);
    expect(exported.headers.get('content-type')).toContain('application/x-ndjson');
    expect((await exported.text()).trimEnd().split('\n').map((line) => (JSON.parse(line) as { detail: { index: number } }).detail.index)).toEqual([3, 18]);
    const audited = await database.db.query<{ actor: string }>(`select actor from audit_log where action = 'audit.exported' and actor like 'saml:%'`);
    expect(audited.rows).toEqual([{ actor: 'saml:ada@example.com' }]);
  });

  it('describes the routes in the OpenAPI document', async () => {
    const document = await (await fetch(`${base}/api/v1/openapi.json`)).json() as { paths: Record<string, Record<string, { 'x-required-role': string; responses: Record<string, { content?: Record<string, unknown> }> }>> };
    expect(document.paths['/audit']?.['get']?.['x-required-role']).toBe('viewer');
    expect(Object.keys(document.paths['/audit/export']?.['get']?.responses['200']?.content ?? {})).toEqual(['application/x-ndjson']);
    expect(document.paths['/audit/verify']?.['get']).toBeDefined();
  });

  it('verify: intact chain exits 0; after tampering the API and `tether audit verify` name the first broken entry and the CLI exits 2', async () => {
    await sealAll();
    const intact = await (await get('/audit/verify')).json() as { ok: boolean; entries: number };
    expect(intact).toMatchObject({ ok: true, firstBroken: null });
    expect(intact.entries).toBeGreaterThanOrEqual(30);
    const good = await cli(['audit', 'verify']);
    expect(good).toMatchObject({ code: 0 });
    expect(good.stdout).toContain('audit chain intact');

    const exported = await cli(['audit', 'export', '--json', '--action', 'grant.*', '--until', at(10).toISOString()]);
    expect(exported.code).toBe(0);
    expect(exported.stdout.trimEnd().split('\n').map((line) => (JSON.parse(line) as { detail: { index: number } }).detail.index)).toEqual([0, 3, 6, 9]);

    const victim = await database.db.query<{ seq: string }>(`select seq from audit_log where detail ->> 'index' = '12'`);
    const seq = Number(victim.rows[0]?.seq);
    await database.db.query(`update audit_log set detail = '{"index": 99}' where seq = $1`, [seq]);
    const broken = await (await get('/audit/verify')).json() as { ok: boolean; firstBroken: { seq: number; action: string } };
    expect(broken).toMatchObject({ ok: false, firstBroken: { seq, action: 'grant.confirmed' } });
    const failed = await cli(['audit', 'verify']);
    expect(failed.code).toBe(2);
    expect(failed.stderr).toContain(`audit chain BROKEN at entry seq ${seq}`);
  }, 60_000);
});
