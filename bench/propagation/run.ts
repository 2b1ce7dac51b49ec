/**
 * bench/propagation: SCIM-received → webhook-delivered latency for a burst of mover and leaver PATCHes,
 * beside a bare BullMQ add→complete round trip on the same Redis in the same run.
 *
 *   npm run build && npm run bench            (BENCH_SPONSORS, BENCH_AGENTS_PER_SPONSOR to resize)
 *
 * Needs PostgreSQL (TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/postgres) and redis-server on
 * PATH. Prints the figures and rewrites the propagation section of docs/benchmarks.md.
 */
import { cpus } from 'node:os';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { createTestDatabase } from '../../test/support/postgres.js';
import { call } from '../../test/support/http.js';
import { waitFor } from '../../test/support/ports.js';
import { startPrivateRedis } from '../../test/support/redis.js';
import { startTether, writeConfig } from '../../test/support/tether-process.js';
import { WebhookReceiver } from '../../test/support/webhook-receiver.js';
import { percentile, recordBenchmark } from '../report.js';

const SPONSORS = Number(process.env['BENCH_SPONSORS'] ?? 100);
const AGENTS_PER_SPONSOR = Number(process.env['BENCH_AGENTS_PER_SPONSOR'] ?? 3);
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

async function bareBullmq(redisUrl: string, jobs: number): Promise<number[]> {
  const connection = { url: redisUrl, maxRetriesPerRequest: null };
  const queue = new Queue('bare', { connection, prefix: 'bench-bare' });
  const events = new QueueEvents('bare', { connection, prefix: 'bench-bare' });
  await events.waitUntilReady();
  const started = new Map<string, number>();
  const latencies: number[] = [];
  const worker = new Worker('bare', async () => undefined, { connection, prefix: 'bench-bare', concurrency: 16 });
  const done = new Promise<void>((resolve) => {
    worker.on('completed', (job) => {
      latencies.push(performance.now() - (started.get(job.id ?? '') ?? performance.now()));
      if (latencies.length === jobs) resolve();
    });
  });
  await Promise.all(Array.from({ length: jobs }, async (_, index) => {
    const id = `job-${index}`;
    started.set(id, performance.now());
    await queue.add('bare', { index }, { jobId: id, removeOnComplete: true });
  }));
  await done;
  await worker.close();
  await events.close();
  await queue.close();
  return latencies;
}

