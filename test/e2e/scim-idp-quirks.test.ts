import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type JsonResponse } from '../support/http.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startPrivateRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';
import { startTether, writeConfig, type TetherProcess } from '../support/tether-process.js';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/idp');
const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

type Json = Record<string, unknown>;

interface Step {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  readonly bodyFrom?: string;
  readonly capture?: Readonly<Record<string, string>>;
  readonly save?: string;
  readonly expect: { readonly status: number; readonly body?: unknown; readonly absent?: readonly (string | readonly string[])[] };
}

interface Fixture {
  readonly idp: string;
  readonly title: string;
  readonly source: string;
  /** Sent with every step (Okta identifies itself by User-Agent). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly steps: readonly Step[];
}

function loadFixtures(): { file: string; fixture: Fixture }[] {
  return ['okta', 'entra'].flatMap((idp) =>
    readdirSync(join(FIXTURES, idp))
      .filter((name) => name.endsWith('.json'))
      .sort()
      .map((name) => ({ file: `${idp}/${name}`, fixture: JSON.parse(readFileSync(join(FIXTURES, idp, name), 'utf8')) as Fixture })),
  );
}

/** `{{name}}` → captured value, in every string of a JSON value (keys included). */
function substitute(value: unknown, vars: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') {
    const whole = /^\{\{(\w+)\}\}$/.exec(value);
    if (whole?.[1] !== undefined) return lookupVar(vars, whole[1]);
    return value.replace(/\{\{(\w+)\}\}/g, (_match, name: string) => lookupVar(vars, name));
  }
  if (Array.isArray(value)) return value.map((item) => substitute(item, vars));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [substitute(key, vars) as string, substitute(item, vars)]));
  }
  return value;
}

function lookupVar(vars: ReadonlyMap<string, string>, name: string): string {
  const value = vars.get(name);
  if (value === undefined) throw new Error(`fixture uses {{${name}}} before capturing it`);
  return value;
}

/** Fixture paths carry their query unencoded (as the docs print them); encode each value. */
function encodePath(path: string): string {
  const [pathname = '', query] = path.split(/\?(.*)/s);
  if (query === undefined) return pathname;
  const encoded = query.split('&').map((pair) => {
    const [key = '', value = ''] = pair.split(/=(.*)/s);
    return `${encodeURIComponent(key)}=${encodeURIComponent(value)}`;
  });
  return `${pathname}?${encoded.join('&')}`;
}

function at(body: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>((node, key) => (node !== null && typeof node === 'object' ? (node as Json)[key] : undefined), body);
}

/** Every value of a `password` key anywhere in a request body. */
function passwordsIn(value: unknown, found: Set<string>): Set<string> {
  if (Array.isArray(value)) value.forEach((item) => passwordsIn(item, found));
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key.toLowerCase() === 'password' && typeof item === 'string') found.add(item);
      else passwordsIn(item, found);
    }
  }
  return found;
}

function isScimError(response: JsonResponse): void {
  expect(response.body).toMatchObject({ schemas: [ERROR_SCHEMA], status: String(response.status) });
  expect(response.headers.get('content-type')).toContain('application/scim+json');
}

/**
 * Replays what Okta and Microsoft Entra ID actually send (test/fixtures/idp, paraphrased from their public
 * docs) against a real Tether process, asserting status codes and the state read back over GET, and that a
 * password sent on create or PUT is never returned nor stored.
 */
