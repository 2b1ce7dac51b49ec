import type { CacheItem, CacheProvider } from '@node-saml/node-saml';
import type { Redis } from 'ioredis';

/**
 * node-saml's request-id cache in Redis, so `validateInResponseTo: 'always'` holds across every Tether
 * instance: the instance that receives the IdP's POST need not be the one that sent the AuthnRequest.
 * Keys expire on their own, so an abandoned login leaves nothing behind.
 */
export function redisRequestCache(redis: Redis, prefix: string, ttlMs: number): CacheProvider {
  const key = (id: string) => `${prefix}:saml:request:${id}`;
  return {
    async saveAsync(id: string, value: string): Promise<CacheItem | null> {
      const stored = await redis.set(key(id), value, 'PX', ttlMs, 'NX');
      return stored === 'OK' ? { value, createdAt: Date.now() } : null;
    },
    async getAsync(id: string): Promise<string | null> {
      return redis.get(key(id));
    },
    async removeAsync(id: string | null): Promise<string | null> {
      if (id === null) return null;
      return redis.getdel(key(id));
    },
  };
}

/**
 * One-time use of each assertion id, claimed atomically (SET NX). node-saml reads and then deletes the
 * request id, so two copies of one response posted at the same instant could both pass that check; this
 * claim lets exactly one of them through. The key lives as long as the assertion could still be accepted.
 */
export function assertionReplayGuard(redis: Redis, prefix: string, ttlMs: number): (assertionId: string) => Promise<boolean> {
  return async (assertionId) => (await redis.set(`${prefix}:saml:assertion:${assertionId}`, '1', 'PX', ttlMs, 'NX')) === 'OK';
}
