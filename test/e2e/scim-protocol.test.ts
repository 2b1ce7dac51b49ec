import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/http.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startPrivateRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';
import { startTether, writeConfig, type TetherProcess } from '../support/tether-process.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

/** RFC 7644 protocol features over real HTTP: URL forms, PATCH responses, Bulk, root search, discovery. */
describe('SCIM protocol: URL forms, PATCH responses, Bulk, root search', () => {
  let database: TestDatabase;
  let redis: PrivateRedis;
  let tether: TetherProcess;
  const at = (path: string, method = 'GET', body?: unknown, headers?: Record<string, string>) => call(`${tether.url}${path}`, method, tether.scimToken, body, headers);
  const scim = (path: string, method = 'GET', body?: unknown, headers?: Record<string, string>) => at(`/scim/v2${path}`, method, body, headers);

  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
    redis = await startPrivateRedis();
    // The bootstrap SCIM token belongs to the first source, "hr"; "eng" exists but is not its to use.
    const configPath = writeConfig(`
sources: [{ id: hr, kind: scim }, { id: eng, kind: scim }]
tools: [{ id: crm.read, system: crm, risk: read }]
grantRules: []
targets: []
`);
    tether = await startTether({ configPath, databaseUrl: database.url, redisUrl: redis.url, queuePrefix: uniquePrefix('scimproto'), env: { LOG_LEVEL: 'warn' } });
  }, 60_000);

  afterAll(async () => {
    await tether?.stop();
    await redis?.stop();
    await database?.drop();
  });

  it('answers the same resource on every scimgateway URL form, with locations in the form used', async () => {
    const created = await scim('/Users', 'POST', { schemas: [USER], userName: 'forms@example.com' });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    for (const prefix of ['', '/scim/v2', '/scim/v2/hr', '/hr', '/tenant/a/v2', '/tenant/a/v2/hr', '/v2']) {
      const response = await at(`${prefix}/Users/${id}`);
      expect(response.status, prefix).toBe(200);
      expect(response.body.id).toBe(id);
      expect(response.body.meta.location).toBe(`${tether.url}${prefix}/Users/${id}`);
    }
    const lowerCase = await at(`/scim/v2/users/${id}`);
    expect(lowerCase.status).toBe(200);
  });

  it('keeps sources apart: unknown baseEntity is 404, another source is 403, and nothing leaks across', async () => {
    const unknown = await at('/scim/v2/payroll/Users');
    expect(unknown.status).toBe(404);
    expect(unknown.body.schemas).toEqual([ERROR]);
    const other = await at('/scim/v2/eng/Users');
    expect(other.status).toBe(403);
    expect(other.body).toMatchObject({ schemas: [ERROR], status: '403' });
    const write = await at('/eng/Users', 'POST', { userName: 'intruder@example.com' });
    expect(write.status).toBe(403);
    const list = await scim(`/Users?filter=${encodeURIComponent('userName eq "intruder@example.com"')}`);
    expect(list.body.totalResults).toBe(0);
  });

  it('serves scimgateway ping without credentials and nothing else without them', async () => {
    for (const path of ['/ping', '/scim/v2/ping', '/hr/ping']) {
      const response = await fetch(`${tether.url}${path}`);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('hello');
    }
    const anonymous = await call(`${tether.url}/scim/v2/Users`, 'GET', null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.schemas).toEqual([ERROR]);
  });

  it('answers a long filter with invalidFilter and an oversized request line with a JSON 431', async () => {
    const long = await scim(`/Users?filter=${encodeURIComponent(`userName eq "${'a'.repeat(20_000)}"`)}`);
    expect(long.status).toBe(400);
    expect(long.body).toMatchObject({ schemas: [ERROR], scimType: 'invalidFilter' });
    const huge = await fetch(`${tether.url}/scim/v2/Users?filter=${'a'.repeat(70_000)}`, { headers: { Authorization: `Bearer ${tether.scimToken}` } });
    expect(huge.status).toBe(431);
    expect(huge.headers.get('content-type')).toContain('application/scim+json');
    expect(await huge.json()).toMatchObject({ schemas: [ERROR], status: '431' });
  });

  it('refuses a body that is not JSON with 415 and creates nothing', async () => {
    const before = await scim('/Users?filter=userName%20eq%20%22formpost%22');
    for (const contentType of ['application/x-www-form-urlencoded', 'text/plain', null]) {
      const response = await fetch(`${tether.url}/scim/v2/Users`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${tether.scimToken}`, ...(contentType === null ? {} : { 'content-type': contentType }) },
        body: contentType === null ? new Blob([JSON.stringify({ userName: 'formpost' })]) : 'userName=formpost',
      });
      expect([contentType, response.status]).toEqual([contentType, 415]);
      expect(response.headers.get('content-type')).toContain('application/scim+json');
      expect(await response.json()).toMatchObject({ schemas: [ERROR], status: '415' });
    }
    expect((await scim('/Users?filter=userName%20eq%20%22formpost%22')).body).toEqual(before.body);
  });

  it('answers PATCH with 204 and an ETag, or with the resource when asked for it', async () => {
    const created = await scim('/Users', 'POST', { userName: 'patch@example.com' });
    const id = created.body.id as string;
    const plain = await scim(`/Users/${id}`, 'PATCH', { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'Engineer' }] });
    expect(plain.status).toBe(204);
    expect(plain.headers.get('etag')).toBe('W/"2"');
    const projected = await scim(`/Users/${id}?attributes=title`, 'PATCH', { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'Lead' }] });
    expect(projected.status).toBe(200);
    expect(projected.body).toEqual({ schemas: [USER], id, title: 'Lead' });
    const preferred = await scim(`/Users/${id}`, 'PATCH', { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'Head' }] }, { Prefer: 'return=representation' });
    expect(preferred.status).toBe(200);
    expect(preferred.body).toMatchObject({ id, userName: 'patch@example.com', title: 'Head', meta: { version: 'W/"4"' } });
    const okta = await scim(`/Users/${id}`, 'PATCH', { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] }, { 'User-Agent': 'Okta SCIM Client 1.0.0' });
    expect(okta.status).toBe(200);
    expect(okta.body.active).toBe(false);
  });

  it('changes nothing for a repeated request: same version, no change event, If-Match still enforced', async () => {
    const created = await scim('/Users', 'POST', { userName: 'repeat@example.com', name: { givenName: 'Re', familyName: 'Peat' } });
    const id = created.body.id as string;
    const group = await scim('/Groups', 'POST', { displayName: 'Repeaters', members: [{ value: id }] });
    const events = async () => (await call(`${tether.url}/api/v1/change-events?limit=500`, 'GET', tether.adminToken)).body.items.length as number;
    const before = await events();
    // Okta's full-object PUT after GET: the same content (with read-only attributes echoed back).
    const current = await scim(`/Users/${id}`);
    // Joining the group gave the user a new version (its groups are part of it).
    expect(current.body.meta.version).not.toBe(created.body.meta.version);
    const put = await scim(`/Users/${id}`, 'PUT', current.body);
    expect(put.status).toBe(200);
    expect(put.body.meta.version).toBe(current.body.meta.version);
    const again = await scim(`/Users/${id}`, 'PATCH', { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'name.givenName', value: 'Re' }] });
    expect(again.headers.get('etag')).toBe(current.body.meta.version);
    const members = await scim(`/Groups/${group.body.id as string}`, 'PATCH', { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'members', value: [{ value: id }] }] });
    expect(members.headers.get('etag')).toBe(group.body.meta.version);
    expect((await scim(`/Users/${id}`)).body.meta.version).toBe(current.body.meta.version);
    expect(await events()).toBe(before);
    const stale = await scim(`/Users/${id}`, 'PATCH', { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'x' }] }, { 'If-Match': 'W/"0"' });
    expect(stale.status).toBe(412);
    expect((await scim(`/Users/${id}`)).body.title).toBeUndefined();
  });

  it('ignores member ids that name nothing, records them, and keeps the valid changes of the same request', async () => {
    const user = await scim('/Users', 'POST', { userName: 'member@example.com' });
    const group = await scim('/Groups', 'POST', { displayName: 'Scoped', members: [{ value: 'out-of-scope-id' }] });
    expect(group.status).toBe(201);
    expect(group.body.members).toEqual([]);
    const patch = await scim(`/Groups/${group.body.id as string}`, 'PATCH', {
      schemas: [PATCH_OP],
      // Entra's validator sends a bare id string; an Okta push may name people outside the app's scope.
      Operations: [{ op: 'add', path: 'members', value: 'string id 1' }, { op: 'add', path: 'members', value: [{ value: user.body.id, display: 'Member One' }, { value: '00000000-0000-4000-8000-000000000000' }] }],
    });
    expect(patch.status).toBe(204);
    const read = await scim(`/Groups/${group.body.id as string}`);
    expect(read.body.members).toEqual([expect.objectContaining({ value: user.body.id, display: 'Member One' })]);
    const events = (await call(`${tether.url}/api/v1/change-events?limit=5&subjectId=${group.body.id as string}`, 'GET', tether.adminToken)).body.items as { detail: Record<string, unknown> }[];
    expect(events[0]?.detail).toMatchObject({ membersAdded: 1, ignoredMembers: 2, ignoredMemberIds: ['string id 1', '00000000-0000-4000-8000-000000000000'] });
    const selfMember = await scim(`/Groups/${group.body.id as string}`, 'PATCH', { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: group.body.id }] }] });
    expect(selfMember.status).toBe(400);
  });

  it('runs Bulk with bulkId references in any order, and reports each operation', async () => {
    const response = await scim('/Bulk', 'POST', {
      schemas: [BULK_REQUEST],
      Operations: [
        // The group refers to a user created later in the same request: it must wait for it.
        { method: 'POST', path: '/Groups', bulkId: 'g1', data: { schemas: [GROUP], displayName: 'Bulk Team', members: [{ value: 'bulkId:u1', display: 'Bulk One' }] } },
        { method: 'POST', path: '/Users', bulkId: 'u1', data: { schemas: [USER], userName: 'bulk1@example.com' } },
        { method: 'PATCH', path: '/Users/bulkId:u1', data: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'Bulk One' }] } },
        { method: 'post', path: '/Users', bulkId: 'dup', data: { userName: 'BULK1@example.com' } },
        { method: 'DELETE', path: '/Users/00000000-0000-4000-8000-000000000000' },
      ],
    });
    expect(response.status).toBe(200);
    expect(response.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:BulkResponse']);
    const [group, user, patch, duplicate, missing] = response.body.Operations as Record<string, any>[];
    expect(user).toMatchObject({ method: 'POST', bulkId: 'u1', status: '201', version: 'W/"1"' });
    const userId = (user?.['location'] as string).split('/').at(-1) as string;
    expect(group).toMatchObject({ method: 'POST', bulkId: 'g1', status: '201' });
    expect(patch).toMatchObject({ method: 'PATCH', status: '204', location: `${tether.url}/scim/v2/Users/${userId}` });
    expect(duplicate).toMatchObject({ method: 'POST', bulkId: 'dup', status: '409', response: { schemas: [ERROR], scimType: 'uniqueness', status: '409' } });
    expect(missing).toMatchObject({ method: 'DELETE', status: '404' });

    const created = await at(new URL(group?.['location'] as string).pathname);
    expect(created.body.members).toEqual([expect.objectContaining({ value: userId, display: 'Bulk One', type: 'User' })]);
    expect((await scim(`/Users/${userId}`)).body.displayName).toBe('Bulk One');
  });

  it('stops after failOnErrors errors, refuses circular and unresolvable references, and limits the size', async () => {
    const stopped = await scim('/Bulk', 'POST', {
      schemas: [BULK_REQUEST],
      failOnErrors: 1,
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'bad', data: { displayName: 'no userName' } },
        { method: 'POST', path: '/Users', bulkId: 'never', data: { userName: 'never-created@example.com' } },
      ],
    });
    expect(stopped.status).toBe(200);
    expect(stopped.body.Operations).toHaveLength(1);
    expect(stopped.body.Operations[0]).toMatchObject({ bulkId: 'bad', status: '400', response: { scimType: 'invalidValue' } });
    expect((await scim(`/Users?filter=${encodeURIComponent('userName eq "never-created@example.com"')}`)).body.totalResults).toBe(0);

    const circular = await scim('/Bulk', 'POST', {
      schemas: [BULK_REQUEST],
      Operations: [
        { method: 'POST', path: '/Groups', bulkId: 'a', data: { displayName: 'A', members: [{ value: 'bulkId:b' }] } },
        { method: 'POST', path: '/Groups', bulkId: 'b', data: { displayName: 'B', members: [{ value: 'bulkId:a' }] } },
        { method: 'POST', path: '/Groups', bulkId: 'c', data: { displayName: 'C', members: [{ value: 'bulkId:nowhere' }] } },
      ],
    });
    expect(circular.body.Operations.map((operation: { status: string }) => operation.status)).toEqual(['409', '409', '409']);
    expect((await scim(`/Groups?filter=${encodeURIComponent('displayName eq "A"')}`)).body.totalResults).toBe(0);

    const tooMany = await scim('/Bulk', 'POST', {
      schemas: [BULK_REQUEST],
      Operations: Array.from({ length: 1001 }, () => ({ method: 'DELETE', path: '/Users/x' })),
    });
    expect(tooMany.status).toBe(413);
    expect(tooMany.body.schemas).toEqual([ERROR]);

    const notBulk = await scim('/Bulk', 'POST', { Operations: [] });
    expect(notBulk.status).toBe(400);
    expect(notBulk.body.scimType).toBe('invalidSyntax');

    const config = await scim('/ServiceProviderConfig');
    expect(config.body.bulk).toEqual({ supported: true, maxOperations: 1000, maxPayloadSize: expect.any(Number) });
  });

  it('searches Users and Groups together at the root with paging across both', async () => {
    await scim('/Groups', 'POST', { displayName: 'Search Group' });
    const all = await scim('/.search', 'POST', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], count: 1000 });
    expect(all.status).toBe(200);
    const users = (await scim('/Users?count=0')).body.totalResults as number;
    const groups = (await scim('/Groups?count=0')).body.totalResults as number;
    expect(all.body.totalResults).toBe(users + groups);
    expect(all.body.Resources).toHaveLength(users + groups);
    const types = (all.body.Resources as { meta: { resourceType: string } }[]).map((resource) => resource.meta.resourceType);
    expect(types.indexOf('Group')).toBe(users);

    const straddling = await scim('/.search', 'POST', { startIndex: users, count: 2 });
    expect(straddling.body.startIndex).toBe(users);
    expect((straddling.body.Resources as { meta: { resourceType: string } }[]).map((resource) => resource.meta.resourceType)).toEqual(['User', 'Group']);

    const filtered = await scim('/.search', 'POST', { filter: 'displayName eq "Search Group"' });
    expect(filtered.body.totalResults).toBe(1);
    expect(filtered.body.Resources[0].displayName).toBe('Search Group');
  });

  const filtered = (resource: string, filter: string, extra = '') => scim(`/${resource}?filter=${encodeURIComponent(filter)}${extra}`);

  it('reads filter strings as JSON strings: \\\\ is one backslash, \\u escapes a code point, a backslash that starts no escape stays', async () => {
    const created = await scim('/Users', 'POST', { schemas: [USER], userName: 'CONTOSO\\jdoe' });
    expect(created.status).toBe(201);
    await scim('/Users', 'POST', { schemas: [USER], userName: 'ann.json@example.com' });
    const escaped = await filtered('Users', 'userName eq "CONTOSO\\\\jdoe"');
    expect(escaped.body.totalResults).toBe(1);
    expect(escaped.body.Resources[0].userName).toBe('CONTOSO\\jdoe');
    expect((await filtered('Users', 'userName eq "\\u0061nn.json@example.com"')).body.totalResults).toBe(1);
    // Bare words stay literal, as identity providers send them.
    expect((await filtered('Users', 'userName eq CONTOSO\\jdoe')).body.totalResults).toBe(1);
    // Unescaped, as a client that does not escape sends it: not JSON, so the backslash is kept.
    expect((await filtered('Users', 'userName eq "CONTOSO\\jdoe"')).body.totalResults).toBe(1);
    const bad = await filtered('Users', 'userName eq "nul\\u0000"');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ schemas: [ERROR], status: '400', scimType: 'invalidFilter' });
  });

  it('understands core-URN-qualified names in filter and attributes, and whole extension URNs in attributes', async () => {
    const created = await scim('/Users', 'POST', {
      schemas: [USER, ENTERPRISE], userName: 'urn.ann@example.com', title: 'Lead',
      [ENTERPRISE]: { employeeNumber: '42', department: 'Sales' },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    await scim('/Groups', 'POST', { schemas: [GROUP], displayName: 'URN Group' });

    const byUrn = await filtered('Users', `${USER}:userName eq "urn.ann@example.com"`);
    expect(byUrn.body.totalResults).toBe(1);
    expect((await filtered('Groups', `${GROUP}:displayName eq "URN Group"`)).body.totalResults).toBe(1);

    const projected = await scim(`/Users/${id}?attributes=${encodeURIComponent(`${USER}:userName`)}`);
    expect(projected.body).toEqual({ schemas: [USER, ENTERPRISE], id, userName: 'urn.ann@example.com' });

    const extension = await filtered('Users', 'userName eq "urn.ann@example.com"', `&attributes=${encodeURIComponent(ENTERPRISE)}`);
    expect(extension.body.Resources[0]).toEqual({ schemas: [USER, ENTERPRISE], id, [ENTERPRISE]: { employeeNumber: '42', department: 'Sales' } });

    for (const excluded of [ENTERPRISE, `title,${ENTERPRISE}`]) {
      const without = await scim(`/Users/${id}?excludedAttributes=${encodeURIComponent(excluded)}`);
      expect(without.status).toBe(200);
      expect(without.body[ENTERPRISE]).toBeUndefined();
      expect(without.body.userName).toBe('urn.ann@example.com');
    }
    const searched = await scim('/Users/.search', 'POST', { filter: `${USER}:title eq "Lead"`, attributes: [`${USER}:userName`, ENTERPRISE] });
    expect(searched.body.Resources).toEqual([{ schemas: [USER, ENTERPRISE], id, userName: 'urn.ann@example.com', [ENTERPRISE]: { employeeNumber: '42', department: 'Sales' } }]);
  });

  it('sorts by any attribute a filter reaches: multi-valued ones by the primary (else first) value, ties by id', async () => {
    const people = [
      { userName: 'sort-c@example.com', title: 'beta', name: { familyName: 'Zed' }, emails: [{ value: 'z@x.example', type: 'home' }, { value: 'a@x.example', primary: true }], [ENTERPRISE]: { employeeNumber: '2', manager: { value: 'm2' } } },
      { userName: 'sort-a@example.com', title: 'Alpha', name: { familyName: 'young' }, emails: [{ value: 'm@x.example' }, { value: 'b@x.example' }], [ENTERPRISE]: { employeeNumber: '3', manager: { value: 'm1' } } },
      { userName: 'sort-b@example.com', title: 'gamma' },
    ];
    for (const person of people) expect((await scim('/Users', 'POST', { schemas: [USER, ENTERPRISE], ...person })).status).toBe(201);
    const order = async (sortBy: string, sortOrder = 'ascending') => {
      const response = await filtered('Users', 'userName sw "sort-"', `&sortBy=${encodeURIComponent(sortBy)}&sortOrder=${sortOrder}`);
      expect(response.status, sortBy).toBe(200);
      return (response.body.Resources as { userName: string }[]).map((user) => user.userName.slice(5, 6));
    };
    expect(await order('title')).toEqual(['a', 'c', 'b']);
    expect(await order('TITLE', 'descending')).toEqual(['b', 'c', 'a']);
    expect(await order('name.familyName')).toEqual(['a', 'c', 'b']);
    expect(await order('emails')).toEqual(['c', 'a', 'b']);
    expect(await order('emails.value', 'descending')).toEqual(['a', 'c', 'b']);
    expect(await order(`${ENTERPRISE}:employeeNumber`)).toEqual(['c', 'a', 'b']);
    expect(await order(`${ENTERPRISE}:manager.value`, 'descending')).toEqual(['c', 'a', 'b']);
    expect(await order(`${USER}:userName`, 'descending')).toEqual(['c', 'b', 'a']);
    const searched = await scim('/Users/.search', 'POST', { filter: 'userName sw "sort-"', sortBy: 'title', sortOrder: 'descending' });
    expect((searched.body.Resources as { userName: string }[]).map((user) => user.userName)).toEqual(['sort-b@example.com', 'sort-c@example.com', 'sort-a@example.com']);

    for (const sortBy of ['noSuchAttribute', 'name', 'groups']) {
      const unknown = await scim(`/Users?sortBy=${sortBy}`);
      expect(unknown.status, sortBy).toBe(400);
      expect(unknown.body).toMatchObject({ schemas: [ERROR], scimType: 'invalidValue', detail: expect.stringContaining(sortBy) as unknown });
    }
  });

  it('filters on meta.resourceType and on groups.display (case-insensitive)', async () => {
    const user = await scim('/Users', 'POST', { schemas: [USER], userName: 'rtype@example.com' });
    const userId = user.body.id as string;
    const group = await scim('/Groups', 'POST', { schemas: [GROUP], displayName: 'Resource Type Sales', members: [{ value: userId }] });
    const groupId = group.body.id as string;
    const users = (await scim('/Users?count=0')).body.totalResults as number;
    const groups = (await scim('/Groups?count=0')).body.totalResults as number;
    expect((await filtered('Users', 'meta.resourceType eq "User"', '&count=0')).body.totalResults).toBe(users);
    expect((await filtered('Users', 'meta.resourceType eq "Group"', '&count=0')).body.totalResults).toBe(0);
    expect((await filtered('Groups', 'meta.resourceType eq "group"', '&count=0')).body.totalResults).toBe(groups);
    expect((await filtered('Groups', 'meta.resourceType eq "User"', '&count=0')).body.totalResults).toBe(0);
    const root = await scim('/.search', 'POST', { filter: 'meta.resourceType eq "Group"', count: 0 });
    expect(root.body.totalResults).toBe(groups);

    for (const filter of ['groups.display eq "resource type sales"', 'groups[display eq "Resource Type Sales"]', 'groups.display sw "Resource Type"', `groups.value eq "${groupId}"`]) {
      const found = await filtered('Users', filter);
      expect(found.status, filter).toBe(200);
      expect((found.body.Resources as { id: string }[]).map((resource) => resource.id), filter).toEqual([userId]);
    }
    expect((await filtered('Users', 'groups.display eq "No Such Group"')).body.totalResults).toBe(0);
  });
});
