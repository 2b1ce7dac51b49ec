import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/http.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startPrivateRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';
import { startTether, writeConfig, type TetherProcess } from '../support/tether-process.js';

const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const MISSING_ID = '00000000-0000-4000-8000-00000000dead';
/** Runs per property; eight properties, so about 150 requests of garbage in all. */
const RUNS = 19;

interface Garbage {
  readonly method: string;
  /** Relative to /scim/v2, already encoded. */
  readonly path: string;
  /** Raw bytes as sent; JSON bodies are serialised by the generator. */
  readonly body?: string | Uint8Array;
  readonly headers?: Readonly<Record<string, string>>;
}

type Json = Record<string, unknown>;

const json = (value: unknown) => JSON.stringify(value);
const scimJson = { 'content-type': 'application/scim+json' };
const patchBody = (operations: unknown[]) => json({ schemas: [PATCH_OP], Operations: operations });

// ---- value generators -------------------------------------------------------------------------------------

const KNOWN = new Set(['username', 'externalid', 'displayname', 'active', 'members', 'id', 'meta', 'schemas', 'password', 'groups', 'emails', 'name']);
/** Unknown attributes with arbitrary names and values: never enough to make a bad body valid. */
const unknownAttributes = fc.dictionary(fc.string({ maxLength: 12 }).filter((key) => !KNOWN.has(key.toLowerCase()) && !key.toLowerCase().startsWith('urn:')), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 3 });
const notAnObject = fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 20 }), fc.boolean(), fc.constant(null), fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }));
const notAString = fc.oneof(fc.integer(), fc.boolean(), fc.array(fc.string(), { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }));
const hugeString = (min: number) => fc.integer({ min, max: min + 4096 }).map((length) => 'x'.repeat(length));
/** Strings PostgreSQL cannot store: NUL, or an unpaired surrogate (jsonb refuses its escape). */
const unstorableString = fc.tuple(fc.string({ maxLength: 8 }), fc.constantFrom('\u0000', '\ud800', '\udfff'), fc.string({ maxLength: 8 })).map(([a, bad, b]) => `${a}${bad}${b}`);
const deep = (levels: number, leaf: unknown): unknown => Array.from({ length: levels }).reduce<unknown>((inner, _, index) => (index % 2 === 0 ? { n: inner } : [inner]), leaf);
const deepValue = fc.integer({ min: 17, max: 400 }).map((levels) => deep(levels, 'leaf'));
const notBooleanLike = fc.oneof(fc.constantFrom('maybe', 'yes', '1', '', 'tru e'), fc.integer(), fc.constant({}), fc.constant([]));
/**
 * Member values no request may carry: empty or absurdly long. (Well-formed ids that name nothing are ignored,
 * not refused — IdPs push members outside the provisioning scope — see the dedicated test below.)
 */
const badMemberId = fc.oneof(fc.constant(''), fc.integer({ min: 257, max: 2000 }).map((length) => 'x'.repeat(length)));
/** Attribute paths no SCIM grammar accepts, injection attempts included. */
const badPath = fc.oneof(
  fc.constantFrom(
    'members[value eq "x"] or 1=1', "'); drop table persons;--", 'name..givenName', '1name', 'emails[type eq "work"', 'emails[type eq]',
    'emails[type eq "work"]x', 'a.b.c.d', 'urn:', 'emails[type eq "work"]].value', 'name.givenName;--', '.', '[]', 'emails[(]',
  ),
  fc.string({ maxLength: 30 }).map((tail) => `1${tail}`),
  fc.string({ maxLength: 30 }).map((tail) => `name..${tail}`),
);

// ---- request generators -----------------------------------------------------------------------------------

interface Ids {
  readonly seedUser: string;
  readonly seedUserName: string;
  readonly otherUser: string;
  readonly group: string;
  readonly limit: number;
}

