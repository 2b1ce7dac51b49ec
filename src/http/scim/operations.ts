import type { ChangeContext } from '../../app/directory/change-recorder.js';
import type { DirectoryReader } from '../../app/directory/directory-query.js';
import { changeGroup, createGroup, deleteGroup, type GroupChange, type GroupsDeps } from '../../app/directory/groups.js';
import { createPerson, deletePerson, updatePerson, type PeopleDeps } from '../../app/directory/people.js';
import type { GroupMember, GroupRecord } from '../../app/records.js';
import { AppError } from '../../domain/errors.js';
import { LIST_RESPONSE } from './constants.js';
import { planGroupPatch } from './group-patch.js';
import { toGroupWrite, toScimGroup } from './group-resource.js';
import { parseListRequest } from './list-query.js';
import { applyPatch, parsePatchRequest } from './patch.js';
import { parseProjection, project, type Projection } from './projection.js';
import { etag, ifMatchVersions, notModified, omitsActive, toPersonWrite, toScimUser, userLocation } from './user-resource.js';
import type { ExpectedVersion } from '../../app/expected-version.js';

/**
 * One SCIM operation on Users or Groups, independent of HTTP: the router maps a request to it, and Bulk
 * (RFC 7644 §3.7) maps each of its operations to it, so both behave identically.
 */
export interface ScimCall {
  readonly sourceId: string;
  /** Lazily built: reads need no change context. */
  readonly context: () => ChangeContext;
  /** Absolute URL of the SCIM root as the client addressed it. */
  readonly baseUrl: string;
  readonly query: Readonly<Record<string, unknown>>;
  readonly body: unknown;
  readonly ifMatch: string | undefined;
  readonly ifNoneMatch: string | undefined;
  /** Whether a successful PATCH returns the resource (200) or nothing (204). */
  readonly wantsRepresentation: boolean;
}

export interface ScimResult {
  readonly status: number;
  readonly body?: unknown;
  /** Sent as ETag. */
  readonly version?: number;
  readonly location?: string;
}

export interface ScimOperationDeps {
  readonly people: PeopleDeps;
  readonly groups: GroupsDeps;
  readonly directory: DirectoryReader;
}

export type ResourceName = 'Users' | 'Groups' | 'Agents';

/** The operations of one resource type (Users, Groups, and the agent operations of agent-operations.ts). */
export interface ResourceOperations {
  create(call: ScimCall): Promise<ScimResult>;
  get(id: string, call: ScimCall): Promise<ScimResult>;
  list(call: ScimCall, params: Readonly<Record<string, unknown>>): Promise<ScimResult>;
  replace(id: string, call: ScimCall): Promise<ScimResult>;
  patch(id: string, call: ScimCall): Promise<ScimResult>;
  remove(id: string, call: ScimCall): Promise<ScimResult>;
}

export interface ScimOperations {
  /** The resource types served, in the order a root `/.search` lists them. */
  readonly resources: readonly ResourceName[];
  create(resource: ResourceName, call: ScimCall): Promise<ScimResult>;
  get(resource: ResourceName, id: string, call: ScimCall): Promise<ScimResult>;
  list(resource: ResourceName, call: ScimCall, params: Readonly<Record<string, unknown>>): Promise<ScimResult>;
  replace(resource: ResourceName, id: string, call: ScimCall): Promise<ScimResult>;
  patch(resource: ResourceName, id: string, call: ScimCall): Promise<ScimResult>;
  remove(resource: ResourceName, id: string, call: ScimCall): Promise<ScimResult>;
}

/** If-Match: the version the client expects (412 on mismatch); `*` or absent means any. */
function expectedVersion(call: ScimCall): ExpectedVersion {
  return ifMatchVersions(call.ifMatch);
}

function projectionOf(call: ScimCall): Projection {
  return parseProjection(call.query['attributes'], call.query['excludedAttributes']);
}

export function notFound(id: string): AppError {
  return new AppError('not_found', 'resource not found', { detail: `Resource ${id} not found` });
}

function wantsMembers(projection: Projection): boolean {
  const excluded = projection.excluded.some((path) => path.toLowerCase() === 'members');
  const listed = projection.attributes === null || projection.attributes.some((path) => path.toLowerCase().startsWith('members'));
  return !excluded && listed;
}

function listResponse(totalResults: number, startIndex: number, resources: readonly unknown[]) {
  return { schemas: [LIST_RESPONSE], totalResults, startIndex, itemsPerPage: resources.length, Resources: resources };
}

