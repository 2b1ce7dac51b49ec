import type { Request } from 'express';
import { AppError } from '../../domain/errors.js';

/** The `:id` route parameter (always a string on the routes that declare it). */
export function idParam(request: Request): string {
  const id: unknown = request.params['id'];
  return typeof id === 'string' ? id : '';
}

/** A SearchRequest body (RFC 7644 §3.4.3) as list parameters: attribute arrays become comma lists. */
export function searchParams(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new AppError('invalid_syntax', 'search body', { detail: 'POST .search needs a SearchRequest object' });
  }
  const params = { ...(body as Record<string, unknown>) };
  for (const key of ['attributes', 'excludedAttributes']) {
    if (Array.isArray(params[key])) params[key] = (params[key] as unknown[]).join(',');
  }
  return params;
}
