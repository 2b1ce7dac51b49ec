import { createPublicKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { Logger } from 'pino';
import { credentialPrincipal, type JwtCredential } from '../../app/auth/credentials.js';
import type { Principal } from '../../app/auth/tokens.js';
import { AppError } from '../../domain/errors.js';

/** Verifies a presented JWT against the configured jwt credentials: the principal, or null. */
export type VerifyJwt = (token: string) => Promise<Principal | null>;

export interface JwtVerifierOptions {
  readonly clock: () => Date;
  readonly logger: Logger;
  /** How long a fetched JWKS is trusted before it is fetched again (jose also refetches for an unknown `kid`). */
  readonly jwksCacheMaxAgeMs?: number;
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Three base64url segments: worth trying as a JWT (an `alg: none` token has an empty third one). */
export function looksLikeJwt(token: string): boolean {
  return COMPACT_JWS.test(token);
}

interface Verifier {
  readonly credential: JwtCredential;
  readonly key: Uint8Array | KeyObject | JWTVerifyGetKey;
}

/**
 * The credential is chosen by the token's (unverified) `iss`; the signature, `exp` (required), `nbf`, `iss`
 * and `aud` are then checked by jose with the credential's clock tolerance and allowed algorithms only, so
 * `alg: none` and algorithm substitution (an RSA public key used as an HMAC secret) fail.
 */
export function createJwtVerifier(credentials: readonly JwtCredential[], options: JwtVerifierOptions): VerifyJwt | null {
  if (credentials.length === 0) return null;
  const verifiers: Verifier[] = credentials.map((credential) => ({ credential, key: verificationKey(credential, options) }));
  return async (token) => {
    const claims = unverifiedClaims(token);
    if (claims === null) return null;
    const candidates = verifiers.filter((verifier) => verifier.credential.issuer === claims.issuer);
    if (candidates.length === 0) options.logger.info({ reason: 'unknown issuer' }, 'JWT rejected');
    for (const { credential, key } of candidates) {
      try {
        await jwtVerify(token, key, {
          issuer: credential.issuer,
          audience: credential.audience,
          algorithms: [...credential.algorithms],
          clockTolerance: credential.clockToleranceSeconds,
          requiredClaims: ['exp'],
          currentDate: options.clock(),
        });
        return credentialPrincipal(credential);
      } catch (error) {
        if (credential.key.kind === 'jwks' && keySetUnavailable(error)) {
          options.logger.warn({ credential: credential.id, reason: reasonOf(error) }, 'JWKS unavailable');
          throw new AppError('unavailable', 'JWKS unavailable', { detail: 'The key set to verify this token is unavailable; retry later', retryAfterSeconds: 30 });
        }
        options.logger.info({ credential: credential.id, reason: reasonOf(error) }, 'JWT rejected');
      }
    }
    return null;
  };
}

function unverifiedClaims(token: string): { issuer: string } | null {
  if (!looksLikeJwt(token)) return null;
  try {
    const algorithm = decodeProtectedHeader(token).alg;
    const issuer = decodeJwt(token).iss;
    if (typeof algorithm !== 'string' || algorithm.toLowerCase() === 'none' || typeof issuer !== 'string') return null;
    return { issuer };
  } catch {
    return null;
  }
}

function verificationKey(credential: JwtCredential, options: JwtVerifierOptions): Verifier['key'] {
  switch (credential.key.kind) {
    case 'secret':
      return new TextEncoder().encode(credential.key.secret.reveal());
    case 'publicKey':
      return createPublicKey({ key: credential.key.pem.reveal(), format: 'pem' });
    case 'jwks':
      return createRemoteJWKSet(new URL(credential.key.url), {
        cacheMaxAge: options.jwksCacheMaxAgeMs ?? 600_000,
        cooldownDuration: 30_000,
        timeoutDuration: 5_000,
      });
  }
}

/** A key set that cannot be fetched or read is an outage (retryable), not a bad token. */
function keySetUnavailable(error: unknown): boolean {
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return true;
  if (!(error instanceof errors.JOSEError)) return true;
  return error.code === 'ERR_JOSE_GENERIC';
}

/** Why a token failed, for logs: the jose code and the claim at fault, never the token or its claims' values. */
function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTClaimValidationFailed) return `${error.code} (${error.claim}: ${error.reason})`;
  if (error instanceof errors.JOSEError) return error.code;
  return error instanceof Error ? error.name : 'error';
}
