import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startPrivateRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';
import { startTether, writeConfig, type TetherProcess } from '../support/tether-process.js';

const ROOT = resolve(import.meta.dirname, '../..');
/** Microsoft's published Entra ID SCIM validation collection (see test/fixtures/conformance/README.md). */
const COLLECTION = resolve(ROOT, 'test/fixtures/conformance/entra-scim-postman-collection.json');
const NEWMAN = join(ROOT, 'node_modules/.bin/newman');
/** Every folder but "Get Token", which needs Microsoft's own token endpoint. */
const FOLDERS = [
  'Endpoint tests', 'User tests', 'Group tests', 'ComplexAttribute tests',
  'User tests with garbage', 'Group tests with garbage', 'Teardown garbage',
];

interface NewmanFailure {
  readonly error: { readonly name: string; readonly message: string; readonly test?: string };
  readonly source?: { readonly name?: string };
}

interface NewmanReport {
  readonly run: {
    readonly stats: { readonly assertions: { readonly total: number; readonly failed: number }; readonly requests: { readonly total: number; readonly failed: number } };
    readonly failures: readonly NewmanFailure[];
  };
}

/** Runs newman as its own process against Tether over real HTTP and returns its JSON report. */
async function runNewman(tether: TetherProcess): Promise<NewmanReport> {
  const reportPath = join(mkdtempSync(join(tmpdir(), 'tether-newman-')), 'report.json');
  const url = new URL(tether.url);
  const args = [
    'run', COLLECTION,
    ...FOLDERS.flatMap((folder) => ['--folder', folder]),
    '--env-var', 'Protocol=http', '--env-var', `Server=${url.hostname}`, '--env-var', `Port=:${url.port}`,
    '--env-var', 'Api=scim/v2', '--env-var', `token=${tether.scimToken}`,
    '--reporters', 'cli,json', '--reporter-json-export', reportPath, '--disable-unicode', '--color', 'off',
  ];
  const output = await new Promise<string>((done) => {
    execFile(NEWMAN, args, { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 }, (_error, stdout, stderr) => done(`${stdout}${stderr}`));
  });
  try {
    return JSON.parse(readFileSync(reportPath, 'utf8')) as NewmanReport;
  } catch {
    throw new Error(`newman produced no report:\n${output}`);
  }
}

describe('Microsoft Entra ID SCIM validation collection (newman)', () => {
  let database: TestDatabase;
  let redis: PrivateRedis;
  let tether: TetherProcess;

  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
    redis = await startPrivateRedis();
    const configPath = writeConfig(`
sources: [{ id: entra, kind: scim }]
tools: [{ id: crm.read, system: crm, risk: read }]
grantRules: []
targets: []
`);
    tether = await startTether({ configPath, databaseUrl: database.url, redisUrl: redis.url, queuePrefix: uniquePrefix('newman'), env: { LOG_LEVEL: 'warn' } });
  }, 60_000);

  afterAll(async () => {
    await tether?.stop();
    await redis?.stop();
    await database?.drop();
  });

  it('passes every assertion of every folder but "Get Token"', async () => {
    const report = await runNewman(tether);
    const failures = report.run.failures.map((failure) => `${failure.source?.name ?? '?'}: ${failure.error.test ?? failure.error.name}: ${failure.error.message}`);
    expect(failures).toEqual([]);
    expect(report.run.stats.requests.total).toBeGreaterThan(50);
    expect(report.run.stats.assertions.total).toBeGreaterThan(50);
    expect(report.run.stats.assertions.failed).toBe(0);
  }, 180_000);
});
