import type { Request } from 'express';

/** What a read-only credential may do: GET, HEAD, and SCIM searches (`POST …/.search`, RFC 7644 §3.4.3). */
export function isReadRequest(request: Request): boolean {
  if (request.method === 'GET' || request.method === 'HEAD') return true;
  return request.method === 'POST' && /\/\.search\/?$/.test(request.path);
}
