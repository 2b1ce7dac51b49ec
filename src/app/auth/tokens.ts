import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { singleFlight } from '../single-flight.js';

export type Role = 'viewer' | 'operator' | 'admin';
const ROLE_RANK: Readonly<Record<Role, number>> = { viewer: 0, operator: 1, admin: 2 };

export function roleAtLeast(role: Role, required: Role): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[required];
}

export interface Principal {
  /** Stable id of the credential for audit (`actor`): a database token id, or `scim_cred:<id>` for a tether.yaml `scimAuth` credential. */
  readonly tokenId: string;
  readonly kind: 'admin' | 'scim';
  readonly role: Role | null;
  /** The source a SCIM request without a `{baseEntity}` in its URL writes to; null when none is implied. */
  readonly sourceId: string | null;
  /** Sources this credential may read and write; null means every configured source. */
  readonly sourceIds: readonly string[] | null;
  /** A read-only SCIM credential may GET and search but never write. */
  readonly readOnly: boolean;
}

export interface StoredToken {
  readonly id: string;
  readonly kind: 'admin' | 'scim';
  readonly role: Role | null;
  readonly sourceId: string | null;
  readonly expiresAt: Date | null;
  readonly revokedAt: Date | null;
  readonly tokenHash: string;
  /** Set on OAuth2 access tokens Tether issued to a configured `scimAuth` credential. */
  readonly credentialId: string | null;
}

export interface TokenStore {
  findTokenByHash(tokenHash: string): Promise<StoredToken | null>;
  touchToken(id: string, now: Date): Promise<void>;
}

/**
 * Tokens are 256-bit random secrets; a fast hash is enough at rest (no dictionary to attack). The one-shot
 * `crypto.hash` runs on every authenticated request and costs half of a Hash object's create-update-digest.
 */
export function hashToken(token: string): string {
  return hash('sha256', token, 'hex');
}

/** `tth_<kind>_<43 base64url chars>`: the prefix lets secret scanners and humans recognise a Tether token. */
export function generateToken(kind: 'admin' | 'scim'): string {
  return `tth_${kind}_${randomBytes(32).toString('base64url')}`;
}

/**
 * Resolves a presented bearer token to a principal. The lookup is by hash; the final comparison is
 * constant-time, and expired or revoked tokens are refused exactly like unknown ones. An issued OAuth2
 * access token takes the scope its credential has in the running config (`resolveCredential`), so the
 * tokens of a credential removed from tether.yaml stop working when Tether restarts without it.
 */
export async function authenticateToken(
  store: TokenStore,
  presented: string,
  now: Date,
  resolveCredential: (credentialId: string) => Principal | null = () => null,
): Promise<Principal | null> {
  if (presented.length < 16 || presented.length > 512) return null;
  const presentedHash = hashToken(presented);
  const stored = await store.findTokenByHash(presentedHash);
  if (stored === null) return null;
  const matches = timingSafeEqual(Buffer.from(stored.tokenHash, 'hex'), Buffer.from(presentedHash, 'hex'));
  if (!matches || stored.revokedAt !== null) return null;
  if (stored.expiresAt !== null && stored.expiresAt.getTime() <= now.getTime()) return null;
  if (stored.credentialId !== null) return resolveCredential(stored.credentialId);
  await store.touchToken(stored.id, now).catch(() => undefined);
  return {
    tokenId: stored.id,
    kind: stored.kind,
    role: stored.role,
    sourceId: stored.sourceId,
    sourceIds: stored.sourceId === null ? null : [stored.sourceId],
    readOnly: false,
  };
}

/**
 * Wraps a token store so concurrent lookups of the same token hash share one query (see single-flight.ts).
 * The shared record is checked by each caller as usual: expiry against its own clock, constant-time compare.
 */
export function coalesceLookups<T extends TokenStore>(store: T): T {
  return { ...store, findTokenByHash: singleFlight((hash: string) => store.findTokenByHash(hash), (hash) => hash) };
}

/**
 * Wraps a token store so `touchToken` reaches the database at most once per interval per token from this
 * process: last use is coarse bookkeeping, and a write statement on every authenticated request would cost
 * a database round trip each time.
 */
export function throttleTouches<T extends TokenStore>(store: T, intervalMs: number, nowMs: () => number = Date.now): T {
  const lastTouch = new Map<string, number>();
  return {
    ...store,
    async touchToken(id: string, now: Date): Promise<void> {
      const previous = lastTouch.get(id);
      if (previous !== undefined && nowMs() - previous < intervalMs) return;
      lastTouch.set(id, nowMs());
      if (lastTouch.size > 10_000) lastTouch.clear();
      await store.touchToken(id, now);
    },
  };
}
