import { Router, type Response } from 'express';
import { AppError } from '../../domain/errors.js';
import { BULK_MAX_OPERATIONS, CORE_GROUP, CORE_USER, ENTERPRISE_USER, LIST_RESPONSE, MAX_PAGE_SIZE, SCIM_CONTENT_TYPE } from './constants.js';
import { CORE_AGENT, TETHER_AGENT_URN } from './agent-resource.js';
import { SCHEMAS } from './schema-definitions.js';

function send(response: Response, body: unknown): void {
  response.status(200).type(SCIM_CONTENT_TYPE).send(JSON.stringify(body));
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
export function discoveryRouter(options: { readonly maxPayloadSize: number }): Router {
  const router = Router();
  router.get('/ServiceProviderConfig', (_request, response) => {
    send(response, {
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
    });
  });
  router.get('/ResourceTypes', (_request, response) => send(response, list(RESOURCE_TYPES)));
  router.get('/ResourceTypes/:id', (request, response) => {
    const found = RESOURCE_TYPES.find((type) => type.id === request.params['id']);
    if (found === undefined) throw new AppError('not_found', 'no such resource type', { detail: `Resource type ${request.params['id']} not found` });
    send(response, found);
  });
  router.get('/Schemas', (_request, response) => send(response, list(SCHEMAS)));
  router.get('/Schemas/:id', (request, response) => {
    const found = SCHEMAS.find((schema) => schema.id === request.params['id']);
    if (found === undefined) throw new AppError('not_found', 'no such schema', { detail: `Schema ${request.params['id']} not found` });
    send(response, found);
  });
  return router;
}
