import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticateToken, generateToken, hashToken } from '../../src/app/auth/tokens.js';
import { createStore, type Store } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

describe('API tokens on real PostgreSQL', () => {
  let database: TestDatabase;
  let store: Store;
  beforeAll(async () => {
    database = await createTestDatabase();
    store = createStore(database.db);
  });
  afterAll(async () => {
    await database.drop();
  });

  it('records last use at most once a minute, and the touch never fails the statement', async () => {
    const token = generateToken('admin');
    const id = crypto.randomUUID();
    const created = new Date('2026-01-01T10:00:00Z');
    await store.insertToken({ id, name: 't', kind: 'admin', role: 'admin', sourceId: null, expiresAt: null, tokenHash: hashToken(token) }, created);
    const lastUsed = async () => (await database.db.query<{ last_used_at: Date | null }>('select last_used_at from api_tokens where id = $1', [id])).rows[0]?.last_used_at ?? null;

    // Called directly, so an SQL error would surface here instead of being swallowed by authentication.
    await store.touchToken(id, new Date('2026-01-01T10:00:30Z'));
    expect(await lastUsed()).toEqual(new Date('2026-01-01T10:00:30Z'));
    await store.touchToken(id, new Date('2026-01-01T10:01:00Z'));
    expect(await lastUsed()).toEqual(new Date('2026-01-01T10:00:30Z'));
    await store.touchToken(id, new Date('2026-01-01T10:02:00Z'));
    expect(await lastUsed()).toEqual(new Date('2026-01-01T10:02:00Z'));

    const principal = await authenticateToken(store, token, new Date('2026-01-01T10:05:00Z'));
    expect(principal).toMatchObject({ tokenId: id, kind: 'admin', role: 'admin' });
    expect(await lastUsed()).toEqual(new Date('2026-01-01T10:05:00Z'));
  });
});
