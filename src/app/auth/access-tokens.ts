import { randomBytes, randomUUID } from 'node:crypto';
import type { OAuth2Credential } from './credentials.js';
import { hashToken } from './tokens.js';

/** Storage of Tether-issued OAuth2 access tokens (the `api_tokens` table, by hash, bound to a credential). */
export interface AccessTokenStore {
  insertAccessToken(token: { id: string; credentialId: string; tokenHash: string; expiresAt: Date }, now: Date): Promise<void>;
  deleteExpiredAccessTokens(now: Date): Promise<number>;
}

export interface IssuedAccessToken {
  readonly accessToken: string;
  readonly expiresIn: number;
}

/**
 * OAuth2 client-credentials grant (RFC 6749 §4.4): a random opaque token whose SHA-256 hash is committed
 * with its expiry, so every replica accepts it and a restart loses nothing. Expired tokens are purged
 * as new ones are issued.
 */
export async function issueAccessToken(store: AccessTokenStore, credential: OAuth2Credential, now: Date): Promise<IssuedAccessToken> {
  const accessToken = `tth_oauth_${randomBytes(32).toString('base64url')}`;
  const expiresAt = new Date(now.getTime() + credential.tokenLifetimeSeconds * 1000);
  await store.insertAccessToken({ id: randomUUID(), credentialId: credential.id, tokenHash: hashToken(accessToken), expiresAt }, now);
  await store.deleteExpiredAccessTokens(now);
  return { accessToken, expiresIn: credential.tokenLifetimeSeconds };
}
