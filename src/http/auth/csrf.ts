import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';

export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_FIELD = '_csrf';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The session's synchronizer token, created on first use; forms and the live-update script send it back. */
export function csrfToken(request: Request): string {
  request.session.csrf ??= randomBytes(32).toString('base64url');
  return request.session.csrf;
}

/**
 * CSRF protection for every state-changing request: the token bound to the session must come back in the
 * X-CSRF-Token header or the `_csrf` form field (compared in constant time), and a request that names its
 * Origin must come from Tether's own. SameSite=Lax cookies already stop most cross-site POSTs; this also
 * covers same-site attackers and older browsers. `reject` renders the refusal.
 */
export function requireCsrf(publicOrigin: string, reject: RequestHandler): RequestHandler {
  return (request, response, next) => {
    if (SAFE_METHODS.has(request.method)) {
      next();
      return;
    }
    const origin = request.get('origin');
    const expected = request.session.csrf;
    const presented = request.get(CSRF_HEADER) ?? fieldOf(request);
    const sameOrigin = origin === undefined || origin === publicOrigin;
    if (sameOrigin && expected !== undefined && presented !== null && equal(presented, expected)) {
      next();
      return;
    }
    void reject(request, response, next);
  };
}

function fieldOf(request: Request): string | null {
  const value = (request.body as Record<string, unknown> | undefined)?.[CSRF_FIELD];
  return typeof value === 'string' ? value : null;
}

function equal(left: string, right: string): boolean {
  const a = Buffer.from(left);
  const b = Buffer.from(right);
  return a.length === b.length && timingSafeEqual(a, b);
}
