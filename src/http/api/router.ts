import { once } from 'node:events';
import { Router, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { AppError } from '../../domain/errors.js';
import { requireBearer, requireRole, type Authenticate } from '../auth/bearer.js';
import { jsonBody } from '../json-body.js';
import { buildOpenApi } from './openapi.js';
import { problemErrorHandler } from './problem.js';
import type { RouteResult, RouteSpec } from './route-spec.js';
import { apiRoutes, type ApiDeps } from './routes.js';

function validate(schema: z.ZodType | undefined, value: unknown, where: string): unknown {
  if (schema === undefined) return value;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors = result.error.issues.map((issue) => ({ path: [where, ...issue.path.map(String)].join('.'), message: issue.message }));
  throw new AppError('invalid_input', `invalid ${where}`, {
    detail: errors.map((error) => `${error.path}: ${error.message}`).join('; '),
    meta: { errors },
  });
}

function handler(route: RouteSpec, logger: Logger): RequestHandler {
  return async (request, response) => {
    const input = {
      params: validate(route.params, request.params, 'params'),
      query: validate(route.query, request.query, 'query'),
      body: validate(route.body, request.body, 'body'),
      request,
    };
    const result = await route.handle(input);
    for (const [name, value] of Object.entries(result.headers ?? {})) response.setHeader(name, value);
    if (result.stream !== undefined) await writeStream(response, result.status, result.stream, logger);
    else if (result.body === undefined) response.status(result.status).end();
    else response.status(result.status).json(result.body);
  };
}

/**
 * Streams chunks with backpressure. The first chunk is read before the status is sent, so an error that
 * happens at once still becomes problem JSON; a failure later can only cut the response short (the client
 * sees an incomplete body), which is logged by the caller's error handler.
 */
async function writeStream(response: Response, status: number, stream: NonNullable<RouteResult['stream']>, logger: Logger): Promise<void> {
  const iterator = stream.chunks[Symbol.asyncIterator]();
  let next = await iterator.next();
  response.status(status).type(stream.contentType);
  try {
    while (next.done !== true) {
      if (response.destroyed) return;
      if (!response.write(next.value)) await drained(response);
      next = await iterator.next();
    }
    response.end();
  } catch (error) {
    // Headers are out: no problem JSON any more; cutting the connection tells the client the body is incomplete.
    logger.error({ err: error, requestId: response.req.id }, 'streamed admin API response failed');
    response.destroy();
  } finally {
    await iterator.return?.();
  }
}

/** Resolves when the socket takes more data, or is gone (a client that disconnects never drains). */
async function drained(response: Response): Promise<void> {
  const controller = new AbortController();
  try {
    await Promise.race([once(response, 'drain', { signal: controller.signal }), once(response, 'close', { signal: controller.signal })]);
  } finally {
    controller.abort();
  }
}

/** The admin REST API at /api/v1: bearer API tokens with roles; problem JSON errors; OpenAPI 3.1 document. */
export function apiRouter(deps: ApiDeps & { authenticate: Authenticate; logger: Logger; version: string; maxBodyBytes: number }): Router {
  const routes = apiRoutes(deps);
  const document = buildOpenApi(routes, { version: deps.version });
  const router = Router();
  router.use(jsonBody(deps.maxBodyBytes));
  router.get('/openapi.json', (_request, response) => {
    response.json(document);
  });
  router.use(requireBearer(deps.authenticate, { kind: 'admin' }));
  for (const route of routes) router[route.method](route.path, requireRole(route.role), handler(route, deps.logger));
  router.use((request, _response, next) => {
    next(new AppError('not_found', 'no such endpoint', { detail: `No endpoint ${request.method} ${request.baseUrl}${request.path}` }));
  });
  router.use(problemErrorHandler(deps.logger));
  return router;
}