describe('SCIM: Okta and Entra request shapes, end to end', () => {
  let database: TestDatabase;
  let redis: PrivateRedis;
  let tether: TetherProcess;
  const passwords = new Set<string>();
  const responseTexts: string[] = [];

  const scim = async (method: string, path: string, body?: unknown, headers?: Record<string, string>) => {
    const response = await call(`${tether.url}/scim/v2${path}`, method, tether.scimToken, body, headers);
    responseTexts.push(JSON.stringify(response.body));
    return response;
  };

  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
    redis = await startPrivateRedis();
    const configPath = writeConfig(`
sources: [{ id: idp, kind: scim }]
tools:
  - { id: crm.contacts.read, system: crm, risk: read }
grantRules:
  - { id: sales-crm, when: [{ group: Sales }], tools: ["crm.*"] }
targets: []
`);
    tether = await startTether({ configPath, databaseUrl: database.url, redisUrl: redis.url, queuePrefix: uniquePrefix('e2e-idp') });
  });

  afterAll(async () => {
    const code = await tether?.stop();
    expect(code).toBe(0);
    await redis?.stop();
    await database?.drop();
  });

  for (const { file, fixture } of loadFixtures()) {
    it(`${file}: ${fixture.title}`, async () => {
      const vars = new Map<string, string>();
      const saved = new Map<string, Json>();
      for (const step of fixture.steps) {
        const path = encodePath(substitute(step.path, vars) as string);
        let body = step.body === undefined ? undefined : substitute(step.body, vars);
        if (step.bodyFrom !== undefined) {
          const base = saved.get(step.bodyFrom);
          if (base === undefined) throw new Error(`${file}: nothing saved as ${step.bodyFrom}`);
          body = { ...base, ...(body as Json | undefined) };
        }
        passwordsIn(body, passwords);
        let response = await scim(step.method, path, body, fixture.headers);
        // RFC 7644 §3.5.2: a successful PATCH may answer 204 without a body; then read the resource back.
        if (step.method === 'PATCH' && step.expect.status === 200 && response.status === 204) {
          response = { ...(await scim('GET', path.split('?')[0] ?? path, undefined, fixture.headers)), status: 200 };
        }
        const where = `${file} › ${step.name}: ${step.method} ${path} → ${response.status} ${JSON.stringify(response.body).slice(0, 400)}`;
        expect(response.status, where).toBe(step.expect.status);
        if (response.status >= 400) isScimError(response);
        if (step.expect.body !== undefined) expect(response.body, where).toMatchObject(substitute(step.expect.body, vars) as Json);
        for (const absent of step.expect.absent ?? []) {
          expect(at(response.body, typeof absent === 'string' ? absent.split('.') : absent), `${where} has ${String(absent)}`).toBeUndefined();
        }
        for (const [name, field] of Object.entries(step.capture ?? {})) {
          const value = at(response.body, field.split('.'));
          expect(typeof value, `${where}: capture ${field}`).toBe('string');
          vars.set(name, value as string);
        }
        if (step.save !== undefined) saved.set(step.save, response.body as Json);
        if (response.status < 300 && response.status !== 204 && ['User', 'Group'].includes(String(at(response.body, ['meta', 'resourceType'])))) {
          expect(response.headers.get('etag'), `${where}: ETag`).toMatch(/^W\/"\d+"$/);
        }
      }
    });
  }

  it('never returns nor stores a password sent by an IdP', async () => {
    expect(passwords.size).toBeGreaterThan(0);
    for (const text of responseTexts) {
      expect(text.toLowerCase()).not.toContain('"password"');
      for (const password of passwords) expect(text).not.toContain(password);
    }
    const stored = await database.db.query<{ row: string }>('select row_to_json(p)::text as row from persons p');
    expect(stored.rows.length).toBeGreaterThan(0);
    for (const { row } of stored.rows) {
      expect(row.toLowerCase()).not.toContain('"password"');
      for (const password of passwords) expect(row).not.toContain(password);
    }
    expect(tether.output()).not.toMatch(/Okta-Pa55/);
  });

  it('ETags: If-None-Match gives 304, a stale If-Match gives 412 and writes nothing', async () => {
    const created = await scim('POST', '/Users', { userName: 'etag.user@example.com', active: true });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const tag = created.headers.get('etag') ?? '';
    expect(tag).toBe(created.body.meta.version);
    const unchanged = await fetch(`${tether.url}/scim/v2/Users/${id}`, { headers: { authorization: `Bearer ${tether.scimToken}`, 'if-none-match': tag } });
    expect(unchanged.status).toBe(304);
    const update = { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'Etag' }] };
    const fresh = await scim('PATCH', `/Users/${id}`, update, { 'if-match': tag, prefer: 'return=representation' });
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get('etag')).not.toBe(tag);
    const stale = await scim('PATCH', `/Users/${id}`, { ...update, Operations: [{ op: 'replace', path: 'displayName', value: 'Stale' }] }, { 'if-match': tag });
    expect(stale.status).toBe(412);
    isScimError(stale);
    expect((await scim('GET', `/Users/${id}`)).body.displayName).toBe('Etag');
  });

  it('unknown ids are 404 with a SCIM error, for every verb', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    const patch = { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'x' }] };
    for (const [method, path, body] of [
      ['GET', `/Users/${missing}`, undefined],
      ['PUT', `/Users/${missing}`, { userName: 'nobody@example.com' }],
      ['PATCH', `/Users/${missing}`, patch],
      ['DELETE', `/Users/${missing}`, undefined],
      ['GET', `/Groups/${missing}`, undefined],
      ['PUT', `/Groups/${missing}`, { displayName: 'Nobody' }],
      ['PATCH', `/Groups/${missing}`, patch],
      ['DELETE', `/Groups/${missing}`, undefined],
    ] as const) {
      const response = await scim(method, path, body);
      expect(response.status, `${method} ${path}`).toBe(404);
      isScimError(response);
    }
  });
});