function userBodies(ids: Ids): fc.Arbitrary<unknown> {
  const named = (fields: fc.Arbitrary<Json>) => fc.tuple(unknownAttributes, fields).map(([extra, own]) => ({ ...extra, ...own }));
  return fc.oneof(
    notAnObject,
    named(fc.record({ userName: fc.oneof(notAString, fc.constantFrom('', '   '), hugeString(257), unstorableString) })),
    named(fc.record({ userName: fc.constant('fuzz.user'), active: notBooleanLike })),
    named(fc.record({ userName: fc.constant('fuzz.user'), externalId: fc.oneof(notAString, hugeString(513)) })),
    named(fc.record({ userName: fc.constant('fuzz.user'), displayName: fc.oneof(notAString, unstorableString) })),
    named(fc.record({ userName: fc.constant('fuzz.user'), emails: fc.oneof(fc.string(), fc.integer(), fc.constant([1, 2]), fc.constant({ value: 'a@b' })) })),
    named(fc.record({ userName: fc.constant('fuzz.user'), name: fc.oneof(fc.string(), fc.integer(), fc.constant(['x'])) })),
    named(fc.record({ userName: fc.constant('fuzz.user'), [ENTERPRISE]: fc.oneof(fc.string(), fc.integer(), fc.constant([]), fc.constant({ manager: 42 }), fc.constant({ manager: [{ value: 'x' }] })) })),
    named(fc.record({ userName: fc.constant('fuzz.user'), custom: deepValue })),
    named(fc.record({ userName: fc.constant('fuzz.user'), nickName: unstorableString })),
    fc.constantFrom<unknown>({ userName: 'fuzz.user', 'bad name!': 1 }, { userName: 'fuzz.user', '': 1 }, { userName: 'fuzz.user', '1st': true }),
    // uniqueness: the seed user's name in another case (409 on create, and on PUT of the other user)
    fc.constant({ userName: ids.seedUserName.toUpperCase(), active: true }),
  );
}

function groupBodies(ids: Ids): fc.Arbitrary<unknown> {
  const named = (fields: fc.Arbitrary<Json>) => fc.tuple(unknownAttributes, fields).map(([extra, own]) => ({ ...extra, ...own }));
  return fc.oneof(
    notAnObject,
    named(fc.record({ displayName: fc.oneof(notAString, fc.constantFrom('', '  '), hugeString(513), unstorableString) })),
    named(fc.record({ members: fc.constant([{ value: ids.seedUser }]) })),
    named(fc.record({ displayName: fc.constant('Fuzz'), members: fc.oneof(fc.string(), fc.integer(), fc.constant([{}]), fc.constant([1]), badMemberId.map((value) => [{ value }])) })),
    named(fc.record({ displayName: fc.constant('Fuzz'), externalId: notAString })),
    named(fc.record({ displayName: fc.constant('Fuzz'), custom: deepValue })),
  );
}

/** Operations that would succeed alone; a patch mixes them with one bad operation, so a partial write shows. */
const goodUserOps = fc.subarray([
  { op: 'replace', path: 'displayName', value: 'Fuzzed' },
  { op: 'Replace', path: 'active', value: 'False' },
  { op: 'add', path: 'title', value: 'Fuzzer' },
  { op: 'add', path: 'emails', value: [{ value: 'fuzz@example.com', type: 'other' }] },
  { op: 'replace', value: { 'name.givenName': 'Fuzz' } },
]);

