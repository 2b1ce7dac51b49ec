import { describe, expect, it } from 'vitest';
import { cacheTokenLookups } from '../../../src/app/auth/token-cache.js';
import type { StoredToken, TokenStore } from '../../../src/app/auth/tokens.js';

const TOKEN: StoredToken = { id: 't1', kind: 'scim', role: null, sourceId: 'hr', expiresAt: null, revokedAt: null, tokenHash: 'aa', credentialId: null };

/** A token store that counts reads and can hold a read open until released. */
function countingStore(rows: Map<string, StoredToken>) {
  let reads = 0;
  let gate: Promise<void> | null = null;
  const store: TokenStore & { reads(): number; hold(): () => void } = {
    async findTokenByHash(hash) {
      reads += 1;
      const snapshot = rows.get(hash) ?? null;
      if (gate !== null) await gate;
      return snapshot;
    },
    async touchToken() {},
    reads: () => reads,
    hold() {
      let release = () => {};
      gate = new Promise((done) => (release = done));
      return () => {
        gate = null;
        release();
      };
    },
  };
  return store;
}

describe('token cache', () => {
  it('caches nothing until the change announcements are live, and nothing once they are lost', async () => {
    const store = countingStore(new Map([['aa', TOKEN]]));
    const cache = cacheTokenLookups(store, { maxEntries: 10, maxAgeMs: 60_000 });
    await cache.findTokenByHash('aa');
    await cache.findTokenByHash('aa');
    expect(store.reads()).toBe(2);
    cache.setLive(true);
    await cache.findTokenByHash('aa');
    await cache.findTokenByHash('aa');
    expect(store.reads()).toBe(3);
    cache.setLive(false);
    await cache.findTokenByHash('aa');
    expect(store.reads()).toBe(4);
    // Back live: what was cached before the loss is gone (announcements may have been missed meanwhile).
    cache.setLive(true);
    await cache.findTokenByHash('aa');
    expect(store.reads()).toBe(5);
  });

  it('an announcement empties the cache: a revoked token is read again and refused by the caller', async () => {
    const rows = new Map([['aa', TOKEN]]);
    const store = countingStore(rows);
    const cache = cacheTokenLookups(store, { maxEntries: 10, maxAgeMs: 60_000 });
    cache.setLive(true);
    expect((await cache.findTokenByHash('aa'))?.revokedAt).toBeNull();
    rows.set('aa', { ...TOKEN, revokedAt: new Date() });
    expect((await cache.findTokenByHash('aa'))?.revokedAt).toBeNull(); // served from memory: no announcement yet
    cache.invalidate();
    expect((await cache.findTokenByHash('aa'))?.revokedAt).not.toBeNull();
  });

  it('a lookup in flight when an announcement arrives is not cached', async () => {
    const rows = new Map([['aa', TOKEN]]);
    const store = countingStore(rows);
    const cache = cacheTokenLookups(store, { maxEntries: 10, maxAgeMs: 60_000 });
    cache.setLive(true);
    const release = store.hold();
    const racing = cache.findTokenByHash('aa'); // read the row before the revocation below committed
    rows.set('aa', { ...TOKEN, revokedAt: new Date() });
    cache.invalidate();
    release();
    expect((await racing)?.revokedAt).toBeNull();
    expect((await cache.findTokenByHash('aa'))?.revokedAt).not.toBeNull();
    expect(store.reads()).toBe(2);
  });

  it('unknown tokens always reach the store; entries age out; the cache is bounded', async () => {
    let now = 0;
    const store = countingStore(new Map([['aa', TOKEN], ['bb', { ...TOKEN, id: 't2', tokenHash: 'bb' }]]));
    const cache = cacheTokenLookups(store, { maxEntries: 1, maxAgeMs: 1000, nowMs: () => now });
    cache.setLive(true);
    expect(await cache.findTokenByHash('zz')).toBeNull();
    expect(await cache.findTokenByHash('zz')).toBeNull();
    expect(store.reads()).toBe(2);
    await cache.findTokenByHash('aa');
    await cache.findTokenByHash('aa');
    expect(store.reads()).toBe(3);
    now = 1000;
    await cache.findTokenByHash('aa');
    expect(store.reads()).toBe(4);
    await cache.findTokenByHash('bb'); // evicts: at most one entry
    await cache.findTokenByHash('bb');
    await cache.findTokenByHash('aa');
    expect(store.reads()).toBe(6);
  });
});
