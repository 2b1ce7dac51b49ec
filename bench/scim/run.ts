/**
 * bench/scim: sustained SCIM PATCH throughput with durable commits, beside two baselines measured in the
 * same run on the same machine, and one-member PATCHes on a 100,000-member group.
 *
 *   npm run build && npm run bench:scim
 *
 * Env: BENCH_DURATION (s per throughput run, default 10), BENCH_WARMUP (s, default 3), BENCH_CONNECTIONS
 * (default 50), BENCH_USERS (default 2000), BENCH_GROUP_MEMBERS (default 100000), BENCH_GROUP_PATCHES
 * (default 200), BENCH_PROFILE (a directory: Tether then writes a V8 CPU profile and a per-statement pg trace
 * there on exit — it slows Tether down, so figures from a profiled run are not the ones to record).
 * Needs PostgreSQL (TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/postgres) and redis-server on
 * PATH. Prints the figures and rewrites the scim section of docs/benchmarks.md.
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '../../test/support/postgres.js';
import { call } from '../../test/support/http.js';
import { freePort, waitFor } from '../../test/support/ports.js';
import { startPrivateRedis } from '../../test/support/redis.js';
import { startTether, writeConfig } from '../../test/support/tether-process.js';
import { percentile, recordBenchmark, type BenchmarkRow } from '../report.js';
import { measureGroupPatches, seedLargeGroup } from './group.js';
import { runLoad, startBaseline, type LoadResult, type LoadSpec } from './protocol.js';
import { statsDelta, tableStats } from './stats.js';

const DURATION = Number(process.env['BENCH_DURATION'] ?? 10);
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 3);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 50);
const USERS = Number(process.env['BENCH_USERS'] ?? 2000);
const GROUP_MEMBERS = Number(process.env['BENCH_GROUP_MEMBERS'] ?? 100_000);
const GROUP_PATCHES = Number(process.env['BENCH_GROUP_PATCHES'] ?? 200);
const PROFILE = process.env['BENCH_PROFILE'];

/** Runs `work` over `items` with at most `limit` in flight. */
async function inParallel<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  }));
  return results;
}

/** Node refuses --cpu-prof in NODE_OPTIONS, so the profiler and the pg trace are preloaded modules. */
function profilingEnv(directory: string): Record<string, string> {
  const here = import.meta.dirname;
  return {
    NODE_OPTIONS: `--import tsx --import ${join(here, 'cpu-profile.ts')} --import ${join(here, 'pg-trace.ts')}`,
    BENCH_CPU_PROF: directory,
    BENCH_PG_TRACE: join(directory, 'pg-trace.json'),
  };
}

function printLoad(label: string, result: LoadResult): void {
  console.log(`${label.padEnd(58)} ${result.reqPerSec.toFixed(0).padStart(6)} req/s   p50 ${result.p50.toFixed(1).padStart(7)} ms   p99 ${result.p99.toFixed(1).padStart(7)} ms   (${result.ok} 2xx, ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts)`);
}

function requireAllOk(label: string, result: LoadResult): void {
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0 || result.ok === 0) {
    throw new Error(`${label}: ${result.non2xx} non-2xx (${JSON.stringify(result.statusCodes)}), ${result.errors} errors, ${result.timeouts} timeouts — the figures are void`);
  }
}

