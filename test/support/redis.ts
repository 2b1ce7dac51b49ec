import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { redisAnswers } from '../../src/main/redis.js';
import { freePort, waitFor } from './ports.js';

/** Default shared Redis for integration tests; each test file uses its own key prefix. */
export const SHARED_REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

export function uniquePrefix(label: string): string {
  return `tether-test-${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Deletes every key under the prefix (BullMQ keys are `<prefix>:<queue>:...`). */
export async function deletePrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export interface PrivateRedis {
  readonly url: string;
  flushAll(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A throwaway redis-server on a free loopback port, for tests that must FLUSHALL or restart Redis
 * without touching anyone else's data.
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  await waitFor(() => redisAnswers('127.0.0.1', port, 200), { timeoutMs: 10_000, intervalMs: 50, what: 'private redis-server' });
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  return {
    url,
    async flushAll() {
      await client.flushall();
    },
    async stop() {
      client.disconnect();
      child.kill('SIGTERM');
      await new Promise((done) => child.once('exit', done));
    },
  };
}
