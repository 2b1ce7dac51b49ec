import { Router, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { ChangeContext } from '../../app/directory/change-recorder.js';
import type { DirectoryReader } from '../../app/directory/directory-query.js';
import type { GroupsDeps } from '../../app/directory/groups.js';
import type { PeopleDeps } from '../../app/directory/people.js';
import { AppError } from '../../domain/errors.js';
import type { Authenticate } from '../auth/bearer.js';
import type { ScimAuth } from '../auth/scim-auth.js';
import { scimAuthentication } from '../auth/scim-authentication.js';
import { jsonBody } from '../json-body.js';
import { agentOperations, type AgentScimDeps } from './agent-operations.js';
import { mountAgentRoutes } from './agent-routes.js';
import { BULK_MAX_OPERATIONS, SCIM_CONTENT_TYPE } from './constants.js';
import { runBulk } from './bulk.js';
import { discoveryRouter } from './discovery.js';
import { methodNotAllowed, scimErrorHandler } from './errors.js';
import { etag, scimOperations, type ScimCall, type ScimResult } from './operations.js';
import { searchAll } from './search-all.js';
import { idParam, searchParams } from './request-params.js';

export interface ScimDeps {
  readonly people: PeopleDeps;
  readonly groups: GroupsDeps;
  readonly directory: DirectoryReader;
  readonly authenticate: Authenticate;
  readonly logger: Logger;
  readonly maxBodyBytes: number;
  /** Configured source ids: a `{baseEntity}` in the URL must be one of them. */
  readonly sourceIds: readonly string[];
  /** Configured credentials (tether.yaml `scimAuth`) besides the database tokens of `authenticate`. */
  readonly scimAuth: ScimAuth;
  /** SCIM `/Agents`; without it the endpoint is not served. */
  readonly agents?: AgentScimDeps;
}

/** Absolute URL of the SCIM root as the client addressed it (prefix and baseEntity included). */
function baseUrl(request: Request): string {
  return `${request.protocol}://${request.get('host') ?? 'localhost'}${request.scimAddress?.publicPrefix ?? request.baseUrl}`;
}

function context(request: Request, sourceId: string): ChangeContext {
  const principal = request.principal;
  if (principal === undefined) throw new AppError('unauthenticated', 'no principal', { detail: 'Authentication is required' });
  if (principal.readOnly) throw new AppError('forbidden', 'read-only credential', { detail: 'This credential is read-only' });
  return {
    actor: principal.tokenId.includes(":") ? principal.tokenId : `scim_token:${principal.tokenId}`,
    sourceId,
    origin: 'scim',
    receivedAt: request.receivedAt,
    sourceTime: null,
  };
}

/**
 * The source a request reads and writes: the URL's `{baseEntity}` if present (it must be a configured
 * source the credential may use), else the credential's default source, else its only allowed source.
 */
function selectSource(request: Request, sources: ReadonlySet<string>): string {
  const principal = request.principal;
  if (principal === undefined) throw new AppError('unauthenticated', 'no principal', { detail: 'Authentication is required' });
  const baseEntity = request.scimAddress?.baseEntity ?? null;
  if (baseEntity !== null) {
    if (!sources.has(baseEntity)) throw new AppError('not_found', 'unknown baseEntity', { detail: `No source "${baseEntity}" is configured` });
    if (principal.sourceIds !== null && !principal.sourceIds.includes(baseEntity)) {
      throw new AppError('forbidden', 'source not allowed', { detail: `This credential may not use source "${baseEntity}"` });
    }
    return baseEntity;
  }
  if (principal.sourceId !== null) return principal.sourceId;
  if (principal.sourceIds?.length === 1 && principal.sourceIds[0] !== undefined) return principal.sourceIds[0];
  throw new AppError('invalid_input', 'source not implied', {
    detail: 'This credential may use several sources: address one as /scim/v2/{baseEntity}/Users',
  });
}

/**
 * PATCH answers 204 No Content (RFC 7644 §3.5.2 allows it; Microsoft's validation suite expects it) unless
 * the client asks for the resource: `attributes` / `excludedAttributes`, `Prefer: return=representation`
 * (RFC 7240), or a client known to read the body (Okta's SCIM client documents a 200 with the resource).
 */
function wantsRepresentation(request: Request): boolean {
  if (request.query['attributes'] !== undefined || request.query['excludedAttributes'] !== undefined) return true;
  if (/\breturn=representation\b/i.test(request.get('prefer') ?? '')) return true;
  return /^Okta SCIM Client/i.test(request.get('user-agent') ?? '');
}

/** The methods each kind of endpoint serves, for the 405 answers (and their `Allow`) of everything else. */
const ITEM_METHODS = ['GET', 'PUT', 'PATCH', 'DELETE'];
const COLLECTION_METHODS = ['GET', 'POST'];
const POST_ONLY = ['POST'];

/** The SCIM 2.0 service provider (RFC 7643 / 7644) for one or more sources; URL and credential select the source. */
export function scimRouter(deps: ScimDeps): Router {
  const router = Router();
  const sources = new Set(deps.sourceIds);
  const agents = deps.agents === undefined ? undefined : agentOperations(deps.agents);
  const operations = scimOperations(deps, agents);
  const callOf = (request: Request, body: unknown = request.body): ScimCall => {
    const sourceId = selectSource(request, sources);
    return {
      sourceId,
      context: () => context(request, sourceId),
      // Only answers with a body need it (a PATCH answered 204 does not): built when read.
      get baseUrl() {
        return baseUrl(request);
      },
      query: request.query,
      body,
      ifMatch: request.get('if-match'),
      ifNoneMatch: request.get('if-none-match'),
      wantsRepresentation: wantsRepresentation(request),
    };
  };
  const reply = (response: Response, result: ScimResult) => {
    if (result.version !== undefined) response.setHeader('ETag', etag(result.version));
    if (result.location !== undefined) response.setHeader('Location', result.location);
    if (result.body === undefined) {
      response.status(result.status).end();
      return;
    }
    response.status(result.status).type(SCIM_CONTENT_TYPE).send(JSON.stringify(result.body));
  };

  // scimgateway's liveness probe: unauthenticated, plain text, says nothing about the data.
  router.route('/ping')
    .get((_request, response) => {
      response.type('text/plain').send('hello');
    })
    .all(methodNotAllowed(['GET']));
  router.use(jsonBody(deps.maxBodyBytes));
  router.use(scimAuthentication(deps.authenticate, deps.scimAuth));

  // One route per path with its methods (not one per method and path): express tries every layer in order,
  // matching its path each time, and resource writes are the traffic that counts.
  // `.search` before `/{Resource}/:id`, which would take it for an id (and answer a GET of it 404).
  if (agents !== undefined) router.all('/Agents/.search', methodNotAllowed(POST_ONLY));
  for (const resource of ['Users', 'Groups'] as const) { // /Agents has its own routes (agent-routes.ts)
    router.route(`/${resource}/.search`)
      .post(async (request, response) => reply(response, await operations.list(resource, callOf(request), searchParams(request.body))))
      .all(methodNotAllowed(POST_ONLY));
    router.route(`/${resource}/:id`)
      .patch(async (request, response) => reply(response, await operations.patch(resource, idParam(request), callOf(request))))
      .put(async (request, response) => reply(response, await operations.replace(resource, idParam(request), callOf(request))))
      .get(async (request, response) => reply(response, await operations.get(resource, idParam(request), callOf(request))))
      .delete(async (request, response) => reply(response, await operations.remove(resource, idParam(request), callOf(request))))
      .all(methodNotAllowed(ITEM_METHODS));
    router.route(`/${resource}`)
      .post(async (request, response) => reply(response, await operations.create(resource, callOf(request))))
      .get(async (request, response) => reply(response, await operations.list(resource, callOf(request), request.query)))
      .all(methodNotAllowed(COLLECTION_METHODS));
  }
  if (agents !== undefined) {
    mountAgentRoutes(router, agents, callOf, reply);
    // agent-routes.ts mounts one layer per method: whatever none of them served ends here.
    router.all('/Agents/:id', methodNotAllowed(ITEM_METHODS));
    router.all('/Agents', methodNotAllowed(COLLECTION_METHODS));
  }
  // After the resources: discovery is read once per client, so resource requests should not walk its routes.
  router.use(discoveryRouter({ maxPayloadSize: deps.maxBodyBytes, baseUrl }));
  router.route('/.search')
    .post(async (request, response) => reply(response, await searchAll(operations, callOf(request), searchParams(request.body))))
    .all(methodNotAllowed(POST_ONLY));
  router.route('/Bulk')
    .post(async (request, response) => {
      reply(response, await runBulk(operations, callOf(request), request.body, { maxOperations: BULK_MAX_OPERATIONS, readOnly: request.principal?.readOnly ?? false }));
    })
    .all(methodNotAllowed(POST_ONLY));

  router.use((request, _response, next) => {
    next(new AppError('not_found', 'no such endpoint', { detail: `No SCIM endpoint ${request.method} ${request.path}` }));
  });
  router.use(scimErrorHandler(deps.logger));
  return router;
}