async function main(): Promise<void> {
  const database = await createTestDatabase({ migrate: false });
  const redis = await startPrivateRedis();
  const configPath = writeConfig(`
sources: [{ id: bench, kind: scim }]
tools:
  - { id: crm.contacts.read, system: crm, risk: read }
  - { id: crm.contacts.write, system: crm, risk: write }
grantRules:
  - { id: sales, when: [{ group: Sales }], tools: ["crm.*"] }
  - { id: staff, when: [{ group: All staff }], tools: [crm.contacts.read] }
  - { id: engineers, when: [{ attribute: title, in: [Engineer] }], tools: [crm.contacts.read] }
`);
  const tether = await startTether({
    configPath, databaseUrl: database.url, redisUrl: redis.url, queuePrefix: 'bench',
    env: { LOG_LEVEL: 'warn', ...(PROFILE === undefined ? {} : profilingEnv(PROFILE)) },
    // Loading through tsx (profiling) on a busy two-core machine can take longer than the default 30 s.
    readyTimeoutMs: 120_000,
  });
  /** With BENCH_PROFILE: closes Tether's current CPU profile and starts the next (see cpu-profile.ts). */
  const nextProfile = (phase: string) => {
    if (PROFILE === undefined) return;
    process.kill(tether.pid, 'SIGUSR2');
    console.log(`  (CPU profile part for: ${phase})`);
  };
  const scim = (method: string, path: string, body?: unknown) => call(`${tether.url}/scim/v2${path}`, method, tether.scimToken, body);
  const api = (method: string, path: string, body?: unknown) => call(`${tether.url}/api/v1${path}`, method, tether.adminToken, body);
  try {
    // Every patched user sponsors one agent, so each PATCH commits mirror + change event + audit + outbox
    // row and enqueues a recompute: the full write path, not the short one for people nobody depends on.
    console.log(`seeding ${USERS} users and ${USERS} agents through SCIM and the admin API...`);
    const users = await inParallel(Array.from({ length: USERS }, (_, index) => index), 16, async (index) => {
      const created = await scim('POST', '/Users', { userName: `user${index}@example.com`, displayName: `User ${index}`, title: 'Engineer' });
      if (created.status !== 201) throw new Error(`POST /Users answered ${created.status}: ${JSON.stringify(created.body)}`);
      return created.body.id as string;
    });
    await inParallel(users, 16, async (userId) => {
      const agent = await api('POST', '/agents', {
        name: `bot-${userId.slice(0, 8)}`, purpose: 'benchmark', environment: 'production', sponsor: { id: userId },
        requestedTools: ['crm.contacts.read'], delegation: { approver: 'bench', justification: 'bench' },
      });
      if (agent.status !== 201) throw new Error(`POST /agents answered ${agent.status}: ${JSON.stringify(agent.body)}`);
    });
    await database.db.exec('create table bench_users (id text primary key, display_name text, version integer not null default 1)');
    await database.db.query('insert into bench_users (id, display_name) select unnest($1::text[]), \'seed\'', [users]);
    await database.db.exec('vacuum analyze bench_users');
    await waitFor(async () => (await database.db.query<{ n: number }>('select count(*)::int as n from outbox where done_at is null')).rows[0]?.n === 0, { timeoutMs: 120_000, what: 'seed recomputes' });

    const spec = (label: string, origin: string, offset: number, attribute: 'displayName' | 'title' = 'displayName'): LoadSpec => ({
      label, origin, pathPrefix: '/scim/v2/Users/', ids: users, connections: CONNECTIONS, durationSeconds: DURATION, warmupSeconds: WARMUP, offset, attribute,
      headers: { authorization: `Bearer ${tether.scimToken}`, 'content-type': 'application/scim+json' },
    });
    const bare = await startBaseline('bare', await freePort(), database.url);
    const bareResult = await runLoad(spec('bare', bare.origin, 0)).finally(() => bare.stop());
    printLoad('bare express 5 (parse PatchOp, no database)', bareResult);
    const withPg = await startBaseline('pg', await freePort(), database.url);
    const pgResult = await runLoad(spec('pg', withPg.origin, 0)).finally(() => withPg.stop());
    printLoad('express 5 + one durable UPDATE (pg Pool max 10)', pgResult);

    const before = await tableStats(database.db);
    nextProfile('title load');
    // `title` is read by a grant rule (see the config above): every PATCH changes the sponsor's facts and
    // triggers a recompute of the sponsor's agent — the worst case.
    const tetherResult = await runLoad(spec('tether', tether.url, 0, 'title'));
    printLoad('Tether SCIM PATCH /Users/{id} replacing title (full write path + recompute)', tetherResult);
    const pendingAtEnd = (await database.db.query<{ n: number }>('select count(*)::int as n from outbox where done_at is null')).rows[0]?.n ?? 0;
    await waitFor(async () => (await database.db.query<{ n: number }>('select count(*)::int as n from outbox where done_at is null')).rows[0]?.n === 0, { timeoutMs: 300_000, intervalMs: 200, what: 'recompute backlog' });
    await new Promise((done) => setTimeout(done, 1500)); // PostgreSQL flushes backend statistics at most once a second
    const delta = statsDelta(before, await tableStats(database.db));
    // Warm-up requests reach Tether too: divide by every PATCH that produced a change event.
    const patches = delta.changeEvents;
    const perRequest = (value: number) => (value / patches).toFixed(2);
    console.log(`  per Tether PATCH, including the recompute it triggers (${patches} change events, ${pendingAtEnd} outbox rows pending when the load stopped):`);
    console.log(`    transactions committed (autocommit statements count as one) ${perRequest(delta.xactCommit)}, rolled back ${perRequest(delta.xactRollback)}, new PostgreSQL connections ${perRequest(delta.sessions)}`);
    console.log(`    rows inserted ${perRequest(delta.inserted)}, updated ${perRequest(delta.updated)}, index scans ${perRequest(delta.indexScans)}, seq scans ${perRequest(delta.seqScans)}`);
    console.log(`    by table (inserted/updated/seq scans): ${delta.byTable.map((table) => `${table.name} ${perRequest(table.inserted)}/${perRequest(table.updated)}/${perRequest(table.seqScans)}`).join(', ')}`);
    // `displayName` is read by no grant rule: committed like any change, but no entitlement can move, so no
    // recompute (the common case of IdP traffic: profile updates).
    nextProfile('displayName load');
    const profileResult = await runLoad(spec('tether-profile', tether.url, 1_000_000, 'displayName'));
    printLoad('Tether SCIM PATCH /Users/{id} replacing displayName (committed, no recompute needed)', profileResult);
    for (const [label, result] of [['bare', bareResult], ['pg', pgResult], ['tether', tetherResult], ['tether-profile', profileResult]] as const) requireAllOk(label, result);

    nextProfile('group seeding');
    console.log(`seeding a ${GROUP_MEMBERS}-member group...`);
    const client = { origin: tether.url, token: tether.scimToken };
    const group = await seedLargeGroup({ db: database.db, client, members: GROUP_MEMBERS, sourceId: 'bench' });
    console.log(`  ${GROUP_MEMBERS} people inserted with SQL in ${(group.peopleMs / 1000).toFixed(1)} s; group filled through SCIM PATCH (${group.batches} × ${group.batchSize} members) in ${(group.membersMs / 1000).toFixed(1)} s`);
    // users[0] sponsors an agent: each of its membership changes also commits a recompute outbox row, and the
    // recompute runs beside the next request. The outsider sponsors nothing (no recompute follows).
    const member = users[0]!;
    const outsider = await scim('POST', '/Users', { userName: 'outsider@example.com', displayName: 'Outsider' });
    if (outsider.status !== 201) throw new Error(`POST /Users answered ${outsider.status}`);
    nextProfile('group PATCHes');
    const plain = await measureGroupPatches({ client, groupId: group.id, memberId: member, count: GROUP_PATCHES, query: '' });
    const quiet = await measureGroupPatches({ client, groupId: group.id, memberId: outsider.body.id as string, count: GROUP_PATCHES, query: '' });
    const lean = await measureGroupPatches({ client, groupId: group.id, memberId: member, count: Math.min(100, GROUP_PATCHES), query: '?excludedAttributes=members' });
    const full = await measureGroupPatches({ client, groupId: group.id, memberId: member, count: Math.min(20, GROUP_PATCHES), query: '', headers: { prefer: 'return=representation' } });
    const groupSize = GROUP_MEMBERS.toLocaleString('en-US');

    const rows: BenchmarkRow[] = [
      { name: `Tether SCIM PATCH /Users/{id} replacing \`title\`, a rule attribute (${CONNECTIONS} connections, ${tetherResult.completed} requests; mirror + change event + audit + outbox committed, recompute enqueued and run)`, reqPerSec: tetherResult.reqPerSec, p50: tetherResult.p50, p99: tetherResult.p99 },
      { name: `Tether SCIM PATCH /Users/{id} replacing \`displayName\` (${profileResult.completed} requests; committed with change event + audit, no recompute needed)`, reqPerSec: profileResult.reqPerSec, p50: profileResult.p50, p99: profileResult.p99 },
      { name: 'Baseline: express 5 + one durable UPDATE of one row (pg Pool max 10)', reqPerSec: pgResult.reqPerSec, p50: pgResult.p50, p99: pgResult.p99 },
      { name: 'Baseline: bare express 5, PatchOp parsed, no database', reqPerSec: bareResult.reqPerSec, p50: bareResult.p50, p99: bareResult.p99 },
      { name: `Tether one-member PATCH on a ${groupSize}-member group, plain request, the member sponsors an agent (${plain.all.length} sequential, answered ${plain.statuses.join('/')}; each also commits a recompute, run beside the next request)`, p50: percentile(plain.all, 50), p99: percentile(plain.all, 99) },
      { name: '  of which add `members` [{value}]', p50: percentile(plain.add, 50), p99: percentile(plain.add, 99) },
      { name: '  of which remove `members` [{value}] or `members[value eq "…"]`', p50: percentile(plain.remove, 50), p99: percentile(plain.remove, 99) },
      { name: `Tether one-member PATCH on the same group, plain request, the member sponsors no agent (${quiet.all.length} sequential, answered ${quiet.statuses.join('/')})`, p50: percentile(quiet.all, 50), p99: percentile(quiet.all, 99) },
      { name: `Tether one-member PATCH on the same group, \`?excludedAttributes=members\` (${lean.all.length} sequential, answered ${lean.statuses.join('/')})`, p50: percentile(lean.all, 50), p99: percentile(lean.all, 99) },
      { name: `Tether one-member PATCH on the same group, \`Prefer: return=representation\` (every member in the response, ${full.all.length} sequential)`, p50: percentile(full.all, 50), p99: percentile(full.all, 99) },
    ];
    console.log('');
    for (const row of rows) {
      const throughput = row.reqPerSec === undefined ? ''.padStart(12) : `${row.reqPerSec.toFixed(0).padStart(6)} req/s`;
      console.log(`${row.name.slice(0, 96).padEnd(96)} ${throughput}   p50 ${row.p50.toFixed(1).padStart(7)} ms   p99 ${row.p99.toFixed(1).padStart(7)} ms`);
    }
    const throughputMet = tetherResult.reqPerSec >= pgResult.reqPerSec;
    const groupMet = percentile(plain.all, 50) < 5;
    const notes = [
      `Target: Tether's full PATCH (mirror + change event + outbox committed, recompute enqueued: the \`title\` row) ≥ express + one UPDATE — **${throughputMet ? 'met' : 'not met'}** (${tetherResult.reqPerSec.toFixed(0)} vs ${pgResult.reqPerSec.toFixed(0)} req/s, ${(100 * tetherResult.reqPerSec / pgResult.reqPerSec).toFixed(0)}%; ` +
        `a profile update that needs no recompute, the \`displayName\` row: ${profileResult.reqPerSec.toFixed(0)} req/s, ${(100 * profileResult.reqPerSec / pgResult.reqPerSec).toFixed(0)}%). ` +
        `One-member change on the ${groupSize}-member group under 5 ms p50 — **${groupMet ? 'met' : 'not met'}** (${percentile(plain.all, 50).toFixed(1)} ms plain when the member sponsors an agent, ${percentile(quiet.all, 50).toFixed(1)} ms when it sponsors none, ${percentile(lean.all, 50).toFixed(1)} ms with \`excludedAttributes=members\`, ${percentile(full.all, 50).toFixed(1)} ms when the response lists every member).`,
      `Per Tether PATCH, counting the recompute it triggers (PostgreSQL's own counters for the database): ${perRequest(delta.xactCommit)} transactions committed and ${perRequest(delta.xactRollback)} rolled back (each autocommit statement is one), ` +
        `${perRequest(delta.sessions)} new PostgreSQL connections, ${perRequest(delta.inserted)} rows inserted, ${perRequest(delta.updated)} rows updated, ${perRequest(delta.seqScans)} sequential scans; ${pendingAtEnd} recomputes were still pending in the outbox when the load stopped.`,
    ];
    for (const note of notes) console.log(note);
    recordBenchmark('scim', {
      machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
      setup: `${USERS} users each sponsoring one agent, autocannon ${CONNECTIONS} connections × ${DURATION} s after ${WARMUP} s warm-up in a separate process, PATCH replacing title (a rule attribute) or displayName over rotating ids; tether start (one process, workers included), PostgreSQL server (synchronous_commit on), private redis-server; baselines in their own processes on the same database`,
      rows,
      notes,
    });
  } finally {
    await tether.stop();
    await redis.stop();
    await database.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
