import express, { type RequestHandler } from 'express';
import { AppError } from '../domain/errors.js';

const JSON_TYPES = ['application/json', 'application/scim+json', 'application/*+json'];

/**
 * JSON body parser, mounted inside each router so that malformed or oversized bodies reach that router's
 * own error mapper (SCIM error JSON, or problem JSON) instead of express's default HTML page. A body of
 * another media type is refused with 415 (RFC 9110 §15.5.16) rather than read as "no body", which would
 * surface as a misleading 400 about missing attributes.
 */
export function jsonBody(limitBytes: number): RequestHandler {
  // The media type is checked once, below: the parser only sees bodies that passed (or requests without one).
  const parse = express.json({ type: () => true, limit: limitBytes, strict: false });
  return (request, response, next) => {
    const hasBody = request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
    if (hasBody && request.is(JSON_TYPES) === false) {
      next(new AppError('unsupported_media_type', 'unsupported media type', {
        detail: `Send the body as application/scim+json or application/json, not ${request.headers['content-type'] ?? 'without a Content-Type'}`,
      }));
      return;
    }
    parse(request, response, next);
  };
}
