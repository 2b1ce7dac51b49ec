/**
 * bench/ldap: a full reconciliation of a 100,000-person, 1,000-group OpenLDAP directory beside
 * `ldapsearch -E pr=1000/noprompt` dumping the same entries in the same run, Tether's peak RSS, and the
 * delta path (one changed entry: poll start → change committed → recompute job in BullMQ).
 *
 *   npm run build && npm run bench:ldap
 *
 * Env: BENCH_LDAP_PEOPLE (default 100000), BENCH_LDAP_GROUPS (default 1000), BENCH_LDAP_RUNS (full
 * reconciliations and ldapsearch dumps, default 3), BENCH_LDAP_DELTAS (delta polls, default 5),
 * BENCH_LDAP_PAGE_SIZE (the source's pageSize, default: its default, 500), BENCH_TETHER_NODE_OPTIONS
 * (NODE_OPTIONS for the Tether process, e.g. `--require ./gc-log.cjs` to watch its heap).
 * Needs Debian's slapd/slapadd and the OpenLDAP client tools, PostgreSQL (TEST_DATABASE_URL or
 * postgres://postgres@127.0.0.1:5432/postgres) and redis-server on PATH. Prints the figures and rewrites
 * the ldap section of docs/benchmarks.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { ldapSourceSchema } from '../../connectors/ldap/config.js';
import { DIALECTS } from '../../connectors/ldap/mapping/dialects.js';
import { groupAttributes, personAttributes, resolveMapping } from '../../connectors/ldap/mapping/entries.js';
import { createBullQueues } from '../../jobs/bullmq.js';
import { secretReference } from '../../src/config/secrets.js';
import { call } from '../../test/support/http.js';
import { createTestDatabase, type TestDatabase } from '../../test/support/postgres.js';
import { waitFor } from '../../test/support/ports.js';
import { startPrivateRedis } from '../../test/support/redis.js';
import { READER_DN, READER_PASSWORD, startSlapd } from '../../test/support/slapd.js';
import { startTether, writeConfig, type TetherProcess } from '../../test/support/tether-process.js';
import { percentile, recordBenchmark, type BenchmarkRow } from '../report.js';
import { cpuDelta, cpuSnapshot, formatCpu, pidsMatching, type CpuSnapshot } from './cpu.js';
import { departmentOf, GROUPS_BASE, PEOPLE_BASE, uidOf, writeDirectoryLdif } from './directory.js';
import { resetPeakRss, statusMb, timeCommand } from './process.js';
import { profileConnector } from './profile.js';
import { summarize, traceRun } from './trace.js';

const PEOPLE = Number(process.env['BENCH_LDAP_PEOPLE'] ?? 100_000);
const GROUPS = Number(process.env['BENCH_LDAP_GROUPS'] ?? 1000);
const RUNS = Number(process.env['BENCH_LDAP_RUNS'] ?? 3);
const DELTAS = Number(process.env['BENCH_LDAP_DELTAS'] ?? 5);
const PAGE_SIZE = process.env['BENCH_LDAP_PAGE_SIZE'] === undefined ? undefined : Number(process.env['BENCH_LDAP_PAGE_SIZE']);
const SOURCE = 'corp';
const PREFIX = 'bench-ldap';
/** The sponsor whose entry the delta polls change; rule `eng` grants a tool to their department. */
const SPONSOR_INDEX = 42;
const SPONSOR_DEPARTMENT = departmentOf(SPONSOR_INDEX);
const OTHER_DEPARTMENT = departmentOf(SPONSOR_INDEX + 1);

