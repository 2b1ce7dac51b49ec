import express, { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import type { OAuth2Credential } from '../../app/auth/credentials.js';
import { isAppError } from '../../domain/errors.js';
import { parseAuthorization } from './authorization.js';
import type { ScimAuth } from './scim-auth.js';

/** Where the token endpoint answers: Tether's SCIM root, and scimgateway's `/oauth/token` (with or without a baseEntity). */
export const OAUTH_TOKEN_PATHS = ['/scim/v2/oauth/token', '/scim/v2/:baseEntity/oauth/token', '/oauth/token', '/:baseEntity/oauth/token'];

const FORM = 'application/x-www-form-urlencoded';
const REALM = 'tether-oauth';

type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'unsupported_grant_type' | 'server_error' | 'temporarily_unavailable';

class OAuthError extends Error {
  constructor(readonly status: number, readonly code: OAuthErrorCode, readonly description: string) {
    super(description);
  }
}

/**
 * OAuth2 client-credentials token endpoint (RFC 6749 §4.4) for `scimAuth` oauth2 credentials. The client
 * authenticates with HTTP Basic or `client_id` / `client_secret` form parameters (§2.3.1), never both; the
 * answer is an opaque bearer token for the SCIM endpoints, errors are §5.2 JSON, and nothing is cached.
 */
export function oauthTokenRouter(auth: ScimAuth): Router {
  const router = Router();
  router.post('/', express.text({ type: FORM, limit: 8192 }), async (request, response) => {
    const params = formParams(request);
    const grantType = params.get('grant_type');
    if (grantType === null) throw new OAuthError(400, 'invalid_request', 'grant_type is required');
    if (grantType !== 'client_credentials') throw new OAuthError(400, 'unsupported_grant_type', 'Only grant_type=client_credentials is supported');
    const credential = authenticateClient(request, params, auth);
    const issued = await auth.issueAccessToken(credential);
    noStore(response).json({ access_token: issued.accessToken, token_type: 'Bearer', expires_in: issued.expiresIn });
  });
  router.all('/', (_request, response) => {
    response.setHeader('Allow', 'POST');
    sendError(response, new OAuthError(405, 'invalid_request', 'Use POST'));
  });
  router.use(tokenErrorHandler(auth));
  return router;
}

function formParams(request: Request): URLSearchParams {
  if (!request.is(FORM) || typeof request.body !== 'string') throw new OAuthError(400, 'invalid_request', `The body must be ${FORM}`);
  const params = new URLSearchParams(request.body);
  for (const key of new Set(params.keys())) {
    if (params.getAll(key).length > 1) throw new OAuthError(400, 'invalid_request', `Parameter ${key} is repeated`);
  }
  return params;
}

function authenticateClient(request: Request, params: URLSearchParams, auth: ScimAuth): OAuth2Credential {
  const header = request.get('authorization');
  const bodyId = params.get('client_id');
  const bodySecret = params.get('client_secret');
  if (header !== undefined) {
    const basic = parseAuthorization(header);
    if (basic?.scheme !== 'basic') throw new OAuthError(401, 'invalid_client', 'Client authentication failed');
    if (bodySecret !== null) throw new OAuthError(400, 'invalid_request', 'Use one client authentication method, not Basic and client_secret');
    if (bodyId !== null && bodyId !== formDecode(basic.username)) throw new OAuthError(400, 'invalid_request', 'client_id does not match the Authorization header');
    // §2.3.1 says the Basic parts are form-encoded; many clients send them raw, so both readings are tried.
    const found = auth.credentials.client(basic.username, basic.password)
      ?? auth.credentials.client(formDecode(basic.username), formDecode(basic.password));
    if (found === null) throw new OAuthError(401, 'invalid_client', 'Client authentication failed');
    return found;
  }
  if (bodyId === null || bodySecret === null) throw new OAuthError(401, 'invalid_client', 'Client authentication is required');
  const found = auth.credentials.client(bodyId, bodySecret);
  if (found === null) throw new OAuthError(401, 'invalid_client', 'Client authentication failed');
  return found;
}

function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}

function noStore(response: Response): Response {
  return response.setHeader('Cache-Control', 'no-store').setHeader('Pragma', 'no-cache');
}

function sendError(response: Response, error: OAuthError): void {
  if (error.code === 'invalid_client') response.setHeader('WWW-Authenticate', `Basic realm="${REALM}"`);
  noStore(response).status(error.status).json({ error: error.code, error_description: error.description });
}

/** §5.2 errors; body-parser failures are the client's; anything else is logged and opaque. */
function tokenErrorHandler(auth: ScimAuth): ErrorRequestHandler {
  return (error: unknown, request, response, _next) => {
    if (error instanceof OAuthError) {
      if (error.code === 'invalid_client') auth.logger.info({ requestId: request.id }, 'OAuth2 client authentication failed');
      sendError(response, error);
      return;
    }
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      sendError(response, new OAuthError(400, 'invalid_request', 'The request body could not be read'));
      return;
    }
    auth.logger.error({ err: error, requestId: request.id }, 'OAuth2 token request failed');
    if (isAppError(error) && error.retryable) {
      response.setHeader('Retry-After', String(error.retryAfterSeconds ?? 5));
      sendError(response, new OAuthError(503, 'temporarily_unavailable', 'Try again later'));
      return;
    }
    sendError(response, new OAuthError(500, 'server_error', 'Internal error'));
  };
}