async function main(): Promise<void> {
  const database = await createTestDatabase({ migrate: false });
  const redis = await startPrivateRedis();
  const receiver = new WebhookReceiver(SECRET);
  await receiver.start();
  const configPath = writeConfig(`
sources: [{ id: bench, kind: scim }]
tools:
  - { id: crm.contacts.read, system: crm, risk: read }
  - { id: crm.contacts.write, system: crm, risk: write }
grantRules:
  - { id: sales, when: [{ group: Sales }], tools: ["crm.*"] }
targets:
  - { id: hook, kind: webhook, url: "${receiver.url}", secret: "file:./hook.secret", concurrency: 32, backoffMs: 50, allowPrivateNetwork: true }
`, { 'hook.secret': SECRET });
  const tether = await startTether({ configPath, databaseUrl: database.url, redisUrl: redis.url, queuePrefix: 'bench', env: { LOG_LEVEL: 'warn', TETHER_WORKER_CONCURRENCY: '16' } });
  const scim = (method: string, path: string, body?: unknown) => call(`${tether.url}/scim/v2${path}`, method, tether.scimToken, body);
  const api = (method: string, path: string, body?: unknown) => call(`${tether.url}/api/v1${path}`, method, tether.adminToken, body);
  try {
    const users: string[] = [];
    for (let index = 0; index < SPONSORS; index += 1) {
      users.push((await scim('POST', '/Users', { userName: `sponsor${index}@example.com` })).body.id as string);
    }
    const group = await scim('POST', '/Groups', { displayName: 'Sales', members: users.map((value) => ({ value })) });
    const agentsBySponsor = new Map<string, string[]>();
    for (const userId of users) {
      const agents: string[] = [];
      for (let index = 0; index < AGENTS_PER_SPONSOR; index += 1) {
        const agent = await api('POST', '/agents', {
          name: `bot-${index}`, purpose: 'benchmark', environment: 'production', sponsor: { id: userId },
          requestedTools: ['crm.contacts.read', 'crm.contacts.write'], delegation: { approver: 'bench', justification: 'bench' },
        });
        agents.push(agent.body.id as string);
      }
      agentsBySponsor.set(userId, agents);
    }
    const totalAgents = SPONSORS * AGENTS_PER_SPONSOR;
    await waitFor(async () => new Set(receiver.deliveries.map((delivery) => delivery.payload.data.agentId)).size === totalAgents, { timeoutMs: 120_000, what: 'initial grants' });

    // Movers and leavers are disjoint halves: a sponsor who already left the group has nothing left to
    // revoke, so deactivating them afterwards would (correctly) deliver nothing.
    const half = Math.ceil(users.length / 2);
    const movers = users.slice(0, half);
    const leavers = users.slice(half);
    const sponsorOf = new Map([...agentsBySponsor].flatMap(([userId, agents]) => agents.map((agentId) => [agentId, userId] as const)));
    const measure = async (label: string, sponsors: string[], send: (userId: string) => Promise<unknown>): Promise<number[]> => {
      const before = receiver.deliveries.length;
      const expected = sponsors.length * AGENTS_PER_SPONSOR;
      const sentAt = new Map<string, number>();
      await Promise.all(sponsors.map(async (userId) => {
        sentAt.set(userId, Date.now());
        const response = await send(userId) as { status: number };
        if (response.status >= 300) throw new Error(`${label}: SCIM answered ${response.status}`);
      }));
      await waitFor(async () => receiver.deliveries.length >= before + expected, { timeoutMs: 120_000, what: `${label} deliveries` });
      return receiver.deliveries.slice(before).map((delivery) => delivery.receivedAt - (sentAt.get(sponsorOf.get(delivery.payload.data.agentId) ?? '') ?? delivery.receivedAt));
    };
    const patch = (operations: unknown[]) => ({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: operations });
    const mover = await measure('mover', movers, (userId) => scim('PATCH', `/Groups/${group.body.id as string}`, patch([{ op: 'remove', path: `members[value eq "${userId}"]` }])));
    const leaver = await measure('leaver', leavers, (userId) => scim('PATCH', `/Users/${userId}`, patch([{ op: 'replace', path: 'active', value: false }])));
    const tetherLatencies = [...mover, ...leaver];
    // Stage breakdown from Tether's own per-event timestamps: where the end-to-end time goes.
    const events = (await api('GET', `/change-events?limit=${movers.length + leavers.length}`)).body.items as {
      latencyMs: { commit: number; compute: number | null; lastApplied: number | null };
    }[];
    const stage = (pick: (latency: { commit: number; compute: number | null; lastApplied: number | null }) => number | null) =>
      events.map((event) => pick(event.latencyMs)).filter((value): value is number => value !== null);
    const commit = stage((latency) => latency.commit);
    const compute = stage((latency) => latency.compute);
    const applied = stage((latency) => latency.lastApplied);
    const bare = await bareBullmq(redis.url, tetherLatencies.length);

    const rows = [
      { name: `Tether mover burst (${movers.length} SCIM PATCHes → ${mover.length} webhooks)`, p50: percentile(mover, 50), p99: percentile(mover, 99) },
      { name: `Tether leaver burst (${leavers.length} SCIM PATCHes → ${leaver.length} webhooks)`, p50: percentile(leaver, 50), p99: percentile(leaver, 99) },
      { name: `  stage: received → committed (${commit.length} change events)`, p50: percentile(commit, 50), p99: percentile(commit, 99) },
      { name: '  stage: received → entitlements computed', p50: percentile(compute, 50), p99: percentile(compute, 99) },
      { name: '  stage: received → last target applied', p50: percentile(applied, 50), p99: percentile(applied, 99) },
      { name: `Bare BullMQ add→complete (${bare.length} jobs, same Redis)`, p50: percentile(bare, 50), p99: percentile(bare, 99) },
    ];
    for (const row of rows) console.log(`${row.name.padEnd(70)} p50 ${row.p50.toFixed(1).padStart(8)} ms   p99 ${row.p99.toFixed(1).padStart(8)} ms`);
    recordBenchmark('propagation', {
      machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
      setup: `${SPONSORS} sponsors × ${AGENTS_PER_SPONSOR} agents, one webhook target on loopback, tether start (one process), PostgreSQL ${database.url.startsWith('postgres') ? 'server' : ''}, private redis-server`,
      rows,
    });
  } finally {
    await tether.stop();
    await receiver.stop();
    await redis.stop();
    await database.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
