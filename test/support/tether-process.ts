import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, waitFor } from './ports.js';

const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist/src/cli/main.js');

export interface TetherProcess {
  /** For measuring the process from outside (benchmarks read /proc/<pid>). */
  readonly pid: number;
  readonly url: string;
  readonly adminToken: string;
  readonly scimToken: string;
  readonly output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Writes a tether.yaml into a fresh temp dir and returns its path. */
export function writeConfig(yaml: string, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'tether-e2e-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  const path = join(dir, 'tether.yaml');
  writeFileSync(path, yaml);
  return path;
}

/** Starts the built `tether` CLI as a real child process and waits until /readyz says ready. */
export async function startTether(options: {
  command?: 'start' | 'serve' | 'worker';
  configPath: string;
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  env?: Record<string, string>;
  /** How long to wait for /readyz (default 30 s; a benchmark on a loaded machine may need more). */
  readyTimeoutMs?: number;
}): Promise<TetherProcess> {
  const port = await freePort();
  const adminToken = `tth_admin_e2e_${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  const scimToken = `tth_scim_e2e_${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  const child: ChildProcess = spawn(process.execPath, [CLI, options.command ?? 'start', '--config', options.configPath], {
    cwd: ROOT,
    env: {
      PATH: process.env['PATH'] ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: options.databaseUrl,
      REDIS_URL: options.redisUrl,
      TETHER_QUEUE_PREFIX: options.queuePrefix,
      TETHER_BOOTSTRAP_ADMIN_TOKEN: adminToken,
      TETHER_BOOTSTRAP_SCIM_TOKEN: scimToken,
      TETHER_DATA_DIR: mkdtempSync(join(tmpdir(), 'tether-data-')),
      LOG_LEVEL: 'info',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const url = `http://127.0.0.1:${port}`;
  if (options.command !== 'worker') {
    try {
      await waitFor(
        async () => {
          if (child.exitCode !== null) throw new Error(`tether exited with ${child.exitCode}:\n${output}`);
          const response = await fetch(`${url}/readyz`);
          return response.status === 200;
        },
        { timeoutMs: options.readyTimeoutMs ?? 30_000, intervalMs: 100, what: `tether readiness\n${output}` },
      );
    } catch (error) {
      // A process that never became ready must not outlive the test (it would load the machine for good).
      child.kill('SIGKILL');
      throw error;
    }
  }
  if (child.pid === undefined) throw new Error(`tether did not start:\n${output}`);
  return {
    pid: child.pid,
    url,
    adminToken,
    scimToken,
    output: () => output,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}
