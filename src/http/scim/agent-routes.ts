import type { Request, Response, Router } from 'express';
import type { ResourceOperations } from './operations.js';
import type { ScimCall, ScimResult } from './operations.js';
import { idParam, searchParams } from './request-params.js';

/**
 * `/Agents` (draft-wzdk-scim-agent-resource) on the SCIM router: same authentication and source selection as
 * `/Users`; the source decides whose Users may own the agents a request writes.
 */
export function mountAgentRoutes(
  router: Router,
  operations: ResourceOperations,
  callOf: (request: Request, body?: unknown) => ScimCall,
  reply: (response: Response, result: ScimResult) => void,
): void {
  router.post('/Agents', async (request, response) => reply(response, await operations.create(callOf(request))));
  router.get('/Agents', async (request, response) => reply(response, await operations.list(callOf(request), request.query)));
  router.post('/Agents/.search', async (request, response) => reply(response, await operations.list(callOf(request), searchParams(request.body))));
  router.get('/Agents/:id', async (request, response) => reply(response, await operations.get(idParam(request), callOf(request))));
  router.put('/Agents/:id', async (request, response) => reply(response, await operations.replace(idParam(request), callOf(request))));
  router.patch('/Agents/:id', async (request, response) => reply(response, await operations.patch(idParam(request), callOf(request))));
  router.delete('/Agents/:id', async (request, response) => reply(response, await operations.remove(idParam(request), callOf(request))));
}
