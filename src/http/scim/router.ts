import { Router, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { ChangeContext } from '../../app/directory/change-recorder.js';
import type { DirectoryReader } from '../../app/directory/directory-query.js';
import type { GroupMember } from '../../app/records.js';
import { changeGroup, createGroup, deleteGroup, type GroupsDeps } from '../../app/directory/groups.js';
import { createPerson, deletePerson, updatePerson, type PeopleDeps } from '../../app/directory/people.js';
import { AppError } from '../../domain/errors.js';
import { requireBearer, type Authenticate } from '../auth/bearer.js';
import { jsonBody } from '../json-body.js';
import { LIST_RESPONSE, SCIM_CONTENT_TYPE } from './constants.js';
import { discoveryRouter } from './discovery.js';
import { scimErrorHandler } from './errors.js';
import { planGroupPatch } from './group-patch.js';
import { toGroupWrite, toScimGroup } from './group-resource.js';
import { parseListRequest } from './list-query.js';
import { applyPatch, parsePatchRequest } from './patch.js';
import { project, parseProjection } from './projection.js';
import { etag, parseEtag, toPersonWrite, toScimUser, userLocation } from './user-resource.js';

export interface ScimDeps {
  readonly people: PeopleDeps;
  readonly groups: GroupsDeps;
  readonly directory: DirectoryReader;
  readonly authenticate: Authenticate;
  readonly logger: Logger;
  readonly maxBodyBytes: number;
}

function send(response: Response, status: number, body: unknown, version?: number): void {
  if (version !== undefined) response.setHeader('ETag', etag(version));
  response.status(status).type(SCIM_CONTENT_TYPE).send(JSON.stringify(body));
}

function baseUrl(request: Request): string {
  return `${request.protocol}://${request.get('host') ?? 'localhost'}${request.baseUrl}`;
}

function context(request: Request): ChangeContext {
  const principal = request.principal;
  if (principal?.sourceId === null || principal?.sourceId === undefined) throw new AppError('forbidden', 'token has no source');
  return {
    actor: `scim_token:${principal.tokenId}`,
    sourceId: principal.sourceId,
    origin: 'scim',
    receivedAt: request.receivedAt,
    sourceTime: null,
  };
}

function sourceOf(request: Request): string {
  return context(request).sourceId;
}

/** If-Match: the version the client expects (412 on mismatch); `*` or absent means any. */
function expectedVersion(request: Request): number | null {
  return parseEtag(request.get('if-match'));
}

/** The SCIM 2.0 service provider (RFC 7643 / 7644) for one or more sources; the token selects the source. */
export function scimRouter(deps: ScimDeps): Router {
  const router = Router();
  router.use(jsonBody(deps.maxBodyBytes));
  router.use(requireBearer(deps.authenticate, { kind: 'scim' }));
  router.use(discoveryRouter());

  router.post('/Users', async (request, response) => {
    const person = await createPerson(deps.people, context(request), toPersonWrite(request.body));
    response.setHeader('Location', userLocation(baseUrl(request), person.id));
    send(response, 201, toScimUser(person, [], baseUrl(request)), person.version);
  });

  router.get('/Users/:id', async (request, response) => {
    const person = await deps.directory.getPerson(sourceOf(request), request.params['id'] ?? '');
    if (person === null) throw notFound(request.params['id']);
    if (parseEtag(request.get('if-none-match')) === person.version) {
      response.status(304).setHeader('ETag', etag(person.version)).end();
      return;
    }
    const groups = (await deps.directory.groupsOf([person.id])).get(person.id) ?? [];
    send(response, 200, project(toScimUser(person, groups, baseUrl(request)), parseProjection(request.query['attributes'], request.query['excludedAttributes'])), person.version);
  });

  const listUsers = async (request: Request, response: Response, params: Readonly<Record<string, unknown>>) => {
    const { query, projection } = parseListRequest(params);
    const page = await deps.directory.listPersons(sourceOf(request), query);
    const groups = await deps.directory.groupsOf(page.items.map((person) => person.id));
    send(response, 200, {
      schemas: [LIST_RESPONSE],
      totalResults: page.totalResults,
      startIndex: query.startIndex,
      itemsPerPage: page.items.length,
      Resources: page.items.map((person) => project(toScimUser(person, groups.get(person.id) ?? [], baseUrl(request)), projection)),
    });
  };
  router.get('/Users', (request, response) => listUsers(request, response, request.query));
  router.post('/Users/.search', (request, response) => listUsers(request, response, searchBody(request.body)));

  router.put('/Users/:id', async (request, response) => {
    const write = toPersonWrite(request.body);
    const person = await updatePerson(deps.people, context(request), request.params['id'] ?? '', () => write, expectedVersion(request));
    const groups = (await deps.directory.groupsOf([person.id])).get(person.id) ?? [];
    send(response, 200, toScimUser(person, groups, baseUrl(request)), person.version);
  });

  router.patch('/Users/:id', async (request, response) => {
    const operations = parsePatchRequest(request.body);
    const person = await updatePerson(
      deps.people,
      context(request),
      request.params['id'] ?? '',
      (current) => toPersonWrite(applyPatch({ ...current.resource, userName: current.userName, active: current.active }, operations, { readOnly: ['id', 'meta', 'groups'] })),
      expectedVersion(request),
    );
    const groups = (await deps.directory.groupsOf([person.id])).get(person.id) ?? [];
    send(response, 200, toScimUser(person, groups, baseUrl(request)), person.version);
  });

  router.delete('/Users/:id', async (request, response) => {
    await deletePerson(deps.people, context(request), request.params['id'] ?? '', expectedVersion(request));
    response.status(204).end();
  });

  router.post('/Groups', async (request, response) => {
    const parsed = toGroupWrite(request.body);
    const group = await createGroup(deps.groups, context(request), parsed.write, parsed.memberIds);
    const members = (await deps.directory.membersOf([group.id])).get(group.id) ?? [];
    response.setHeader('Location', `${baseUrl(request)}/Groups/${group.id}`);
    send(response, 201, toScimGroup(group, members, baseUrl(request)), group.version);
  });

  router.get('/Groups/:id', async (request, response) => {
    const group = await deps.directory.getGroup(sourceOf(request), request.params['id'] ?? '');
    if (group === null) throw notFound(request.params['id']);
    if (parseEtag(request.get('if-none-match')) === group.version) {
      response.status(304).setHeader('ETag', etag(group.version)).end();
      return;
    }
    const projection = parseProjection(request.query['attributes'], request.query['excludedAttributes']);
    const members = wantsMembers(projection) ? ((await deps.directory.membersOf([group.id])).get(group.id) ?? []) : [];
    send(response, 200, project(toScimGroup(group, members, baseUrl(request)), projection), group.version);
  });

  const listGroups = async (request: Request, response: Response, params: Readonly<Record<string, unknown>>) => {
    const { query, projection } = parseListRequest(params);
    const page = await deps.directory.listGroups(sourceOf(request), query);
    const members = wantsMembers(projection) ? await deps.directory.membersOf(page.items.map((group) => group.id)) : new Map<string, GroupMember[]>();
    send(response, 200, {
      schemas: [LIST_RESPONSE],
      totalResults: page.totalResults,
      startIndex: query.startIndex,
      itemsPerPage: page.items.length,
      Resources: page.items.map((group) => project(toScimGroup(group, members.get(group.id) ?? [], baseUrl(request)), projection)),
    });
  };
  router.get('/Groups', (request, response) => listGroups(request, response, request.query));
  router.post('/Groups/.search', (request, response) => listGroups(request, response, searchBody(request.body)));

  router.put('/Groups/:id', async (request, response) => {
    const parsed = toGroupWrite(request.body);
    const group = await changeGroup(deps.groups, context(request), request.params['id'] ?? '', { write: () => parsed.write, replaceMemberIds: parsed.memberIds }, expectedVersion(request));
    const members = (await deps.directory.membersOf([group.id])).get(group.id) ?? [];
    send(response, 200, toScimGroup(group, members, baseUrl(request)), group.version);
  });

  router.patch('/Groups/:id', async (request, response) => {
    const { members, attributeOps } = planGroupPatch(parsePatchRequest(request.body));
    const write = attributeOps.length === 0 ? undefined : (current: Parameters<NonNullable<Parameters<typeof changeGroup>[3]['write']>>[0]) =>
      toGroupWrite(applyPatch({ ...current.resource, displayName: current.displayName, ...(current.externalId === null ? {} : { externalId: current.externalId }) }, attributeOps, { readOnly: ['id', 'meta', 'members'] })).write;
    const group = await changeGroup(deps.groups, context(request), request.params['id'] ?? '', { ...members, ...(write === undefined ? {} : { write }) }, expectedVersion(request));
    const projection = parseProjection(request.query['attributes'], request.query['excludedAttributes']);
    const current = wantsMembers(projection) ? ((await deps.directory.membersOf([group.id])).get(group.id) ?? []) : [];
    send(response, 200, project(toScimGroup(group, current, baseUrl(request)), projection), group.version);
  });

  router.delete('/Groups/:id', async (request, response) => {
    await deleteGroup(deps.groups, context(request), request.params['id'] ?? '', expectedVersion(request));
    response.status(204).end();
  });

  router.use((request, _response, next) => {
    next(new AppError('not_found', 'no such endpoint', { detail: `No SCIM endpoint ${request.method} ${request.path}` }));
  });
  router.use(scimErrorHandler(deps.logger));
  return router;
}

function wantsMembers(projection: ReturnType<typeof parseProjection>): boolean {
  const excluded = projection.excluded.some((path) => path.toLowerCase() === 'members');
  const listed = projection.attributes === null || projection.attributes.some((path) => path.toLowerCase().startsWith('members'));
  return !excluded && listed;
}

function searchBody(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new AppError('invalid_syntax', 'search body', { detail: 'POST .search needs a SearchRequest object' });
  }
  const params = { ...(body as Record<string, unknown>) };
  for (const key of ['attributes', 'excludedAttributes']) {
    if (Array.isArray(params[key])) params[key] = (params[key] as unknown[]).join(',');
  }
  return params;
}

function notFound(id: string | undefined): AppError {
  return new AppError('not_found', 'resource not found', { detail: `Resource ${id ?? ''} not found` });
}
