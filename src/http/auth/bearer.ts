import type { RequestHandler } from 'express';
import { roleAtLeast, type Principal, type Role } from '../../app/auth/tokens.js';
import { AppError } from '../../domain/errors.js';

export type Authenticate = (token: string) => Promise<Principal | null>;

/**
 * Bearer-token middleware factory. Every failure is the same 401 (no hint whether a token exists);
 * a valid token of the wrong kind or role is 403.
 */
export function requireBearer(authenticate: Authenticate, options: { kind: 'admin' | 'scim'; role?: Role }): RequestHandler {
  return async (request, _response, next) => {
    const header = request.get('authorization') ?? '';
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    if (match?.[1] === undefined) {
      next(new AppError('unauthenticated', 'missing bearer token', { detail: 'A bearer token is required' }));
      return;
    }
    const principal = await authenticate(match[1]);
    if (principal === null) {
      next(new AppError('unauthenticated', 'invalid bearer token', { detail: 'The bearer token is invalid, expired or revoked' }));
      return;
    }
    if (principal.kind !== options.kind) {
      next(new AppError('forbidden', 'wrong token kind', { detail: `This endpoint needs a ${options.kind} token` }));
      return;
    }
    if (options.role !== undefined && (principal.role === null || !roleAtLeast(principal.role, options.role))) {
      next(new AppError('forbidden', 'insufficient role', { detail: `This operation needs the ${options.role} role` }));
      return;
    }
    request.principal = principal;
    next();
  };
}

/** Per-route role check for routers already behind requireBearer. */
export function requireRole(role: Role): RequestHandler {
  return (request, _response, next) => {
    const current = request.principal?.role ?? null;
    if (current === null || !roleAtLeast(current, role)) {
      next(new AppError('forbidden', 'insufficient role', { detail: `This operation needs the ${role} role` }));
      return;
    }
    next();
  };
}
