import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { AppError } from '../domain/errors.js';

const LOCAL_URL = 'redis://127.0.0.1:6379';

export interface RedisHandle {
  readonly url: string;
  stop(): Promise<void>;
}

/** True when something answers PING with PONG at host:port within the timeout. */
export function redisAnswers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ host, port });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.on('error', () => finish(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => finish(data.toString().startsWith('+PONG')));
  });
}

/**
 * REDIS_URL if given; else a Redis already answering on 127.0.0.1:6379; else a local redis-server from
 * PATH with its data under <dataDir>/redis (AOF on, noeviction: queues must never be evicted).
 */
export async function ensureRedis(options: { url: string | undefined; dataDir: string; autostart: boolean; logger: Logger }): Promise<RedisHandle> {
  if (options.url !== undefined) return { url: options.url, stop: () => Promise.resolve() };
  if (await redisAnswers('127.0.0.1', 6379)) return { url: LOCAL_URL, stop: () => Promise.resolve() };
  if (!options.autostart) throw noRedis('TETHER_AUTOSTART_REDIS is false');
  const dir = resolve(options.dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  let child: ChildProcess;
  try {
    child = await startRedisServer(dir);
  } catch (error) {
    throw noRedis((error as NodeJS.ErrnoException).code === 'ENOENT' ? 'redis-server is not on PATH' : String(error));
  }
  for (let attempt = 0; attempt < 50; attempt += 1) {
    if (await redisAnswers('127.0.0.1', 6379)) {
      options.logger.info({ dir }, 'started a local redis-server (AOF on) because no REDIS_URL was set');
      return {
        url: LOCAL_URL,
        async stop() {
          child.kill('SIGTERM');
          await new Promise((done) => child.once('exit', done));
        },
      };
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  child.kill('SIGKILL');
  throw noRedis('the local redis-server did not start within 5 s');
}

function startRedisServer(dir: string): Promise<ChildProcess> {
  return new Promise((done, fail) => {
    const child = spawn(
      'redis-server',
      ['--port', '6379', '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--maxmemory-policy', 'noeviction', '--save', ''],
      { stdio: 'ignore' },
    );
    child.once('error', fail);
    child.once('spawn', () => done(child));
  });
}

function noRedis(reason: string): AppError {
  return new AppError(
    'invalid_config',
    `Tether needs Redis and none is reachable (${reason}). Either set REDIS_URL (e.g. REDIS_URL=redis://127.0.0.1:6379), ` +
      'start one on 127.0.0.1:6379 (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis && brew services start redis), ' +
      'or run `docker compose up -d redis`.',
  );
}
