import type { Logger } from 'pino';
import { issueAccessToken, type AccessTokenStore, type IssuedAccessToken } from '../../app/auth/access-tokens.js';
import { createCredentialVerifier, type CredentialVerifier } from '../../app/auth/credential-verifier.js';
import type { JwtCredential, OAuth2Credential, ScimCredential } from '../../app/auth/credentials.js';
import { createJwtVerifier, type VerifyJwt } from './jwt.js';

export const SCIM_REALM = 'tether-scim';

/** Everything SCIM authentication needs besides the database token lookup (built once at startup). */
export interface ScimAuth {
  readonly credentials: CredentialVerifier;
  /** Null when no jwt credential is configured. */
  readonly verifyJwt: VerifyJwt | null;
  readonly issueAccessToken: (credential: OAuth2Credential) => Promise<IssuedAccessToken>;
  readonly logger: Logger;
}

export interface ScimAuthOptions {
  readonly credentials: readonly ScimCredential[];
  readonly accessTokens: AccessTokenStore;
  readonly clock: () => Date;
  readonly logger: Logger;
  readonly jwksCacheMaxAgeMs?: number;
}

export function createScimAuth(options: ScimAuthOptions): ScimAuth {
  const jwtCredentials = options.credentials.filter((credential): credential is JwtCredential => credential.type === 'jwt');
  return {
    credentials: createCredentialVerifier(options.credentials),
    verifyJwt: createJwtVerifier(jwtCredentials, {
      clock: options.clock,
      logger: options.logger,
      ...(options.jwksCacheMaxAgeMs === undefined ? {} : { jwksCacheMaxAgeMs: options.jwksCacheMaxAgeMs }),
    }),
    issueAccessToken: (credential) => issueAccessToken(options.accessTokens, credential, options.clock()),
    logger: options.logger,
  };
}

/**
 * RFC 7235 challenges for a 401: Bearer always (database tokens, and config tokens, JWTs and OAuth2 access
 * tokens when configured), Basic when a basic credential exists. `invalid_token` (RFC 6750 §3.1) tells a
 * client that presented a bearer token that it was refused rather than missing.
 */
export function scimChallenge(credentials: CredentialVerifier, bearerPresented: boolean): string {
  const bearer = `Bearer realm="${SCIM_REALM}"${bearerPresented ? ', error="invalid_token"' : ''}`;
  return credentials.has('basic') ? `${bearer}, Basic realm="${SCIM_REALM}"` : bearer;
}
