import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheTokenLookups } from '../../src/app/auth/token-cache.js';
import { authenticateToken, coalesceLookups, generateToken, hashToken } from '../../src/app/auth/tokens.js';
import { watchTokenChanges } from '../../src/main/token-watch.js';
import { createPgDb } from '../../src/store/db-factory.js';
import type { Db } from '../../src/store/db.js';
import { createStore } from '../../src/store/index.js';
import { TOKEN_CHANGES_CHANNEL } from '../../src/store/token-ops.js';
import { STORE_ENGINES } from '../support/engines.js';
import { waitFor } from '../support/ports.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const quiet = { info() {}, warn() {}, error() {} };
const NOW = new Date('2026-03-01T10:00:00Z');

async function newToken(db: Db): Promise<{ id: string; token: string }> {
  const token = generateToken('scim');
  const id = crypto.randomUUID();
  await db.query(`insert into sources (id, kind, display_name) values ('hr', 'scim', 'HR') on conflict do nothing`);
  await createStore(db).insertToken({ id, name: 'idp', kind: 'scim', role: null, sourceId: 'hr', expiresAt: null, tokenHash: hashToken(token) }, NOW);
  return { id, token };
}

describe.each(STORE_ENGINES)('token change announcements on %s', (_engine, open) => {
  let db: Db;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ db, cleanup } = await open());
  });
  afterAll(async () => {
    await cleanup();
  });

  it('announce revocations and deletions with the token id, and never a last-use touch', async () => {
    const messages: string[] = [];
    const states: boolean[] = [];
    const subscription = await db.listen(TOKEN_CHANGES_CHANNEL, { message: (id) => messages.push(id), state: (live) => states.push(live) });
    try {
      await waitFor(async () => states.at(-1) === true, { what: 'subscription live' });
      const { id } = await newToken(db);
      await createStore(db).touchToken(id, new Date(NOW.getTime() + 120_000));
      await createStore(db).revokeToken(id, NOW);
      await waitFor(async () => messages.includes(id), { what: 'revocation announced' });
      expect(messages).toEqual([id]); // the insert and the touch announced nothing
      await db.query('delete from api_tokens where id = $1', [id]);
      await waitFor(async () => messages.length === 2, { what: 'deletion announced' });
      expect(messages).toEqual([id, id]);
    } finally {
      await subscription.close();
    }
  });

  it('a cached token is refused as soon as its revocation is announced', async () => {
    const store = createStore(db);
    let reads = 0;
    const counted = { ...store, findTokenByHash: (hash: string) => { reads += 1; return store.findTokenByHash(hash); } };
    const cache = cacheTokenLookups(counted, { maxEntries: 100, maxAgeMs: 60_000 });
    const watch = watchTokenChanges(db, cache, quiet);
    const { id, token } = await newToken(db);
    try {
      watch.ensureStarted();
      const authenticate = () => authenticateToken(coalesceLookups(cache), token, NOW);
      expect(await authenticate()).toMatchObject({ tokenId: id });
      // Once the announcements are live, a repeated lookup is served from memory (no store read).
      await waitFor(async () => {
        const before = reads;
        await authenticate();
        return reads === before;
      }, { what: 'token cached' });
      await createStore(db).revokeToken(id, NOW);
      await waitFor(async () => (await authenticate()) === null, { timeoutMs: 2000, what: 'revoked token refused' });
    } finally {
      await watch.close();
    }
  });
});

describe('token change announcements on PostgreSQL, across connections', () => {
  let database: TestDatabase;
  let other: Db;
  beforeAll(async () => {
    database = await createTestDatabase();
    other = createPgDb({ connectionString: database.url, maxConnections: 2 });
  });
  afterAll(async () => {
    await other.close();
    await database.drop();
  });

  it('a revocation by another process (the CLI) is refused at once by the serving process', async () => {
    const cache = cacheTokenLookups(createStore(database.db), { maxEntries: 100, maxAgeMs: 60_000 });
    const watch = watchTokenChanges(database.db, cache, quiet);
    const { id, token } = await newToken(database.db);
    try {
      watch.ensureStarted();
      const authenticate = () => authenticateToken(cache, token, NOW);
      expect(await authenticate()).toMatchObject({ tokenId: id });
      await waitFor(async () => {
        const listeners = await database.db.query<{ n: number }>(`select count(*)::int as n from pg_stat_activity where application_name = 'tether-listen' and datname = current_database()`);
        return listeners.rows[0]!.n === 1;
      }, { what: 'listener connected' });
      await createStore(other).revokeToken(id, NOW);
      const refusedAt = Date.now();
      await waitFor(async () => (await authenticate()) === null, { timeoutMs: 2000, intervalMs: 1, what: 'revoked token refused' });
      expect(Date.now() - refusedAt).toBeLessThan(1000);
    } finally {
      await watch.close();
    }
  });

  it('while the listening connection is down nothing is served from memory, and it comes back by itself', async () => {
    const states: boolean[] = [];
    const cache = cacheTokenLookups(createStore(database.db), { maxEntries: 100, maxAgeMs: 60_000 });
    const subscription = await database.db.listen(TOKEN_CHANGES_CHANNEL, {
      message: () => cache.invalidate(),
      state: (live) => {
        states.push(live);
        cache.setLive(live);
      },
    });
    const { id, token } = await newToken(database.db);
    try {
      await waitFor(async () => states.at(-1) === true, { what: 'subscription live' });
      expect(await authenticateToken(cache, token, NOW)).toMatchObject({ tokenId: id });
      // Kill the listening backend: the loss is reported, the cache forgets, and a revocation made while no
      // announcement can arrive is still seen, because every lookup now reads the store.
      await other.query(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'tether-listen' and datname = current_database()`);
      await waitFor(async () => states.includes(false), { what: 'loss reported' });
      await createStore(other).revokeToken(id, NOW);
      expect(await authenticateToken(cache, token, NOW)).toBeNull();
      await waitFor(async () => states.at(-1) === true, { timeoutMs: 5000, what: 'subscription back' });
    } finally {
      await subscription.close();
    }
  });
});
