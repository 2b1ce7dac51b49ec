import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/http.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startPrivateRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';
import { startTether, writeConfig, type TetherProcess } from '../support/tether-process.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const CORE_AGENT = 'urn:ietf:params:scim:schemas:core:2.0:Agent';
const TETHER_AGENT = 'urn:tether:params:scim:schemas:extension:agent:1.0';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** URL forms of the SCIM root (docs/scim.md), each with the source the bootstrap token may use. */
const FORMS = ['/scim/v2', '', '/hr', '/scim/v2/hr', '/tenant/a/v2'];

/** RFC 7644 / RFC 9110 details over real HTTP: Bulk bulkIds and locations, conditional reads, 405, discovery. */
describe('SCIM protocol: Bulk locations, If-None-Match lists, 405, discovery', () => {
  let database: TestDatabase;
  let redis: PrivateRedis;
  let tether: TetherProcess;
  const at = (path: string, method = 'GET', body?: unknown, headers?: Record<string, string>) => call(`${tether.url}${path}`, method, tether.scimToken, body, headers);
  const scim = (path: string, method = 'GET', body?: unknown, headers?: Record<string, string>) => at(`/scim/v2${path}`, method, body, headers);
  const countUsers = async (userName: string) => (await scim(`/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`)).body.totalResults as number;

  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
    redis = await startPrivateRedis();
    const configPath = writeConfig(`
sources: [{ id: hr, kind: scim }, { id: eng, kind: scim }]
tools: [{ id: crm.read, system: crm, risk: read }]
grantRules: []
targets: []
`);
    tether = await startTether({ configPath, databaseUrl: database.url, redisUrl: redis.url, queuePrefix: uniquePrefix('scimextra'), env: { LOG_LEVEL: 'warn' } });
  }, 60_000);

  afterAll(async () => {
    await tether?.stop();
    await redis?.stop();
    await database?.drop();
  });

  it('refuses a Bulk request that repeats a bulkId, before running any of it', async () => {
    const response = await scim('/Bulk', 'POST', {
      schemas: [BULK_REQUEST],
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'twice', data: { userName: 'twice-1@example.com' } },
        { method: 'POST', path: '/Users', bulkId: 'once', data: { userName: 'once@example.com' } },
        { method: 'POST', path: '/Users', bulkId: 'twice', data: { userName: 'twice-2@example.com' } },
      ],
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ schemas: [ERROR], status: '400', scimType: 'invalidValue' });
    expect(response.body.detail).toContain('"twice"');
    for (const userName of ['twice-1@example.com', 'once@example.com', 'twice-2@example.com']) expect(await countUsers(userName)).toBe(0);
  });

  it('gives every Bulk result but a failed POST the location of its resource, in the URL form used', async () => {
    const kept = (await scim('/Users', 'POST', { userName: 'bulk-kept@example.com' })).body.id as string;
    const doomed = (await scim('/Users', 'POST', { userName: 'bulk-doomed@example.com' })).body.id as string;
    const missing = '00000000-0000-4000-8000-000000000000';
    for (const form of ['/scim/v2', '/hr']) {
      const response = await at(`${form}/Bulk`, 'POST', {
        schemas: [BULK_REQUEST],
        Operations: [
          { method: 'PUT', path: `/Users/${kept}`, version: 'W/"99"', data: { userName: 'bulk-kept@example.com', title: 'stale' } },
          { method: 'DELETE', path: `/Users/${missing}` },
          { method: 'PATCH', path: `/users/${kept}`, data: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: form }] } },
          { method: 'POST', path: '/Users', bulkId: 'new', data: { userName: `bulk-new${form.replaceAll('/', '-')}@example.com` } },
          { method: 'PATCH', path: '/Users/bulkId:new', data: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'new' }] } },
          { method: 'POST', path: '/Users', bulkId: 'bad', data: { displayName: 'no userName' } },
          ...(form === '/hr' ? [{ method: 'DELETE', path: `/Users/${doomed}` }] : []),
        ],
      });
      expect(response.status).toBe(200);
      const [put, deleteMissing, patch, post, patchNew, failedPost, deleted] = response.body.Operations as Record<string, unknown>[];
      const base = `${tether.url}${form}`;
      expect(put).toMatchObject({ method: 'PUT', status: '412', location: `${base}/Users/${kept}` });
      expect(deleteMissing).toMatchObject({ method: 'DELETE', status: '404', location: `${base}/Users/${missing}` });
      expect(patch).toMatchObject({ method: 'PATCH', status: '204', location: `${base}/Users/${kept}` });
      expect(post?.['location']).toMatch(new RegExp(`^${base}/Users/[0-9a-f-]{36}$`));
      expect(patchNew).toMatchObject({ method: 'PATCH', status: '204', location: post?.['location'] });
      expect(failedPost).toMatchObject({ method: 'POST', status: '400' });
      expect(failedPost).not.toHaveProperty('location');
      if (form === '/hr') expect(deleted).toMatchObject({ method: 'DELETE', status: '204', location: `${base}/Users/${doomed}` });
    }
  });

  it('answers If-None-Match with a list of tags or * by 304, for Users, Groups and Agents', async () => {
    const user = await scim('/Users', 'POST', { schemas: [USER], userName: 'conditional@example.com' });
    const group = await scim('/Groups', 'POST', { schemas: [GROUP], displayName: 'Conditional' });
    const agent = await scim('/Agents', 'POST', {
      schemas: [CORE_AGENT, TETHER_AGENT],
      agentUserName: 'conditional-bot',
      owners: [{ value: user.body.id }],
      [TETHER_AGENT]: { purpose: 'Tests conditional reads', requestedTools: ['crm.read'] },
    });
    expect(agent.status).toBe(201);
    for (const created of [user, group, agent]) {
      const location = new URL(created.headers.get('location') as string).pathname;
      const tag = created.headers.get('etag') as string;
      const bare = tag.replace(/^W\//, '');
      for (const header of [`W/"7000", ${tag}`, `"7000",${bare}`, '*', ` * `]) {
        const read = await at(location, 'GET', undefined, { 'If-None-Match': header });
        expect([location, header, read.status]).toEqual([location, header, 304]);
        expect(read.headers.get('etag')).toBe(tag);
        expect(read.body).toBeNull();
      }
      const changed = await at(location, 'GET', undefined, { 'If-None-Match': 'W/"7000", W/"7001"' });
      expect(changed.status).toBe(200);
      expect(changed.body.id).toBe(created.body.id);
    }
    const gone = await scim('/Users/00000000-0000-4000-8000-000000000000', 'GET', undefined, { 'If-None-Match': '*' });
    expect(gone.status).toBe(404);
  });

  it('honours If-Match lists on writes: a listed current tag passes, tags that name no current version get 412', async () => {
    const user = await scim('/Users', 'POST', { schemas: [USER], userName: 'if-match@example.com' });
    const group = await scim('/Groups', 'POST', { schemas: [GROUP], displayName: 'If-Match' });
    const agent = await scim('/Agents', 'POST', {
      schemas: [CORE_AGENT, TETHER_AGENT], agentUserName: 'if-match-bot', owners: [{ value: user.body.id }],
      [TETHER_AGENT]: { purpose: 'Tests conditional writes', requestedTools: ['crm.read'] },
    });
    for (const created of [user, group, agent]) {
      const location = new URL(created.headers.get('location') as string).pathname;
      const patch = (value: string, ifMatch: string) => at(location, 'PATCH',
        { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'displayName', value }] }, { 'If-Match': ifMatch });
      for (const stale of ['W/"7000", W/"7001"', '"not-a-version"', 'W/"7000",']) {
        const refused = await patch('never', stale);
        expect([location, stale, refused.status, refused.body?.status]).toEqual([location, stale, 412, '412']);
      }
      const tag = (await at(location, 'GET')).headers.get('etag') as string;
      const accepted = await patch('listed', `W/"7000", ${tag}`);
      expect([location, accepted.status]).toEqual([location, 204]);
      expect((await at(location, 'GET')).body.displayName).toBe('listed');
    }
  });

  it('answers 405 with Allow for a method an endpoint does not serve, in every URL form', async () => {
    const id = (await scim('/Users', 'POST', { userName: 'methods@example.com' })).body.id as string;
    const cases: [string, string, string][] = [
      ['PUT', '/Users', 'GET, POST'],
      ['DELETE', '/Users', 'GET, POST'],
      ['PATCH', '/Groups', 'GET, POST'],
      ['DELETE', '/Agents', 'GET, POST'],
      ['POST', `/Users/${id}`, 'GET, PUT, PATCH, DELETE'],
      ['POST', `/Groups/${id}`, 'GET, PUT, PATCH, DELETE'],
      ['POST', `/Agents/${id}`, 'GET, PUT, PATCH, DELETE'],
      ['GET', '/Users/.search', 'POST'],
      ['DELETE', '/Groups/.search', 'POST'],
      ['GET', '/Agents/.search', 'POST'],
      ['GET', '/.search', 'POST'],
      ['GET', '/Bulk', 'POST'],
      ['DELETE', '/ServiceProviderConfig', 'GET'],
      ['POST', '/Schemas', 'GET'],
      ['PUT', '/ResourceTypes/User', 'GET'],
    ];
    for (const form of FORMS) {
      for (const [method, path, allow] of cases) {
        const response = await at(`${form}${path}`, method, method === 'GET' || method === 'DELETE' ? undefined : {});
        const shown = `${method} ${form}${path}`;
        expect([shown, response.status]).toEqual([shown, 405]);
        expect(response.headers.get('allow'), shown).toBe(allow);
        expect(response.headers.get('content-type'), shown).toContain('application/scim+json');
        expect(response.body, shown).toMatchObject({ schemas: [ERROR], status: '405' });
      }
      // Still served: the methods the endpoints do serve, `.search` included, in every form.
      const search = await at(`${form}/Users/.search`, 'POST', { filter: 'userName eq "methods@example.com"' });
      expect([form, search.status, search.body.totalResults]).toEqual([form, 200, 1]);
      expect([form, (await at(`${form}/Agents/.search`, 'POST', {})).status]).toEqual([form, 200]);
    }
    expect((await scim('/Nope', 'DELETE')).status).toBe(404);
    expect((await scim('/Nope')).status).toBe(404);
    expect((await scim(`/Users/${id}/extra`, 'POST', {})).status).toBe(404);
    // Nothing was written by any of them.
    expect((await scim(`/Users/${id}`)).body.meta.version).toBe('W/"1"');
  });

  it('serves discovery with absolute locations in the form used, and refuses a filter with 403', async () => {
    for (const form of FORMS) {
      const base = `${tether.url}${form}`;
      const config = await at(`${form}/ServiceProviderConfig`);
      expect(config.body.meta).toEqual({ resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` });
      const types = await at(`${form}/ResourceTypes`);
      expect(types.body.Resources.map((type: { meta: { location: string } }) => type.meta.location))
        .toEqual([`${base}/ResourceTypes/User`, `${base}/ResourceTypes/Group`, `${base}/ResourceTypes/Agent`]);
      expect((await at(`${form}/ResourceTypes/Group`)).body.meta.location).toBe(`${base}/ResourceTypes/Group`);
      const schemas = await at(`${form}/Schemas`);
      for (const schema of schemas.body.Resources as { id: string; meta: { location: string } }[]) expect(schema.meta.location).toBe(`${base}/Schemas/${schema.id}`);
      expect((await at(`${form}/Schemas/${USER}`)).body.meta.location).toBe(`${base}/Schemas/${USER}`);
    }
    for (const path of ['/Schemas', '/ResourceTypes', '/ServiceProviderConfig', '/ResourceTypes/User', `/Schemas/${GROUP}`]) {
      const filtered = await scim(`${path}?filter=${encodeURIComponent('id eq "x"')}`);
      expect([path, filtered.status]).toEqual([path, 403]);
      expect(filtered.body).toMatchObject({ schemas: [ERROR], status: '403' });
    }
  });

  it('advertises group member labels as writable, since a written display is stored and returned', async () => {
    const group = (await scim(`/Schemas/${GROUP}`)).body;
    const members = group.attributes.find((attribute: { name: string }) => attribute.name === 'members');
    expect(members.subAttributes.find((attribute: { name: string }) => attribute.name === 'display')).toMatchObject({ mutability: 'readWrite' });
    const user = (await scim('/Users', 'POST', { userName: 'labelled@example.com' })).body.id as string;
    const created = await scim('/Groups', 'POST', { displayName: 'Labelled', members: [{ value: user, display: 'Written label' }] });
    expect(created.body.members).toEqual([expect.objectContaining({ value: user, display: 'Written label' })]);
  });

  it('accepts and discards a password in PATCH as in POST and PUT (changePassword: never stored)', async () => {
    const created = await scim('/Users', 'POST', { userName: 'password@example.com', password: 'ignored' });
    expect(created.status).toBe(201);
    expect(created.body).not.toHaveProperty('password');
    const patch = await scim(`/Users/${created.body.id as string}`, 'PATCH', { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { password: 'x123' } }] });
    expect(patch.status).toBe(204);
    // Nothing stored: the version does not move and the password is not returned.
    expect(patch.headers.get('etag')).toBe('W/"1"');
    expect((await scim(`/Users/${created.body.id as string}`)).body).not.toHaveProperty('password');
    expect((await scim('/ServiceProviderConfig')).body.changePassword).toEqual({ supported: false });
  });

  it('moves a User\'s ETag and lastModified when its groups change (added, renamed, removed, deleted), and no one else\'s', async () => {
    const create = async (userName: string) => (await scim('/Users', 'POST', { userName })).body as { id: string; meta: { version: string; lastModified: string } };
    const member = await create('etag-member@example.com');
    const bystander = await create('etag-bystander@example.com');
    const tagOf = async (id: string) => (await scim(`/Users/${id}`)).headers.get('etag');
    const moves = async (step: () => Promise<unknown>) => {
      const before = await tagOf(member.id);
      await step();
      const after = await scim(`/Users/${member.id}`, 'GET', undefined, { 'if-none-match': before ?? '' });
      expect(after.status).toBe(200);
      return after.body as { groups: { display: string }[]; meta: { lastModified: string } };
    };
    const bystanderTag = await tagOf(bystander.id);
    let groupId = '';
    const created = await moves(async () => (groupId = (await scim('/Groups', 'POST', { schemas: [GROUP], displayName: 'Etag crew', members: [{ value: member.id }] })).body.id));
    expect(created.groups.map((group) => group.display)).toEqual(['Etag crew']);
    expect(Date.parse(created.meta.lastModified)).toBeGreaterThanOrEqual(Date.parse(member.meta.lastModified));
    const renamed = await moves(() => scim(`/Groups/${groupId}`, 'PATCH', { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { displayName: 'Etag crew 2' } }] }));
    expect(renamed.groups.map((group) => group.display)).toEqual(['Etag crew 2']);
    await moves(() => scim(`/Groups/${groupId}`, 'PATCH', { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: `members[value eq "${member.id}"]` }] }));
    await moves(() => scim(`/Groups/${groupId}`, 'PATCH', { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: member.id }] }] }));
    expect((await moves(() => scim(`/Groups/${groupId}`, 'DELETE'))).groups).toEqual([]);
    // A repeated change that moves nothing keeps the tag; the bystander's never moved.
    const settled = await tagOf(member.id);
    const other = (await scim('/Groups', 'POST', { schemas: [GROUP], displayName: 'Etag others', members: [{ value: bystander.id }] })).body.id as string;
    expect(await tagOf(member.id)).toBe(settled);
    await scim(`/Groups/${other}`, 'PATCH', { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: `members[value eq "${member.id}"]` }] });
    expect(await tagOf(member.id)).toBe(settled);
    expect(await tagOf(bystander.id)).not.toBe(bystanderTag);
  });

  it('shows groups reached through nesting as indirect, and filters Users by them', async () => {
    const user = (await scim('/Users', 'POST', { userName: 'nested-user@example.com' })).body.id as string;
    const team = (await scim('/Groups', 'POST', { schemas: [GROUP], displayName: 'Nested team', members: [{ value: user }] })).body.id as string;
    const before = (await scim(`/Users/${user}`)).headers.get('etag');
    const division = (await scim('/Groups', 'POST', { schemas: [GROUP], displayName: 'Nested division', members: [{ value: team }] })).body.id as string;
    const shown = await scim(`/Users/${user}`);
    expect(shown.headers.get('etag')).not.toBe(before);
    expect(shown.body.groups).toEqual([
      expect.objectContaining({ value: division, display: 'Nested division', type: 'indirect' }),
      expect.objectContaining({ value: team, display: 'Nested team', type: 'direct' }),
    ]);
    const found = async (filter: string) => ((await scim(`/Users?filter=${encodeURIComponent(filter)}&attributes=userName`)).body.Resources as { id: string }[]).map((resource) => resource.id);
    expect(await found(`groups.value eq "${division}"`)).toEqual([user]);
    expect(await found('groups.display eq "nested DIVISION"')).toEqual([user]);
    expect(await found(`groups[value eq "${division}"] and userName sw "nested-"`)).toEqual([user]);
    expect(await found(`not (groups.value eq "${division}") and userName sw "nested-"`)).toEqual([]);
    // A cycle of groups ends the walk; a group held both ways is direct.
    await scim(`/Groups/${team}`, 'PATCH', { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: division }] }] });
    await scim(`/Groups/${division}`, 'PATCH', { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: user }] }] });
    expect((await scim(`/Users/${user}`)).body.groups.map((group: { display: string; type: string }) => `${group.display}:${group.type}`))
      .toEqual(['Nested division:direct', 'Nested team:direct']);
    expect(await found(`groups.value eq "${team}"`)).toEqual([user]);
  });

  it('refuses a body whose schemas name another resource type, writing nothing; serves one that omits schemas', async () => {
    const refused = await scim('/Users', 'POST', { schemas: [GROUP], userName: 'wrong-schema@example.com' });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ schemas: [ERROR], status: '400', scimType: 'invalidSyntax' });
    expect(await countUsers('wrong-schema@example.com')).toBe(0);
    expect((await scim('/Groups', 'POST', { schemas: [USER], displayName: 'Wrong schema' })).status).toBe(400);
    const custom = 'urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User';
    const created = await scim('/Users', 'POST', { userName: 'no-schema@example.com', [custom]: { badge: '7' } });
    expect(created.status).toBe(201);
    // Every attribute returned comes from a schema the resource declares.
    expect(created.body.schemas).toEqual([USER, custom]);
  });

  it('runs concurrent group and user writes over shared members without a deadlock or a lost version', async () => {
    const users = await Promise.all(Array.from({ length: 12 }, async (_, index) => (await scim('/Users', 'POST', { userName: `race-${index}@example.com` })).body.id as string));
    const groups = await Promise.all(Array.from({ length: 4 }, async (_, index) => (await scim('/Groups', 'POST', { schemas: [GROUP], displayName: `Race ${index}` })).body.id as string));
    // Every group request names members in its own order (a deterministic shuffle), so row locks would cross.
    let seed = 7;
    const shuffled = () => [...users].sort(() => ((seed = (seed * 48271) % 2147483647) % 3) - 1);
    const requests: Promise<{ status: number }>[] = [];
    for (let round = 0; round < 4; round += 1) {
      groups.forEach((group, index) => {
        requests.push(scim(`/Groups/${group}`, 'PATCH', { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: shuffled().slice(0, 8).map((value) => ({ value })) }] }));
        requests.push(scim(`/Groups/${group}`, 'PATCH', { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: 'members', value: shuffled().slice(0, 4).map((value) => ({ value })) }] }));
        requests.push(scim(`/Groups/${group}`, 'PUT', { schemas: [GROUP], displayName: `Race ${index} r${round}`, members: shuffled().slice(0, 6).map((value) => ({ value })) }));
      });
      for (const user of users) requests.push(scim(`/Users/${user}`, 'PATCH', { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: `t${round}` }] }));
    }
    const statuses = (await Promise.all(requests)).map((response) => response.status);
    expect(statuses.filter((status) => status >= 300)).toEqual([]);
    // Each user's title writes (4) moved its version at least as often; what it shows matches the groups.
    for (const user of users) {
      const shown = (await scim(`/Users/${user}`)).body as { meta: { version: string }; groups: { value: string }[] };
      expect(Number(/"(\d+)"/.exec(shown.meta.version)?.[1])).toBeGreaterThan(4);
      const listed = await Promise.all(groups.map(async (group) => ((await scim(`/Groups/${group}`)).body.members as { value: string }[]).some((member) => member.value === user)));
      expect(shown.groups.map((group) => group.value).sort()).toEqual(groups.filter((_, index) => listed[index]).sort());
    }
  });
});