interface RunRow {
  id: number; mode: string; status: string; started_at: Date; finished_at: Date | null; seen: number; changed: number; deleted: number; error: string | null;
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const median = (values: readonly number[]) => percentile(values, 50);

async function latestRunId(database: TestDatabase): Promise<number> {
  return (await database.db.query<{ id: number }>('select coalesce(max(id), 0)::int as id from sync_runs where source_id = $1', [SOURCE])).rows[0]?.id ?? 0;
}

/** The first run after `afterId`, once it is no longer running. */
async function finishedRun(database: TestDatabase, afterId: number, timeoutMs: number): Promise<RunRow> {
  const run = await waitFor(async () => {
    const row = (await database.db.query<RunRow>(
      'select id::int as id, mode, status, started_at, finished_at, seen, changed, deleted, error from sync_runs where source_id = $1 and id > $2 order by id limit 1',
      [SOURCE, afterId],
    )).rows[0];
    return row !== undefined && row.status !== 'running' ? row : null;
  }, { timeoutMs, intervalMs: 20, what: `sync run after ${afterId}` });
  if (run.status !== 'succeeded') throw new Error(`run ${run.id} ${run.status}: ${run.error ?? ''}`);
  return run;
}

async function pgCounters(database: TestDatabase): Promise<{ commits: number; inserted: number; updated: number; fetched: number }> {
  const row = (await database.db.query<{ c: string; i: string; u: string; f: string }>(
    'select xact_commit as c, tup_inserted as i, tup_updated as u, tup_fetched as f from pg_stat_database where datname = current_database()',
  )).rows[0];
  return { commits: Number(row?.c ?? 0), inserted: Number(row?.i ?? 0), updated: Number(row?.u ?? 0), fetched: Number(row?.f ?? 0) };
}

async function outboxDrained(database: TestDatabase): Promise<void> {
  await waitFor(async () => (await database.db.query<{ n: number }>('select count(*)::int as n from outbox where done_at is null')).rows[0]?.n === 0, {
    timeoutMs: 300_000, intervalMs: 200, what: 'outbox drained',
  });
}

/** Where the first load spent its time, from the change events' transaction timestamps (one per chunk). */
async function applyBreakdown(database: TestDatabase, run: RunRow): Promise<string[]> {
  const rows = (await database.db.query<{ subject_type: string; kind: string; n: number; chunks: number; first: Date; last: Date }>(
    `select subject_type, kind, count(*)::int as n, count(distinct committed_at)::int as chunks, min(committed_at) as first, max(committed_at) as last
       from change_events where origin = 'ldap' and committed_at between $1 and $2 group by 1, 2 order by min(committed_at)`,
    [run.started_at, run.finished_at],
  )).rows;
  const firstCommit = rows.reduce((min, row) => Math.min(min, row.first.getTime()), Number.POSITIVE_INFINITY);
  const lines = [`scan + stage (run start → first apply transaction): ${fmt(firstCommit - run.started_at.getTime())}`];
  for (const row of rows) {
    const span = row.last.getTime() - row.first.getTime();
    lines.push(`apply ${row.subject_type} ${row.kind}: ${row.n} events in ${row.chunks} transactions over ${fmt(span)} (${row.chunks > 1 ? (span / (row.chunks - 1)).toFixed(0) : '—'} ms per transaction, ${(row.n / Math.max(span / 1000, 0.001)).toFixed(0)} entries/s)`);
  }
  return lines;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'tether-bench-ldap-'));
  const ldifPath = join(work, 'directory.ldif');
  let started = performance.now();
  const generated = await writeDirectoryLdif(ldifPath, PEOPLE, GROUPS);
  const generateMs = performance.now() - started;
  console.log(`LDIF: ${generated.people} people, ${generated.groups} groups (${generated.smallestGroup}–${generated.largestGroup} members, ${generated.memberships} memberships), ${(generated.bytes / 1e6).toFixed(1)} MB, written in ${fmt(generateMs)}`);
  started = performance.now();
  // A directory polled by modifyTimestamp indexes it (docs/ldap.md): without the index every delta search
  // scans all entries (≈ 1 ms per 1,000), which would dominate a one-entry poll at this size.
  const slapd = await startSlapd('', { seedFiles: [ldifPath], maxSizeBytes: 4 * 1024 ** 3, indexes: ['modifyTimestamp eq'] });
  const slapaddMs = performance.now() - started;
  console.log(`slapadd + slapd start: ${fmt(slapaddMs)} (${slapd.url})`);
  const slapdPids = pidsMatching('slapd', slapd.url);
  const database = await createTestDatabase({ migrate: false });
  const redis = await startPrivateRedis();
  // PostgreSQL's default is autovacuum on (its launcher visits each database every autovacuum_naptime,
  // 60 s). A test server with it off never analyzes the tables the first load fills, and the planner keeps
  // its empty-table guesses; emulate the default by analyzing this database once a minute.
  const autovacuum = (await database.db.query<{ autovacuum: string }>('show autovacuum')).rows[0]?.autovacuum ?? 'on';
  const analyzer = autovacuum === 'on' ? null : setInterval(() => void database.db.exec('analyze').catch(() => undefined), 60_000);
  process.env['BENCH_LDAP_PASSWORD'] = READER_PASSWORD;
  const sourceYaml = {
    id: SOURCE, kind: 'ldap', url: slapd.url, dialect: 'openldap', bindDn: READER_DN, bindPassword: 'env:BENCH_LDAP_PASSWORD',
    // The default page size (500), as users run it, unless BENCH_LDAP_PAGE_SIZE says otherwise: ldapsearch
    // below asks for pages of 1000.
    people: { baseDns: [PEOPLE_BASE] }, groups: { baseDns: [GROUPS_BASE] },
    ...(PAGE_SIZE === undefined ? {} : { pageSize: PAGE_SIZE }),
    pollIntervalSeconds: 86_400, reconcileIntervalMinutes: 0,
  };
  const configPath = writeConfig(`
sources:
  - ${JSON.stringify(sourceYaml)}
tools:
  - { id: crm.contacts.read, system: crm, risk: read }
grantRules:
  - { id: eng, when: [{ attribute: department, in: [${SPONSOR_DEPARTMENT}] }], tools: [crm.contacts.read] }
`);
  const source = ldapSourceSchema(secretReference(work)).parse(sourceYaml);
  const mapping = resolveMapping(source, DIALECTS.openldap);
  const peopleFilter = source.people.filter ?? DIALECTS.openldap.peopleFilter;
  const groupFilter = source.groups.filter ?? DIALECTS.openldap.groupFilter;
  const ldapsearch = (base: string, filter: string, attributes: readonly string[]) =>
    ['-x', '-H', slapd.url, '-D', READER_DN, '-w', READER_PASSWORD, '-b', base, '-E', 'pr=1000/noprompt', filter, ...attributes];
  const dump = async () => {
    const people = await timeCommand('ldapsearch', ldapsearch(PEOPLE_BASE, peopleFilter, personAttributes(mapping)));
    const groups = await timeCommand('ldapsearch', ldapsearch(GROUPS_BASE, groupFilter, groupAttributes(mapping)));
    return { ms: people.ms + groups.ms, peakRssMb: Math.max(people.peakRssMb ?? 0, groups.peakRssMb ?? 0) };
  };

  let tether: TetherProcess | null = null;
  let queues: ReturnType<typeof createBullQueues> | null = null;
  let recomputeQueue: Queue | null = null;
  try {
    const warm = await dump(); // warms slapd's caches and the page cache for both sides alike
    console.log(`ldapsearch warm-up dump: ${fmt(warm.ms)}`);

    // Phase 1: `tether start` runs the first poll at once (BullMQ job schedulers fire immediately); with no
    // cursor yet it is a full reconciliation into an empty mirror — the first load.
    const beforeLoad = await pgCounters(database);
    const cpuBeforeLoad: CpuSnapshot = cpuSnapshot(0, slapdPids);
    tether = await startTether({
      configPath, databaseUrl: database.url, redisUrl: redis.url, queuePrefix: PREFIX, readyTimeoutMs: 60_000,
      env: { BENCH_LDAP_PASSWORD: READER_PASSWORD, LOG_LEVEL: 'warn', TETHER_AUTOSTART_REDIS: 'false', ...(process.env['BENCH_TETHER_NODE_OPTIONS'] === undefined ? {} : { NODE_OPTIONS: process.env['BENCH_TETHER_NODE_OPTIONS'] }) },
    });
    const child = tether;
    const firstLoad = await finishedRun(database, 0, 3_600_000);
    const loadPeak = statusMb(child.pid, 'VmHWM');
    const loadCpu = cpuDelta({ ...cpuBeforeLoad, tether: 0 }, cpuSnapshot(child.pid, slapdPids));
    const loadPg = await pgCounters(database);
    const loadMs = (firstLoad.finished_at?.getTime() ?? 0) - firstLoad.started_at.getTime();
    console.log(`first load (run ${firstLoad.id}, ${firstLoad.mode}): ${fmt(loadMs)}, seen ${firstLoad.seen}, changed ${firstLoad.changed}; peak RSS ${loadPeak.toFixed(0)} MB; ${formatCpu(loadCpu)}`);
    console.log(`  PostgreSQL: ${loadPg.commits - beforeLoad.commits} commits, ${loadPg.inserted - beforeLoad.inserted} rows inserted, ${loadPg.updated - beforeLoad.updated} updated`);
    const loadBreakdown = await applyBreakdown(database, firstLoad);
    for (const line of loadBreakdown) console.log(`  ${line}`);
    await outboxDrained(database);

    // The sponsor gets an agent, so a change to their department really enqueues a recompute.
    const sponsor = (await database.db.query<{ id: string }>('select id from persons where source_id = $1 and user_name = $2 and deleted_at is null', [SOURCE, uidOf(SPONSOR_INDEX)])).rows[0];
    if (sponsor === undefined) throw new Error('sponsor not mirrored');
    const agent = await call(`${child.url}/api/v1/agents`, 'POST', child.adminToken, {
      name: 'bench-bot', purpose: 'benchmark', environment: 'production', sponsor: { id: sponsor.id },
      requestedTools: ['crm.contacts.read'], delegation: { approver: 'bench', justification: 'bench' },
    });
    if (agent.status !== 201) throw new Error(`POST /agents answered ${agent.status}: ${JSON.stringify(agent.body)}`);
    await outboxDrained(database);

    // Phase 2: full reconciliations of an unchanged directory (the scheduled `reconcileIntervalMinutes`
    // run, and `tether reconcile`), each right after an ldapsearch dump of the same entries.
    const dumps: { ms: number; peakRssMb: number }[] = [];
    const reconciles: { ms: number; endToEndMs: number; peakMb: number; cpu: CpuSnapshot; commits: number; seen: number; changed: number }[] = [];
    for (let index = 0; index < RUNS; index += 1) {
      dumps.push(await dump());
      const before = await latestRunId(database);
      const counters = await pgCounters(database);
      resetPeakRss(child.pid);
      const cpuBefore = cpuSnapshot(child.pid, slapdPids);
      const asked = Date.now();
      const response = await call(`${child.url}/api/v1/sources/${SOURCE}/reconcile`, 'POST', child.adminToken);
      if (response.status >= 300) throw new Error(`reconcile answered ${response.status}: ${JSON.stringify(response.body)}`);
      const run = await finishedRun(database, before, 600_000);
      const endToEndMs = Date.now() - asked;
      const cpu = cpuDelta(cpuBefore, cpuSnapshot(child.pid, slapdPids));
      const peakMb = statusMb(child.pid, 'VmHWM');
      const ms = (run.finished_at?.getTime() ?? 0) - run.started_at.getTime();
      reconciles.push({ ms, endToEndMs, peakMb, cpu, commits: (await pgCounters(database)).commits - counters.commits, seen: run.seen, changed: run.changed });
      console.log(`ldapsearch dump ${fmt(dumps.at(-1)?.ms ?? 0)}; full reconciliation (run ${run.id}, ${run.mode}): ${fmt(ms)} (request → run finished ${fmt(endToEndMs)}), seen ${run.seen}, changed ${run.changed}, peak RSS ${peakMb.toFixed(0)} MB; ${formatCpu(cpu)}`);
    }

    // Phase 3: one changed entry per delta poll. Poll start = the run's started_at (Tether's clock, taken
    // as it claims the lease); committed = the change event's transaction time; enqueued = the recompute
    // job's timestamp in BullMQ, for the sponsor.
    queues = createBullQueues({ redisUrl: redis.url, prefix: PREFIX, targets: [] });
    recomputeQueue = new Queue('recompute', { connection: { url: redis.url }, prefix: PREFIX });
    const toCommit: number[] = [];
    const toEnqueue: number[] = [];
    const pollDurations: number[] = [];
    const pickup: number[] = [];
    for (let index = 0; index < DELTAS; index += 1) {
      const department = index % 2 === 0 ? OTHER_DEPARTMENT : SPONSOR_DEPARTMENT;
      await slapd.modify(`dn: uid=${uidOf(SPONSOR_INDEX)},${PEOPLE_BASE}\nchangetype: modify\nreplace: departmentNumber\ndepartmentNumber: ${department}\n`);
      const before = await latestRunId(database);
      const asked = Date.now();
      await queues.enqueueDirectorySync({ sourceId: SOURCE, mode: 'delta', trigger: 'bench' });
      const run = await finishedRun(database, before, 600_000);
      if (run.mode !== 'delta' || run.changed !== 1) throw new Error(`delta run ${run.id}: mode ${run.mode}, changed ${run.changed} (expected delta, 1)`);
      const start = run.started_at.getTime();
      const event = (await database.db.query<{ committed_at: Date }>(
        `select committed_at from change_events where origin = 'ldap' and subject_id = $1 and committed_at >= $2 order by committed_at limit 1`, [sponsor.id, run.started_at],
      )).rows[0];
      if (event === undefined) throw new Error(`run ${run.id}: no change event for the sponsor`);
      const job = await waitFor(async () => {
        const jobs = await recomputeQueue!.getJobs(['completed', 'active', 'waiting', 'delayed', 'prioritized', 'failed']);
        return jobs.filter((candidate) => ((candidate.data as { personIds?: string[] }).personIds ?? []).includes(sponsor.id) && candidate.timestamp >= start).sort((a, b) => a.timestamp - b.timestamp)[0] ?? null;
      }, { timeoutMs: 10_000, what: 'recompute job for the sponsor' });
      toCommit.push(event.committed_at.getTime() - start);
      toEnqueue.push(job.timestamp - start);
      pollDurations.push((run.finished_at?.getTime() ?? start) - start);
      pickup.push(start - asked);
      console.log(`delta poll ${run.id}: job queued → poll start ${start - asked} ms; poll start → change committed ${toCommit.at(-1)} ms → recompute enqueued ${toEnqueue.at(-1)} ms; poll finished after ${pollDurations.at(-1)} ms`);
      await outboxDrained(database);
    }

    // Where the time goes: the connector alone (LDAP client + mapping, no database) and the hashing, in this process.
    const profile = await profileConnector(source);
    for (const line of profile.lines) console.log(`  ${line}`);
    // The delta use case in this process (src/ through tsx, while Tether runs dist/: only the changed
    // entry is compared by hash, so a rebuilt mapping cannot make it re-apply the directory) with every
    // store call, transaction and LDAP page timed.
    await slapd.modify(`dn: uid=${uidOf(SPONSOR_INDEX)},${PEOPLE_BASE}\nchangetype: modify\nreplace: departmentNumber\ndepartmentNumber: ${DELTAS % 2 === 0 ? OTHER_DEPARTMENT : SPONSOR_DEPARTMENT}\n`);
    const deltaTrace = await traceRun(database.db, source, queues, 'delta');
    console.log(`traced delta poll in the bench process: ${fmt(deltaTrace.totalMs)}, first recompute enqueued at ${deltaTrace.firstEnqueueMs?.toFixed(0) ?? '—'} ms; by total time:`);
    for (const line of summarize(deltaTrace)) console.log(`  ${line}`);

    const dumpMs = median(dumps.map((item) => item.ms));
    const reconcileMs = median(reconciles.map((item) => item.ms));
    const reconcilePeak = Math.max(...reconciles.map((item) => item.peakMb));
    const entries = PEOPLE + GROUPS;
    const rows: BenchmarkRow[] = [
      { name: `ldapsearch -E pr=1000/noprompt, people then groups, same filters and attributes, to /dev/null (median of ${dumps.length})`, wallSeconds: dumpMs / 1000, peakRssMb: Math.max(...dumps.map((item) => item.peakRssMb)), p50: Number.NaN, p99: Number.NaN },
      { name: `Tether full reconciliation, directory unchanged (median of ${reconciles.length}; ${reconciles[0]?.seen ?? 0} entries seen, ${reconciles[0]?.changed ?? 0} changed)`, wallSeconds: reconcileMs / 1000, peakRssMb: reconcilePeak, p50: Number.NaN, p99: Number.NaN },
      { name: `Tether first load: full reconciliation into an empty mirror (${firstLoad.changed} entries created, ${generated.memberships} memberships)`, wallSeconds: loadMs / 1000, peakRssMb: loadPeak, p50: Number.NaN, p99: Number.NaN },
      { name: `  connector alone, no database: paged search (page ${source.pageSize}) + mapping of ${entries} entries`, wallSeconds: profile.scanMs / 1000, p50: Number.NaN, p99: Number.NaN },
      { name: `Delta poll, one changed entry: poll start → recompute job in BullMQ (${toEnqueue.length} polls)`, p50: percentile(toEnqueue, 50), p99: percentile(toEnqueue, 99) },
      { name: '  poll start → change event committed', p50: percentile(toCommit, 50), p99: percentile(toCommit, 99) },
      { name: '  poll start → poll finished', p50: percentile(pollDurations, 50), p99: percentile(pollDurations, 99) },
      { name: `  scan thread alone, no database: read + map + hash of ${entries} entries on the kept worker thread`, wallSeconds: profile.threadMs / 1000, p50: Number.NaN, p99: Number.NaN },
      { name: `  the same on a new worker thread (a process's first full scan of the source)`, wallSeconds: profile.freshThreadMs / 1000, p50: Number.NaN, p99: Number.NaN },
      { name: `  connector alone: key-only scans of all ${entries} entries (deletion detection)`, wallSeconds: profile.keysMs / 1000, p50: Number.NaN, p99: Number.NaN },
    ];
    console.log('');
    for (const row of rows) {
      const wall = row.wallSeconds === undefined ? ''.padStart(10) : `${row.wallSeconds.toFixed(2).padStart(8)} s`;
      const rss = row.peakRssMb === undefined ? ''.padStart(11) : `${row.peakRssMb.toFixed(0).padStart(6)} MB RSS`;
      const latency = Number.isFinite(row.p50) ? `p50 ${row.p50.toFixed(1).padStart(8)} ms   p99 ${row.p99.toFixed(1).padStart(8)} ms` : '';
      console.log(`${row.name.slice(0, 100).padEnd(100)} ${wall} ${rss}   ${latency}`);
    }
    const ratio = reconcileMs / dumpMs;
    const loadRatio = loadMs / dumpMs;
    const deltaP50 = percentile(toEnqueue, 50);
    const notes = [
      `Targets: full reconciliation within 3× ldapsearch — **${ratio <= 3 ? 'met' : 'not met'}** for an unchanged directory (${ratio.toFixed(1)}×: ${fmt(reconcileMs)} vs ${fmt(dumpMs)}), ` +
        `**${loadRatio <= 3 ? 'met' : 'not met'}** for the first load into an empty mirror (${loadRatio.toFixed(0)}×: ${fmt(loadMs)}). ` +
        `Peak RSS under 300 MB — **${Math.max(reconcilePeak, loadPeak) < 300 ? 'met' : 'not met'}** (${reconcilePeak.toFixed(0)} MB reconciling, ${loadPeak.toFixed(0)} MB over the first load, whole \`tether start\` process). ` +
        `One changed entry's recompute enqueued within 100 ms of the poll starting, every poll (p99) — **${percentile(toEnqueue, 99) <= 100 ? 'met' : 'not met'}** (p50 ${deltaP50.toFixed(0)} ms, p99 ${percentile(toEnqueue, 99).toFixed(0)} ms).`,
      `Where the time goes — first load: ${loadBreakdown.join('; ')}; ${formatCpu(loadCpu)}; PostgreSQL ${loadPg.commits - beforeLoad.commits} commits, ${loadPg.inserted - beforeLoad.inserted} rows inserted. ` +
        `Unchanged reconciliation: ${formatCpu(reconciles[0]?.cpu ?? loadCpu)}, ${reconciles[0]?.commits ?? 0} PostgreSQL commits. Connector alone: ${profile.lines.join('; ')}.`,
    ];
    for (const note of notes) console.log(note);
    recordBenchmark('ldap', {
      machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
      setup: `${PEOPLE.toLocaleString('en-US')} inetOrgPerson entries and ${GROUPS.toLocaleString('en-US')} groupOfNames (${generated.smallestGroup}–${generated.largestGroup.toLocaleString('en-US')} members, ${generated.memberships.toLocaleString('en-US')} memberships) loaded with slapadd (${fmt(slapaddMs)}) into a private slapd (mdb, index modifyTimestamp eq); ` +
        `tether start (one process) with the source at pageSize ${source.pageSize}, PostgreSQL server (autovacuum ${autovacuum}${analyzer === null ? '' : '; the benchmark runs ANALYZE once a minute, as the default autovacuum would'}), private redis-server; peak RSS is VmHWM of the tether process, reset before each reconciliation`,
      rows,
      notes,
    });
  } catch (error) {
    if (tether !== null) console.error(tether.output().slice(-4000));
    throw error;
  } finally {
    if (analyzer !== null) clearInterval(analyzer);
    await recomputeQueue?.close();
    await queues?.close();
    await tether?.stop();
    await redis.stop();
    await database.drop();
    await slapd.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
