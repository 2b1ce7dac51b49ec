/**
 * Verified tokens kept in memory, trusted only while the store's change notifications are known to
 * arrive. Every authenticated request otherwise costs a database round trip before any work starts (a
 * one-member group PATCH is about six round trips in all, so this one is a sixth of its database time).
 *
 * Revocation stays immediate in the sense that matters: the store announces every change to a token
 * (revoked, expiry or scope changed, deleted — by the API, the CLI or plain SQL) when the writing
 * transaction commits, and each process drops its whole cache on the announcement. While the
 * announcements cannot be trusted (not yet subscribed, connection lost and not yet back) nothing is
 * cached and every lookup reads the store. A lookup that was in flight while an announcement arrived is
 * not cached (it may have read the row before the change committed). Entries also age out after
 * `maxAgeMs`, and only tokens that exist are cached: unknown tokens always reach the store.
 *
 * What is cached is the stored record, not a verdict: expiry, revocation and the constant-time hash
 * comparison are still checked on every request by authenticateToken.
 */
import type { StoredToken, TokenStore } from './tokens.js';

export interface TokenCacheOptions {
  readonly maxEntries: number;
  readonly maxAgeMs: number;
  readonly nowMs?: () => number;
}

/** Fed by the store's change announcements (Db.listen). */
export interface TokenCacheControl {
  /** A token changed somewhere: forget everything (changes are rare; lookups are what is frequent). */
  invalidate(): void;
  /** Whether announcements can currently arrive; false empties the cache and stops caching. */
  setLive(live: boolean): void;
}

export function cacheTokenLookups<T extends TokenStore>(store: T, options: TokenCacheOptions): T & TokenCacheControl {
  const nowMs = options.nowMs ?? Date.now;
  const entries = new Map<string, { readonly token: StoredToken; readonly at: number }>();
  let live = false;
  // Bumped by every invalidation: a lookup started before one must not fill the cache after it.
  let generation = 0;
  const forget = () => {
    generation += 1;
    entries.clear();
  };
  return {
    ...store,
    async findTokenByHash(tokenHash: string): Promise<StoredToken | null> {
      if (live) {
        const entry = entries.get(tokenHash);
        if (entry !== undefined && nowMs() - entry.at < options.maxAgeMs) return entry.token;
      }
      const startedIn = generation;
      const token = await store.findTokenByHash(tokenHash);
      if (token !== null && live && startedIn === generation) {
        if (entries.size >= options.maxEntries) entries.clear();
        entries.set(tokenHash, { token, at: nowMs() });
      }
      return token;
    },
    invalidate: forget,
    setLive(next: boolean) {
      live = next;
      forget();
    },
  };
}
