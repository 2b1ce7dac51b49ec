import type { Request, RequestHandler } from 'express';
import type { Principal } from '../../app/auth/tokens.js';
import { AppError } from '../../domain/errors.js';
import { parseAuthorization, type PresentedCredentials } from './authorization.js';
import type { Authenticate } from './bearer.js';
import { isReadRequest } from './read-only.js';
import { scimChallenge, type ScimAuth } from './scim-auth.js';

/**
 * SCIM authentication: tries the scheme the client presented. Bearer: a database SCIM token or a Tether-issued
 * OAuth2 access token (`authenticate`), else a static token from the config, else a JWT from a configured
 * issuer. Basic: a configured user. Every failure is the same 401 with the configured challenges; a
 * read-only credential gets 403 for anything but reads and searches.
 */
export function scimAuthentication(authenticate: Authenticate, auth: ScimAuth): RequestHandler {
  return async (request, _response, next) => {
    const presented = parseAuthorization(request.get('authorization'));
    const principal = presented === null ? null : await principalOf(presented, authenticate, auth);
    if (principal === null) {
      next(unauthenticated(request, presented, auth));
      return;
    }
    if (principal.kind !== 'scim') {
      next(new AppError('forbidden', 'wrong token kind', { detail: 'This endpoint needs a SCIM credential' }));
      return;
    }
    if (principal.readOnly && !isReadRequest(request)) {
      next(new AppError('forbidden', 'read-only credential', { detail: 'This credential is read-only' }));
      return;
    }
    request.principal = principal;
    next();
  };
}

async function principalOf(presented: PresentedCredentials, authenticate: Authenticate, auth: ScimAuth): Promise<Principal | null> {
  if (presented.scheme === 'basic') return auth.credentials.basic(presented.username, presented.password);
  const stored = await authenticate(presented.token);
  if (stored !== null) return stored;
  const configured = auth.credentials.bearer(presented.token);
  if (configured !== null) return configured;
  return auth.verifyJwt === null ? null : auth.verifyJwt(presented.token);
}

function unauthenticated(request: Request, presented: PresentedCredentials | null, auth: ScimAuth): AppError {
  const challenge = scimChallenge(auth.credentials, presented?.scheme === 'bearer');
  if (presented === null) {
    const detail = request.get('authorization') === undefined ? 'Authentication is required' : 'Unsupported or malformed Authorization header';
    return new AppError('unauthenticated', 'missing credentials', { detail, meta: { challenge } });
  }
  return new AppError('unauthenticated', 'invalid credentials', { detail: 'The credentials are invalid, expired or revoked', meta: { challenge } });
}
