import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { AppError, isAppError, type ErrorCode } from '../../domain/errors.js';
import { ERROR_SCHEMA, SCIM_CONTENT_TYPE } from './constants.js';
import { fromExpressError } from '../express-errors.js';

/** RFC 7644 §3.12 scimType for each code that has one. */
const SCIM_TYPES: Partial<Record<ErrorCode, string>> = {
  invalid_filter: 'invalidFilter',
  invalid_path: 'invalidPath',
  invalid_value: 'invalidValue',
  invalid_input: 'invalidValue',
  invalid_syntax: 'invalidSyntax',
  no_target: 'noTarget',
  mutability: 'mutability',
  uniqueness: 'uniqueness',
  too_many: 'tooMany',
};

/** The RFC 7644 §3.12 error body; also the `response` of a failed Bulk operation. */
export function scimErrorBody(error: AppError): Record<string, unknown> {
  const body: Record<string, unknown> = { schemas: [ERROR_SCHEMA], status: String(error.status), detail: error.detail ?? error.message };
  const scimType = SCIM_TYPES[error.code];
  if (scimType !== undefined) body['scimType'] = scimType;
  return body;
}

/**
 * Ends a route: 405 with `Allow` (RFC 9110 §15.5.6) for a method the endpoint does not serve; a method it
 * serves goes on to the next handler (so it can also guard a path before the routes that would take it).
 * A 405 is this transport's routing answer, not an application failure: no AppError code stands for it.
 */
export function methodNotAllowed(allowed: readonly string[]): RequestHandler {
  const allow = allowed.join(', ');
  return (request, response, next) => {
    if (allowed.includes(request.method)) {
      next();
      return;
    }
    response.setHeader('Allow', allow);
    const detail = `${request.method} is not supported on ${request.path}; allowed: ${allow}`;
    response.status(405).type(SCIM_CONTENT_TYPE).send(JSON.stringify({ schemas: [ERROR_SCHEMA], status: '405', detail }));
  };
}

export function sendScimError(response: Response, error: AppError): void {
  const body = scimErrorBody(error);
  // The authentication middleware names the configured schemes (scimChallenge); Bearer is the default.
  const challenge = error.meta['challenge'];
  if (error.code === 'unauthenticated') response.setHeader('WWW-Authenticate', typeof challenge === 'string' ? challenge : 'Bearer realm="tether-scim"');
  if (error.retryAfterSeconds !== undefined) response.setHeader('Retry-After', String(error.retryAfterSeconds));
  response.status(error.status).type(SCIM_CONTENT_TYPE).send(JSON.stringify(body));
}

/** The single error → SCIM mapping. Unexpected errors become an opaque 500 and are logged with the request id. */
export function scimErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, request, response, _next) => {
    const appError = isAppError(error) ? error : fromExpressError(error);
    if (appError === null || appError.code === 'internal') {
      logger.error({ err: error, requestId: request.id }, 'unexpected error in SCIM request');
      sendScimError(response, new AppError('internal', 'internal error', { detail: 'Internal error' }));
      return;
    }
    sendScimError(response, appError);
  };
}