function badUserOps(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.record({ op: fc.oneof(fc.constantFrom('move', 'copy', 'test', '', 're place', 'addd'), fc.integer(), fc.constant(null)), path: fc.constant('displayName'), value: fc.constant('x') }),
    fc.record({ op: fc.constantFrom('add', 'replace', 'remove'), path: badPath, value: fc.jsonValue({ maxDepth: 2 }) }),
    fc.record({ op: fc.constantFrom('add', 'replace'), path: fc.oneof(fc.integer(), fc.boolean(), fc.constant({}), fc.constant([]), fc.constant('')), value: fc.constant('x') }),
    fc.record({ op: fc.constantFrom('add', 'replace', 'remove'), path: fc.constantFrom('id', 'meta', 'meta.created', 'groups', 'ID'), value: fc.constant('x') }),
    fc.constant({ op: 'remove' }),
    fc.constant({ op: 'Remove', value: { displayName: 'x' } }),
    fc.constant({ op: 'replace', path: 'emails[type eq "nope"].value', value: 'x@y' }),
    fc.record({ op: fc.constantFrom('add', 'replace'), path: fc.constant('active'), value: notBooleanLike }),
    fc.record({ op: fc.constant('replace'), path: fc.constant('userName'), value: fc.oneof(notAString, fc.constant(''), fc.constant(null)) }),
    fc.record({ op: fc.constantFrom('add', 'replace'), value: fc.oneof(fc.string(), fc.integer(), fc.constant([]), fc.constant(null)) }),
    fc.record({ op: fc.constant('replace'), value: fc.constantFrom({ 'bad key!': 1 }, { '1x': 1 }, { 'a..b': 1 }) }),
    fc.record({ op: fc.constantFrom('add', 'replace'), path: fc.constantFrom('displayName', 'nickName', 'name.givenName'), value: unstorableString }),
    fc.record({ op: fc.constant('add'), path: fc.constant('x'), value: deepValue }),
    fc.record({ op: fc.constant('replace'), path: fc.constantFrom('emails', 'phoneNumbers', 'name', ENTERPRISE), value: fc.oneof(fc.string(), fc.integer()) }),
    fc.record({ op: fc.constant('replace'), path: fc.constant(`${ENTERPRISE}:manager`), value: fc.oneof(fc.integer(), fc.constant([{ value: 'x' }])) }),
    fc.constant({ op: 'add', path: 'displayName' }),
  );
}

const goodGroupOps = (ids: Ids) =>
  fc.subarray([
    { op: 'replace', path: 'displayName', value: 'Fuzzed' },
    { op: 'add', path: 'members', value: [{ value: ids.otherUser }] },
    { op: 'remove', path: `members[value eq "${ids.seedUser}"]` },
    { op: 'replace', value: { id: ids.group, displayName: 'Renamed' } },
  ]);

function badGroupOps(ids: Ids): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.record({ op: fc.oneof(fc.constantFrom('move', 'copy', 'test', ''), fc.integer()), path: fc.constant('members'), value: fc.constant([{ value: ids.otherUser }]) }),
    fc.record({ op: fc.constantFrom('add', 'replace'), path: fc.constant('members'), value: badMemberId.map((value) => [{ value }]) }),
    fc.record({ op: fc.constant('remove'), path: fc.constant('members'), value: badMemberId.map((value) => [{ value }]) }),
    fc.record({ op: fc.constantFrom('add', 'replace'), path: fc.constant('members'), value: fc.oneof(fc.constant(''), fc.integer(), fc.constant([{}]), fc.constant([null])) }),
    fc.record({ op: fc.constant('add'), path: fc.constant('members'), value: fc.constant([{ value: ids.group }]) }),
    fc.record({ op: fc.constantFrom('add', 'replace', 'remove'), path: fc.constantFrom('members[value eq "x"] or 1=1', 'members[display eq "x"]', `members[value eq "${ids.otherUser}"].display`, 'members.value'), value: fc.constant([{ value: ids.otherUser }]) }),
    fc.record({ op: fc.constantFrom('add', 'replace'), path: fc.constant(`members[value eq "${ids.otherUser}"]`), value: fc.constant({ value: ids.otherUser }) }),
    fc.record({ op: fc.constant('replace'), path: fc.constant('displayName'), value: fc.oneof(notAString, fc.constant(''), fc.constant(null), unstorableString) }),
    fc.constant({ op: 'remove', path: 'displayName' }),
    fc.record({ op: fc.constantFrom('add', 'replace', 'remove'), path: fc.constantFrom('id', 'meta', 'meta.version'), value: fc.constant('x') }),
    fc.constant({ op: 'remove' }),
    fc.record({ op: fc.constantFrom('add', 'replace', 'remove'), path: badPath, value: fc.jsonValue({ maxDepth: 2 }) }),
    fc.record({ op: fc.constant('replace'), value: fc.constantFrom<unknown>({ displayName: 5 }, { 'bad key!': 1 }, { displayName: null }) }),
  );
}