/** `agents`: the /Agents operations when the agent resource type is served, so Bulk and root search cover it. */
export function scimOperations(deps: ScimOperationDeps, agents?: ResourceOperations): ScimOperations {
  const { directory } = deps;

  const userBody = async (person: Parameters<typeof toScimUser>[0], call: ScimCall, projection: Projection | null) => {
    const groups = (await directory.groupsOf([person.id])).get(person.id) ?? [];
    const resource = toScimUser(person, groups, call.baseUrl);
    return projection === null ? resource : project(resource, projection);
  };

  const groupBody = async (group: GroupRecord, call: ScimCall, projection: Projection | null) => {
    const members = projection === null || wantsMembers(projection) ? ((await directory.membersOf([group.id])).get(group.id) ?? []) : [];
    const resource = toScimGroup(group, members, call.baseUrl);
    return projection === null ? resource : project(resource, projection);
  };

  const users: ResourceOperations = {
    async create(call: ScimCall): Promise<ScimResult> {
      const person = await createPerson(deps.people, call.context(), toPersonWrite(call.body));
      return { status: 201, body: await userBody(person, call, projectionOf(call)), version: person.version, location: userLocation(call.baseUrl, person.id) };
    },
    async get(id: string, call: ScimCall): Promise<ScimResult> {
      const person = await directory.getPerson(call.sourceId, id);
      if (person === null) throw notFound(id);
      if (notModified(call.ifNoneMatch, person.version)) return { status: 304, version: person.version };
      return { status: 200, body: await userBody(person, call, projectionOf(call)), version: person.version };
    },
    async list(call: ScimCall, params: Readonly<Record<string, unknown>>): Promise<ScimResult> {
      const { query, projection } = parseListRequest(params);
      const page = await directory.listPersons(call.sourceId, query);
      const groups = await directory.groupsOf(page.items.map((person) => person.id));
      const resources = page.items.map((person) => project(toScimUser(person, groups.get(person.id) ?? [], call.baseUrl), projection));
      return { status: 200, body: listResponse(page.totalResults, query.startIndex, resources) };
    },
    async replace(id: string, call: ScimCall): Promise<ScimResult> {
      const write = toPersonWrite(call.body);
      const keepActive = omitsActive(call.body);
      const person = await updatePerson(deps.people, call.context(), id,
        (current) => (keepActive ? { ...write, active: current.active, resource: { ...write.resource, active: current.active } } : write), expectedVersion(call));
      return { status: 200, body: await userBody(person, call, projectionOf(call)), version: person.version };
    },
    async patch(id: string, call: ScimCall): Promise<ScimResult> {
      const operations = parsePatchRequest(call.body);
      const person = await updatePerson(
        deps.people,
        call.context(),
        id,
        (current) => toPersonWrite(applyPatch({ ...current.resource, id: current.id, userName: current.userName, active: current.active }, operations, { readOnly: ['id', 'meta', 'groups'] })),
        expectedVersion(call),
      );
      if (!call.wantsRepresentation) return { status: 204, version: person.version };
      return { status: 200, body: await userBody(person, call, projectionOf(call)), version: person.version };
    },
    async remove(id: string, call: ScimCall): Promise<ScimResult> {
      await deletePerson(deps.people, call.context(), id, expectedVersion(call));
      return { status: 204 };
    },
  };

  const groups: ResourceOperations = {
    async create(call: ScimCall): Promise<ScimResult> {
      const parsed = toGroupWrite(call.body);
      const group = await createGroup(deps.groups, call.context(), parsed.write, parsed.memberIds, parsed.memberDisplays);
      return { status: 201, body: await groupBody(group, call, projectionOf(call)), version: group.version, location: `${call.baseUrl}/Groups/${group.id}` };
    },
    async get(id: string, call: ScimCall): Promise<ScimResult> {
      const group = await directory.getGroup(call.sourceId, id);
      if (group === null) throw notFound(id);
      if (notModified(call.ifNoneMatch, group.version)) return { status: 304, version: group.version };
      return { status: 200, body: await groupBody(group, call, projectionOf(call)), version: group.version };
    },
    async list(call: ScimCall, params: Readonly<Record<string, unknown>>): Promise<ScimResult> {
      const { query, projection } = parseListRequest(params);
      const page = await directory.listGroups(call.sourceId, query);
      const members = wantsMembers(projection) ? await directory.membersOf(page.items.map((group) => group.id)) : new Map<string, GroupMember[]>();
      const resources = page.items.map((group) => project(toScimGroup(group, members.get(group.id) ?? [], call.baseUrl), projection));
      return { status: 200, body: listResponse(page.totalResults, query.startIndex, resources) };
    },
    async replace(id: string, call: ScimCall): Promise<ScimResult> {
      const parsed = toGroupWrite(call.body);
      const change: GroupChange = { write: () => parsed.write, replaceMemberIds: parsed.memberIds, memberDisplays: parsed.memberDisplays };
      const group = await changeGroup(deps.groups, call.context(), id, change, expectedVersion(call));
      return { status: 200, body: await groupBody(group, call, projectionOf(call)), version: group.version };
    },
    async patch(id: string, call: ScimCall): Promise<ScimResult> {
      const { members, attributeOps } = planGroupPatch(parsePatchRequest(call.body));
      const write = attributeOps.length === 0 ? undefined : (current: GroupRecord) =>
        toGroupWrite(applyPatch({ ...current.resource, id: current.id, displayName: current.displayName, ...(current.externalId === null ? {} : { externalId: current.externalId }) }, attributeOps, { readOnly: ['id', 'meta', 'members'] })).write;
      const group = await changeGroup(deps.groups, call.context(), id, { ...members, ...(write === undefined ? {} : { write }) }, expectedVersion(call));
      if (!call.wantsRepresentation) return { status: 204, version: group.version };
      return { status: 200, body: await groupBody(group, call, projectionOf(call)), version: group.version };
    },
    async remove(id: string, call: ScimCall): Promise<ScimResult> {
      await deleteGroup(deps.groups, call.context(), id, expectedVersion(call));
      return { status: 204 };
    },
  };

  const byName: Partial<Record<ResourceName, ResourceOperations>> = { Users: users, Groups: groups, ...(agents === undefined ? {} : { Agents: agents }) };
  const of = (resource: ResourceName): ResourceOperations => {
    const found = byName[resource];
    if (found === undefined) throw new AppError('not_found', 'resource type not served', { detail: `/${resource} is not served here` });
    return found;
  };
  return {
    resources: agents === undefined ? ['Users', 'Groups'] : ['Users', 'Groups', 'Agents'],
    create: (resource, call) => of(resource).create(call),
    get: (resource, id, call) => of(resource).get(id, call),
    list: (resource, call, params) => of(resource).list(call, params),
    replace: (resource, id, call) => of(resource).replace(id, call),
    patch: (resource, id, call) => of(resource).patch(id, call),
    remove: (resource, id, call) => of(resource).remove(id, call),
  };
}

export { etag };
