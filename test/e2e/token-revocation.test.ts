import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/http.js';
import { waitFor } from '../support/ports.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startPrivateRedis, type PrivateRedis } from '../support/redis.js';
import { CLI, startTether, writeConfig, type TetherProcess } from '../support/tether-process.js';

const run = promisify(execFile);

/**
 * Tokens verified by a running Tether are kept in memory (token-cache.ts); a revocation made by another
 * process — here the CLI, against the same database — must still stop them straight away.
 */
describe('token revocation reaches a running Tether', () => {
  let database: TestDatabase;
  let redis: PrivateRedis;
  let tether: TetherProcess;
  let configPath: string;
  const cli = (...args: string[]) => run(process.execPath, [CLI, ...args, '--config', configPath], {
    env: { PATH: process.env['PATH'] ?? '', DATABASE_URL: database.url, REDIS_URL: redis.url },
  });

  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
    redis = await startPrivateRedis();
    configPath = writeConfig('sources: [{ id: hr, kind: scim }]\n');
    tether = await startTether({ configPath, databaseUrl: database.url, redisUrl: redis.url, queuePrefix: `revoke${Date.now()}` });
  }, 60_000);
  afterAll(async () => {
    await tether?.stop();
    await redis?.stop();
    await database?.drop();
  });

  it('a SCIM token revoked with `tether tokens revoke` is refused by the server at once', async () => {
    const scim = () => call(`${tether.url}/scim/v2/Users?count=1`, 'GET', tether.scimToken);
    // Several requests, so the token is verified and held in memory by the time it is revoked.
    for (let index = 0; index < 5; index += 1) expect((await scim()).status).toBe(200);
    const listed = await cli('tokens', 'list', '--json');
    const tokens = JSON.parse(listed.stdout) as { id: string; kind: string; revokedAt: string | null }[];
    const scimToken = tokens.find((token) => token.kind === 'scim' && token.revokedAt === null);
    expect(scimToken).toBeDefined();
    await cli('tokens', 'revoke', scimToken!.id);
    const revokedAt = Date.now();
    const refused = await waitFor(async () => {
      const response = await scim();
      return response.status === 401 ? response : undefined;
    }, { timeoutMs: 1000, intervalMs: 5, what: 'the revoked token refused' });
    expect(refused.body).toMatchObject({ status: '401' });
    expect(Date.now() - revokedAt).toBeLessThan(1000);
    // The admin token, untouched, still works (the whole cache was dropped, not the verdicts).
    expect((await call(`${tether.url}/api/v1/status`, 'GET', tether.adminToken)).status).toBe(200);
  });
});