function patchEnvelopes(good: fc.Arbitrary<unknown[]>, bad: fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  return fc.oneof(
    // The bad operation comes last: a later good one could legitimately overwrite a bad value.
    { weight: 4, arbitrary: fc.tuple(good, bad).map(([before, wrong]) => patchBody([...before, wrong])) },
    { weight: 1, arbitrary: notAnObject.map(json) },
    { weight: 1, arbitrary: fc.constantFrom(json({ schemas: [PATCH_OP], Operations: [] }), json({ schemas: [PATCH_OP] }), json({ schemas: [PATCH_OP], Operations: 'replace' }), json({ schemas: [PATCH_OP], Operations: [null] })) },
    { weight: 1, arbitrary: good.filter((ops) => ops.length > 0).map((ops) => json({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOps'], Operations: ops })) },
  );
}

/**
 * Filters that the User schema's types refuse (a boolean compared with a string or ordered, a string ordered
 * against a boolean, a sub-attribute of a simple one). On /Groups the same names are not schema attributes
 * but a group's stored extension attributes, so some are valid there and simply match nothing.
 */
const USER_TYPE_ERRORS = ['active gt true', 'active eq "maybe"', 'userName gt true', 'name.givenName.x eq "a"'] as const;

/** Filters that no SCIM grammar accepts, or that Tether refuses as too deep, too wide or too long. */
function badFilters(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(
      'userName eq', 'eq "a"', '"a" eq userName', 'userName xx "a"', 'userName eq "a" and', 'userName pr pr', 'userName eq "a" or 1=1',
      'members[value eq "x"] or 1=1', 'userName eq "x"; drop table persons;--', "userName eq 'x'); drop table persons;--", 'userName eq "a\u0000"',
      'meta.created gt "yesterday"', 'meta.lastModified gt "+275760-09-13T00:00:00Z"', 'meta.created gt 5',
      'userName[value eq "x"]', 'emails[value eq "a" and emails[type eq "b"]]', '()', '(', ')', 'not',
      'userName eq "a" userName eq "b"', 'emails[type eq "work"', 'userName eq "unterminated',
    ),
    fc.integer({ min: 1, max: 1500 }).map((depth) => `${'('.repeat(depth)}userName eq "a"`),
    fc.integer({ min: 17, max: 400 }).map((depth) => `${'not ('.repeat(depth)}userName eq "a"${')'.repeat(depth)}`),
    fc.integer({ min: 17, max: 200 }).map((depth) => `${'(userName eq "a" and '.repeat(depth)}active eq true${')'.repeat(depth)}`),
    fc.integer({ min: 101, max: 200 }).map((terms) => Array.from({ length: terms }, (_, index) => `userName eq "u${index}"`).join(' or ')),
    fc.integer({ min: 4097, max: 20_000 }).map((length) => `userName eq "${'a'.repeat(length)}"`),
    fc.string({ maxLength: 60 }).map((tail) => `)${tail}`),
  );
}

function requests(ids: Ids) {
  const rawTargets: readonly [string, string][] = [
    ['POST', '/Users'], ['PUT', `/Users/${ids.seedUser}`], ['PATCH', `/Users/${ids.seedUser}`], ['POST', '/Groups'],
    ['PUT', `/Groups/${ids.group}`], ['PATCH', `/Groups/${ids.group}`], ['POST', '/Users/.search'], ['POST', '/Groups/.search'],
  ];
  const validUser = json({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'would.be.valid@example.com', active: true });
  return {
    users: fc.oneof(
      userBodies(ids).map((body): Garbage => ({ method: 'POST', path: '/Users', body: json(body), headers: scimJson })),
      userBodies(ids).map((body): Garbage => ({ method: 'PUT', path: `/Users/${ids.otherUser}`, body: json(body), headers: scimJson })),
      fc.constant<Garbage>({ method: 'PUT', path: `/Users/${MISSING_ID}`, body: validUser, headers: scimJson }),
    ),
    groups: fc.oneof(
      groupBodies(ids).map((body): Garbage => ({ method: 'POST', path: '/Groups', body: json(body), headers: scimJson })),
      groupBodies(ids).map((body): Garbage => ({ method: 'PUT', path: `/Groups/${ids.group}`, body: json(body), headers: scimJson })),
    ),
    userPatches: fc.oneof(
      { weight: 5, arbitrary: patchEnvelopes(goodUserOps, badUserOps()).map((body): Garbage => ({ method: 'PATCH', path: `/Users/${ids.seedUser}`, body, headers: scimJson })) },
      { weight: 1, arbitrary: goodUserOps.filter((ops) => ops.length > 0).map((ops): Garbage => ({ method: 'PATCH', path: `/Users/${MISSING_ID}`, body: patchBody(ops), headers: scimJson })) },
    ),
    groupPatches: fc.oneof(
      { weight: 5, arbitrary: patchEnvelopes(goodGroupOps(ids), badGroupOps(ids)).map((body): Garbage => ({ method: 'PATCH', path: `/Groups/${ids.group}`, body, headers: scimJson })) },
      { weight: 1, arbitrary: goodGroupOps(ids).filter((ops) => ops.length > 0).map((ops): Garbage => ({ method: 'PATCH', path: `/Groups/${MISSING_ID}`, body: patchBody(ops), headers: scimJson })) },
    ),
    filters: fc.oneof(
      fc.tuple(badFilters(), fc.constantFrom('Users', 'Groups')),
      fc.tuple(fc.constantFrom(...USER_TYPE_ERRORS), fc.constant('Users')),
    ).chain(([filter, resource]) => fc.tuple(fc.constant(filter), fc.constant(resource), fc.boolean())).map(([filter, resource, viaSearch]): Garbage =>
      viaSearch
        ? { method: 'POST', path: `/${resource}/.search`, body: json({ schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter }), headers: scimJson }
        : { method: 'GET', path: `/${resource}?filter=${encodeURIComponent(filter)}` }),
    listParams: fc.tuple(
      fc.constantFrom('Users', 'Groups'),
      fc.oneof(
        fc.constantFrom('count=abc', 'count=1.5', 'count=1e400', 'startIndex=x', 'startIndex=NaN', 'sortOrder=sideways', 'sortOrder=ASC', 'filter=a&filter=b', 'count=1&count=x'),
        fc.string({ maxLength: 10 }).filter((text) => !/^-?\d+$/.test(text.trim()) && text.trim() !== '').map((text) => `count=${encodeURIComponent(text)}`),
      ),
    ).map(([resource, query]): Garbage => ({ method: 'GET', path: `/${resource}?${query}` })),
    rawBodies: fc.tuple(
      fc.constantFrom(...rawTargets),
      fc.oneof(
        fc.constantFrom('{', '[', '{"userName": }', "{'userName':'x'}", '{"userName":"x",}', 'NaN', '{"Operations":[{"op":"add",}]}', '\u0000', '{"a":1}{"b":2}'),
        fc.integer({ min: 1, max: validUser.length - 1 }).map((cut) => validUser.slice(0, cut)),
        fc.string({ minLength: 1, maxLength: 200 }).filter((text) => { try { JSON.parse(text); return false; } catch { return true; } }),
      ),
    ).map(([[method, path], body]): Garbage => ({ method, path, body, headers: scimJson })),
    wrongMedia: fc.tuple(
      fc.constantFrom(...rawTargets),
      fc.oneof(
        fc.constantFrom('text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x').map((type) => ({ 'content-type': type })),
        fc.constantFrom('utf-16', 'latin9', 'x-unknown').map((charset) => ({ 'content-type': `application/scim+json; charset=${charset}` })),
        fc.constantFrom('x-unknown', 'gzip').map((encoding) => ({ ...scimJson, 'content-encoding': encoding })),
      ),
    ).map(([[method, path], headers]): Garbage => ({ method, path, body: headers['content-type'].includes('urlencoded') ? 'userName=x' : validUser, headers })),
    urls: fc.oneof(
      fc.tuple(fc.constantFrom('GET', 'PUT', 'PATCH', 'DELETE'), fc.constantFrom('Users', 'Groups'), fc.constantFrom('%E0%A4%A', '%', '%zz', MISSING_ID))
        .map(([method, resource, id]): Garbage => ({ method, path: `/${resource}/${id}`, ...(method === 'PUT' || method === 'PATCH' ? { body: method === 'PUT' ? validUser : patchBody([{ op: 'replace', path: 'displayName', value: 'x' }]), headers: scimJson } : {}) })),
      fc.constantFrom<Garbage>({ method: 'GET', path: '/Nope' }, { method: 'DELETE', path: '/Users' }, { method: 'PATCH', path: '/Groups', body: '{}', headers: scimJson }),
    ),
    oversized: fc.tuple(fc.constantFrom(...rawTargets), fc.integer({ min: 1, max: 256 * 1024 })).map(([[method, path], extra]): Garbage => ({
      method,
      path,
      body: json({ userName: 'big', displayName: 'Big', pad: 'p'.repeat(ids.limit + extra) }),
      headers: scimJson,
    })),
  };
}

/** Counterexamples can hold a megabyte of padding: print them shortened. */
function describeRequest(request: Garbage): string {
  const body = request.body === undefined ? '' : typeof request.body === 'string' ? request.body : `<${request.body.length} bytes>`;
  const shorten = (text: string) => (text.length > 400 ? `${text.slice(0, 300)}…(${text.length} chars)…${text.slice(-60)}` : text);
  return `${request.method} ${shorten(request.path)} ${JSON.stringify(request.headers ?? {})} ${shorten(body)}`;
}

function printable(request: Garbage): Garbage {
  return Object.defineProperty({ ...request }, fc.toStringMethod, { value: () => describeRequest(request), enumerable: false });
}

// ---- the test -----------------------------------------------------------------------------------------------

/**
 * Throws generated garbage at every SCIM endpoint of a real Tether process: bad bodies, bad PATCH operations
 * mixed with good ones, bad filters and list parameters, malformed JSON, wrong media types and encodings,
 * bad ids and oversized bodies. Every answer must be a 4xx SCIM error whose `status` is the HTTP status,
 * and the directory tables must be exactly as they were (no partial write, no change event).
 */
describe('SCIM: garbage in, 4xx SCIM error out, nothing changed', () => {
  let database: TestDatabase;
  let redis: PrivateRedis;
  let tether: TetherProcess;
  let ids: Ids;
  let baseline: string;

  const digest = async (): Promise<string> => {
    // Whole rows of the mirror; only the ids of change events and outbox rows, whose progress columns the
    // workers keep updating in the background.
    const table = (name: string, row: string, order: string) =>
      `(select count(*)::text || ':' || coalesce(md5(string_agg(${row}::text, '|' order by ${order})), '') from ${name} t)`;
    const result = await database.db.query<{ digest: string }>(
      `select concat_ws(' ', ${table('persons', 'row_to_json(t)', 't.id')}, ${table('groups', 'row_to_json(t)', 't.id')},
         ${table('memberships', 'row_to_json(t)', 't.group_id, t.member_id')}, ${table('change_events', 't.id', 't.id')},
         ${table('outbox', 't.id', 't.id')}) as digest`,
    );
    return result.rows[0]?.digest ?? '';
  };

  const send = async (request: Garbage) => {
    const response = await fetch(`${tether.url}/scim/v2${request.path}`, {
      method: request.method,
      headers: { authorization: `Bearer ${tether.scimToken}`, ...request.headers },
      ...(request.body === undefined ? {} : { body: request.body }),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // asserted below: the body must be JSON
    }
    return { status: response.status, contentType: response.headers.get('content-type') ?? '', body, text };
  };

  const rejectsAndChangesNothing = async (request: Garbage) => {
    const response = await send(request);
    const shown = `${describeRequest(request)}\n→ ${response.status} ${response.text.slice(0, 300)}`;
    expect(response.status, shown).toBeGreaterThanOrEqual(400);
    expect(response.status, shown).toBeLessThan(500);
    expect(response.contentType, shown).toContain('application/scim+json');
    expect(response.body, shown).toMatchObject({ schemas: expect.arrayContaining([ERROR_SCHEMA]), status: String(response.status) });
    expect(await digest(), `state changed after ${shown}`).toBe(baseline);
  };

  const check = (arbitrary: fc.Arbitrary<Garbage>) =>
    fc.assert(fc.asyncProperty(arbitrary.map(printable), rejectsAndChangesNothing), { numRuns: RUNS, endOnFailure: true });

  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
    redis = await startPrivateRedis();
    const configPath = writeConfig(`
sources: [{ id: fuzz, kind: scim }]
tools:
  - { id: crm.contacts.read, system: crm, risk: read }
targets: []
`);
    tether = await startTether({ configPath, databaseUrl: database.url, redisUrl: redis.url, queuePrefix: uniquePrefix('e2e-fuzz') });
    const scim = (method: string, path: string, body?: unknown) => call(`${tether.url}/scim/v2${path}`, method, tether.scimToken, body);
    const seed = await scim('POST', '/Users', {
      userName: 'seed@example.com',
      active: true,
      emails: [{ value: 'seed@example.com', type: 'work', primary: true }],
      [ENTERPRISE]: { department: 'R&D' },
    });
    const other = await scim('POST', '/Users', { userName: 'other@example.com', active: true });
    const group = await scim('POST', '/Groups', { displayName: 'Seeded', members: [{ value: seed.body.id }] });
    expect([seed.status, other.status, group.status]).toEqual([201, 201, 201]);
    const config = await scim('GET', '/ServiceProviderConfig');
    const advertised = Number(config.body?.bulk?.maxPayloadSize);
    ids = {
      seedUser: seed.body.id,
      seedUserName: 'seed@example.com',
      otherUser: other.body.id,
      group: group.body.id,
      limit: Number.isInteger(advertised) && advertised > 0 ? advertised : 1_048_576,
    };
    baseline = await digest();
  });

  afterAll(async () => {
    const code = await tether?.stop();
    expect(code).toBe(0);
    await redis?.stop();
    await database?.drop();
  });

  it('User bodies: wrong types, unknown and invalid attribute names, unstorable strings, deep nesting, duplicates', () => check(requests(ids).users));
  it('Group bodies: wrong types, bad member ids, self-membership', () => check(requests(ids).groups));
  it('User PATCH: one bad operation among good ones writes nothing', () => check(requests(ids).userPatches));
  it('Group PATCH: one bad operation among good ones writes nothing', () => check(requests(ids).groupPatches));
  it('filters: syntax errors, injection, deep and wide nesting, over-long filters (GET and POST .search)', () => check(requests(ids).filters));
  it('the same filters on /Groups, where the names are extension attributes: no match or a 400, never a 5xx', async () => {
    for (const filter of USER_TYPE_ERRORS) {
      const response = await send({ method: 'GET', path: `/Groups?filter=${encodeURIComponent(filter)}` });
      const body = response.body as { totalResults?: number; scimType?: string } | null;
      const outcome = response.status === 200 ? `200 totalResults=${body?.totalResults}` : `${response.status} ${body?.scimType}`;
      expect([filter, outcome]).toEqual([filter, expect.stringMatching(/^(200 totalResults=0|400 invalidFilter)$/)]);
    }
    expect(await digest()).toBe(baseline);
  });
  it('list parameters and URLs: bad counts, bad ids, undecodable paths, unknown endpoints', () =>
    check(fc.oneof(requests(ids).listParams, requests(ids).urls)));
  it('raw bodies: malformed JSON, wrong media types, charsets and encodings', () => check(fc.oneof(requests(ids).rawBodies, requests(ids).wrongMedia)));
  it('oversized bodies are 413', async () => {
    await check(requests(ids).oversized);
    const response = await send({ method: 'POST', path: '/Users', body: json({ userName: 'big', pad: 'p'.repeat(ids.limit) }), headers: scimJson });
    expect(response.status).toBe(413);
  });

  it('ids that are not ids are 404 for every verb, never a 500', async () => {
    const patch = patchBody([{ op: 'replace', path: 'displayName', value: 'x' }]);
    const failures: string[] = [];
    for (const id of ['not-a-uuid', '-'.repeat(36), "x'%3B drop table persons%3B--", '0'.repeat(36)]) {
      for (const resource of ['Users', 'Groups']) {
        for (const [method, body] of [['GET', undefined], ['DELETE', undefined], ['PATCH', patch], ['PUT', resource === 'Users' ? json({ userName: 'x@example.com' }) : json({ displayName: 'X' })]] as const) {
          const request: Garbage = { method, path: `/${resource}/${id}`, ...(body === undefined ? {} : { body, headers: scimJson }) };
          const response = await send(request);
          if (response.status !== 404) failures.push(`${describeRequest(request)} → ${response.status}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(await digest()).toBe(baseline);
  });

  it('a gzip body that is not gzip is 400, a real gzip body still works for reads', async () => {
    await rejectsAndChangesNothing({ method: 'POST', path: '/Users', body: 'not gzip at all', headers: { ...scimJson, 'content-encoding': 'gzip' } });
    const search = await send({
      method: 'POST',
      path: '/Users/.search',
      body: new Uint8Array(gzipSync(json({ filter: 'userName eq "seed@example.com"' }))),
      headers: { ...scimJson, 'content-encoding': 'gzip' },
    });
    expect(search.status).toBe(200);
    expect(search.body).toMatchObject({ totalResults: 1 });
  });

  it('hostile values inside a valid filter are data: 200, no match, tables intact', async () => {
    for (const filter of [
      'userName eq "x\'); drop table persons;--"',
      'userName eq "a\\" or \\"1\\"=\\"1"',
      'displayName co "%" and userName sw "_"',
      `${ENTERPRISE}:department eq "R&D\\u0027 or 1=1"`,
      `groups.value eq "${'-'.repeat(36)}"`,
      'groups.value eq "\'); drop table memberships;--"',
    ]) {
      const response = await send({ method: 'GET', path: `/Users?filter=${encodeURIComponent(filter)}` });
      expect(response.status, filter).toBe(200);
      expect(response.body, filter).toMatchObject({ totalResults: 0, Resources: [] });
    }
    const members = await send({ method: 'GET', path: `/Groups?filter=${encodeURIComponent(`members.value eq "${'-'.repeat(36)}" or members[value eq "nope"]`)}` });
    expect(members.status).toBe(200);
    expect(members.body).toMatchObject({ totalResults: 0 });
    const huge = await send({ method: 'GET', path: '/Users?startIndex=99999999999999999999&count=5' });
    expect(huge.status).toBe(200);
    expect(huge.body).toMatchObject({ Resources: [] });
    expect(await digest()).toBe(baseline);
  });
});
