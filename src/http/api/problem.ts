import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { AppError, ERROR_CODES, isAppError } from '../../domain/errors.js';
import { fromExpressError } from '../express-errors.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** RFC 9457 problem details; `code` is the stable machine-readable AppError code. */
export function sendProblem(response: Response, error: AppError, requestId: string | undefined): void {
  if (error.code === 'unauthenticated') response.setHeader('WWW-Authenticate', 'Bearer realm="tether-api"');
  if (error.retryAfterSeconds !== undefined) response.setHeader('Retry-After', String(error.retryAfterSeconds));
  response
    .status(error.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(
      JSON.stringify({
        type: `urn:tether:problem:${error.code}`,
        title: ERROR_CODES[error.code].title,
        status: error.status,
        detail: error.detail ?? error.message,
        code: error.code,
        ...(requestId === undefined ? {} : { requestId }),
        ...(Array.isArray(error.meta['errors']) ? { errors: error.meta['errors'] } : {}),
      }),
    );
}

/** The single error → problem JSON mapping of the admin API. Unexpected errors: opaque 500, logged. */
export function problemErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, request, response, _next) => {
    const appError = isAppError(error) ? error : fromExpressError(error);
    if (appError === null || appError.code === 'internal') {
      logger.error({ err: error, requestId: request.id }, 'unexpected error in admin API request');
      sendProblem(response, new AppError('internal', 'internal error', { detail: 'Internal error' }), request.id);
      return;
    }
    sendProblem(response, appError, request.id);
  };
}
