import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

/** What the parent sends a load child (bench/scim/load.ts) on stdin. */
export interface LoadSpec {
  readonly label: string;
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  /** Each request goes to `${pathPrefix}${id}` for the next id in `ids`. */
  readonly pathPrefix: string;
  readonly ids: readonly string[];
  readonly headers: Record<string, string>;
  readonly connections: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  /** Starting point of the rotating counter, so successive runs write values never written before. */
  readonly offset: number;
  /** The attribute each PATCH replaces: `displayName` (no grant rule reads it) or `title` (one does). */
  readonly attribute?: 'displayName' | 'title';
}

/** What a load child prints on stdout. Latencies in ms, as autocannon measures them. */
export interface LoadResult {
  readonly reqPerSec: number;
  readonly completed: number;
  readonly durationSeconds: number;
  readonly p50: number;
  readonly p99: number;
  readonly meanLatency: number;
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly statusCodes: Record<string, number>;
}

export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** The request every server under test receives: one SCIM PatchOp replacing one string attribute. */
export function patchBody(value: string, attribute: 'displayName' | 'title' = 'displayName'): { schemas: string[]; Operations: { op: string; path: string; value: string }[] } {
  return { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: attribute, value }] };
}

/** Runs bench/scim/load.ts in a child process and returns its result. */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, 'load.ts')], { stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  child.stdin.end(JSON.stringify(spec));
  const code = await exited;
  if (code !== 0) throw new Error(`load generator for ${spec.label} exited with ${code}`);
  return JSON.parse(output.trim().split('\n').pop() ?? '') as LoadResult;
}

export interface BaselineServer {
  readonly origin: string;
  stop(): Promise<void>;
}

/** Starts bench/scim/baseline-server.ts (`bare` or `pg`) as a child process on the given port. */
export async function startBaseline(mode: 'bare' | 'pg', port: number, databaseUrl: string): Promise<BaselineServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, 'baseline-server.ts')], {
    env: { ...process.env, BASELINE_MODE: mode, PORT: String(port), DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  await new Promise<void>((ready, fail) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) ready();
    });
    child.once('exit', (code) => fail(new Error(`baseline ${mode} exited with ${code}`)));
  });
  return {
    origin: `http://127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
