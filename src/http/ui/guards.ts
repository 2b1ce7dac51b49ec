import type { RequestHandler } from 'express';
import { roleAtLeast, type Role } from '../../app/auth/tokens.js';
import { AppError } from '../../domain/errors.js';

/** Where a user may be sent back to after sign-in: dashboard paths only, never another host. */
export function safeReturnPath(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 512) return null;
  return /^\/ui(?:[/?][A-Za-z0-9\-._~/?=&%+]*)?$/.test(value) && !value.includes('//') ? value : null;
}

/** Role check for a route; viewers read, operators and admins act. */
export function requireUiRole(role: Role): RequestHandler {
  return (request, _response, next) => {
    const current = request.session.user?.role;
    next(current !== undefined && roleAtLeast(current, role) ? undefined : new AppError('forbidden', 'insufficient role', { detail: `This needs the ${role} role` }));
  };
}
