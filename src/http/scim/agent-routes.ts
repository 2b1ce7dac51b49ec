import type { Request, Response, Router } from 'express';
import { AppError } from '../../domain/errors.js';
import type { AgentOperations } from './agent-operations.js';
import type { ScimCall, ScimResult } from './operations.js';

/**
 * `/Agents` (draft-wzdk-scim-agent-resource) on the SCIM router: same authentication and source selection as
 * `/Users`; the source decides whose Users may own the agents a request writes.
 */
export function mountAgentRoutes(
  router: Router,
  operations: AgentOperations,
  callOf: (request: Request, body?: unknown) => ScimCall,
  reply: (response: Response, result: ScimResult) => void,
): void {
  router.post('/Agents', async (request, response) => reply(response, await operations.create(callOf(request))));
  router.get('/Agents', async (request, response) => reply(response, await operations.list(callOf(request), request.query)));
  router.post('/Agents/.search', async (request, response) => reply(response, await operations.list(callOf(request), searchBody(request.body))));
  router.get('/Agents/:id', async (request, response) => reply(response, await operations.get(idOf(request), callOf(request))));
  router.put('/Agents/:id', async (request, response) => reply(response, await operations.replace(idOf(request), callOf(request))));
  router.patch('/Agents/:id', async (request, response) => reply(response, await operations.patch(idOf(request), callOf(request))));
  router.delete('/Agents/:id', async (request, response) => reply(response, await operations.remove(idOf(request), callOf(request))));
}

function idOf(request: Request): string {
  const id: unknown = request.params['id'];
  return typeof id === 'string' ? id : '';
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
