import { Router, type Request, type Response } from 'express';
import { AppError } from '../../domain/errors.js';
import { BULK_MAX_OPERATIONS, CORE_GROUP, CORE_USER, ENTERPRISE_USER, LIST_RESPONSE, MAX_PAGE_SIZE, SCIM_CONTENT_TYPE } from './constants.js';
import { CORE_AGENT, TETHER_AGENT_URN } from './agent-resource.js';
import { methodNotAllowed } from './errors.js';
import { idParam } from './request-params.js';
import { SCHEMAS } from './schema-definitions.js';

function send(response: Response, body: unknown): void {
  response.status(200).type(SCIM_CONTENT_TYPE).send(JSON.stringify(body));
}

/**
 * The definitions hold `meta.location` relative to the SCIM root; RFC 7643 §3.1 wants the resource's URI, so
 * each answer makes it absolute in the URL form the client used, like the locations of Users and Groups.
 */
function located<T extends { meta: { location: string } }>(resource: T, base: string): T {
  return { ...resource, meta: { ...resource.meta, location: `${base}${resource.meta.location}` } };
}

/**
 * RFC 7644 §4: these endpoints ignore query parameters, and a filter SHOULD get a 403 so that a client cannot
 * take the answer for the resources matching it.
 */
function refuseFilter(request: Request): void {
  if (request.query['filter'] === undefined) return;
  throw new AppError('forbidden', 'filter on discovery', { detail: `${request.path} cannot be filtered: it always answers every entry` });
}

function list(resources: readonly unknown[]) {
  return { schemas: [LIST_RESPONSE], totalResults: resources.length, startIndex: 1, itemsPerPage: resources.length, Resources: resources };
}

const RESOURCE_TYPES = [
  {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
    id: 'User', name: 'User', endpoint: '/Users', description: 'People of the directory source; sponsors of agents',
    schema: CORE_USER, schemaExtensions: [{ schema: ENTERPRISE_USER, required: false }],
    meta: { resourceType: 'ResourceType', location: '/ResourceTypes/User' },
  },
  {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
    id: 'Group', name: 'Group', endpoint: '/Groups', description: 'Directory groups; the input of grant rules',
    schema: CORE_GROUP, schemaExtensions: [],
    meta: { resourceType: 'ResourceType', location: '/ResourceTypes/Group' },
  },
  {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
    id: 'Agent', name: 'Agent', endpoint: '/Agents', description: 'AI agents; their owners are their sponsors',
    schema: CORE_AGENT, schemaExtensions: [{ schema: TETHER_AGENT_URN, required: true }],
    meta: { resourceType: 'ResourceType', location: '/ResourceTypes/Agent' },
  },
];

/** Discovery endpoints (RFC 7644 §4), truthful about what this server supports today. */
export function discoveryRouter(options: {
  readonly maxPayloadSize: number;
  /** Absolute URL of the SCIM root as the client addressed it. */
  readonly baseUrl: (request: Request) => string;
}): Router {
  const router = Router();
  const getOnly = methodNotAllowed(['GET']);
  const serve = (answer: (request: Request, base: string) => unknown) => (request: Request, response: Response) => {
    refuseFilter(request);
    send(response, answer(request, options.baseUrl(request)));
  };
  const config = {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
    documentationUri: 'https://github.com/tether/tether/blob/main/docs/scim.md',
    patch: { supported: true },
    bulk: { supported: true, maxOperations: BULK_MAX_OPERATIONS, maxPayloadSize: options.maxPayloadSize },
    filter: { supported: true, maxResults: MAX_PAGE_SIZE },
    changePassword: { supported: false },
    sort: { supported: true },
    etag: { supported: true },
    // draft-abbey-scim-agent-extension: servers with Agents say so here.
    agentExtension: { supported: true, agentsSupported: true, agenticApplicationsSupported: false },
    authenticationSchemes: [
      { type: 'oauthbearertoken', name: 'Bearer token', description: 'A per-source SCIM token sent as Authorization: Bearer', primary: true },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: '/ServiceProviderConfig' },
  };
  router.route('/ServiceProviderConfig').get(serve((_request, base) => located(config, base))).all(getOnly);
  router.route('/ResourceTypes').get(serve((_request, base) => list(RESOURCE_TYPES.map((type) => located(type, base))))).all(getOnly);
  router.route('/ResourceTypes/:id').get(serve((request, base) => {
    const found = RESOURCE_TYPES.find((type) => type.id === idParam(request));
    if (found === undefined) throw new AppError('not_found', 'no such resource type', { detail: `Resource type ${idParam(request)} not found` });
    return located(found, base);
  })).all(getOnly);
  router.route('/Schemas').get(serve((_request, base) => list(SCHEMAS.map((schema) => located(schema, base))))).all(getOnly);
  router.route('/Schemas/:id').get(serve((request, base) => {
    const found = SCHEMAS.find((schema) => schema.id === idParam(request));
    if (found === undefined) throw new AppError('not_found', 'no such schema', { detail: `Schema ${idParam(request)} not found` });
    return located(found, base);
  })).all(getOnly);
  return router;
}
