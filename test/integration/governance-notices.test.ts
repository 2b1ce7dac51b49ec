import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookNotifier } from '../../connectors/webhook/notifier.js';
import { createBullQueues, eachSponsor, startBullWorkers, type BullQueues, type BullWorkers } from '../../jobs/bullmq.js';
import { notifyQueueName } from '../../jobs/queues.js';
import { registerAgent } from '../../src/app/agents/register-agent.js';
import { changeGroup, createGroup } from '../../src/app/directory/groups.js';
import { createPerson } from '../../src/app/directory/people.js';
import { sweepExpiries } from '../../src/app/governance/expiry.js';
import { deliverExpiryEvent, type ExpiryEvent, type NotificationQueue } from '../../src/app/governance/notices.js';
import { DEFAULT_GOVERNANCE_POLICY } from '../../src/app/governance/policy.js';
import { recomputeSponsor } from '../../src/app/pipeline/recompute-sponsor.js';
import type { Policy } from '../../src/app/ports.js';
import { parseConfig, type TetherConfig } from '../../src/config/file.js';
import type { Store } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { RecordingQueue, scimContext, silentLogger, storeWithPolicy } from '../support/pipeline.js';
import { waitFor } from '../support/ports.js';
import { deletePrefix, SHARED_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const DAY = 86_400_000;
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * Expiry notifications (issue 5, scope 5) end to end: real PostgreSQL, BullMQ on Redis, and real HTTP
 * receivers verifying Standard Webhooks signatures. Notices recorded by the sweep go out once as signed
 * events, survive a failed hand-over to Redis, are retried on 5xx under the same id, and follow each
 * webhook's events filter.
 */
describe('expiry notifications to webhooks', () => {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const all = new WebhookReceiver(secret);
  const expiredOnly = new WebhookReceiver(secret);
  const rejecting = new WebhookReceiver(secret);
  /**
   * Every POST's webhook-id per receiver URL, failed attempts included (the receiver records only successes),
   * recorded once the answer has arrived: a test that waits for an attempt then changes the receiver's
   * behaviour must not race the request still in flight.
   */
  const attemptIds = new Map<string, string[]>();
  const recordingFetch: typeof fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : input.toString();
    const id = new Headers(init?.headers).get('webhook-id') ?? '';
    try {
      return await fetch(input, init);
    } finally {
      attemptIds.set(url, [...(attemptIds.get(url) ?? []), id]);
    }
  };

  let database: TestDatabase;
  let store: Store;
  let policy: Policy;
  let config: TetherConfig;
  let queues: BullQueues;
  let workers: BullWorkers;
  const prefix = uniquePrefix('notices');
  const queue = new RecordingQueue();
  let offsetMs = 0;
  const clock = () => new Date(Date.now() + offsetMs);
  const governance = { ...DEFAULT_GOVERNANCE_POLICY, expiryNoticeMs: 7 * DAY };
  const base = () => ({ store, queue, clock, logger: silentLogger });
  const sweep = (notificationQueue: NotificationQueue = queues) => sweepExpiries({
    ...base(), governance: () => governance,
    notifications: { store, queue: notificationQueue, webhooks: () => config.notifications.webhooks },
  });
  const eventsAt = (receiver: WebhookReceiver) => receiver.deliveries.map((delivery) => delivery.payload as unknown as ExpiryEvent);

  beforeAll(async () => {
    await Promise.all([all.start(), expiredOnly.start(), rejecting.start()]);
    rejecting.failWith = 410;
    process.env['TETHER_TEST_NOTIFY_SECRET'] = secret;
    const hook = (id: string, receiver: WebhookReceiver, extra = '') =>
      `  - { id: ${id}, url: "${receiver.url}", secret: "env:TETHER_TEST_NOTIFY_SECRET", allowPrivateNetwork: true, backoffMs: 50, maxAttempts: 5${extra} }\n`;
    config = parseConfig(
      `sources: [{ id: default, kind: scim }]\nnotifications:\n  webhooks:\n${hook('ops', all)}${hook('expired-only', expiredOnly, ', events: [delegation.expired]')}${hook('gone', rejecting)}`,
      '/etc/tether/tether.yaml',
    );
    database = await createTestDatabase();
    ({ store, policy } = await storeWithPolicy(database.db));
    const notificationWebhooks = config.notifications.webhooks.map((webhook) => ({ id: webhook.id, maxAttempts: webhook.maxAttempts, backoffMs: webhook.backoffMs, concurrency: 1 }));
    const settings = { redisUrl: SHARED_REDIS_URL, prefix, targets: [], notificationWebhooks };
    queues = createBullQueues(settings);
    // Signatures carry the wall clock: receivers refuse timestamps outside their tolerance, whatever the sweep's clock says.
    const sender = createWebhookNotifier(config.notifications.webhooks, { fetch: recordingFetch, clock: () => new Date() });
    workers = startBullWorkers({ ...settings, recomputeConcurrency: 1 }, {
      recompute: eachSponsor(() => Promise.resolve()),
      push: () => Promise.resolve(),
      notify: (job) => deliverExpiryEvent({ sender, logger: silentLogger }, job),
    }, () => undefined);
  });

  afterAll(async () => {
    await workers?.close();
    await queues?.close();
    await deletePrefix(SHARED_REDIS_URL, prefix);
    await Promise.all([all.stop(), expiredOnly.stop(), rejecting.stop()]);
    await database?.drop();
    delete process.env['TETHER_TEST_NOTIFY_SECRET'];
  });

  it('sends one signed delegation.expiring however often the sweep runs, then delegation.expired, retrying a 500 under the same id', async () => {
    const sponsor = await createPerson(base(), scimContext(), { userName: 'nora', externalId: null, displayName: null, active: true, attributes: {}, resource: { userName: 'nora' } });
    const sales = await createGroup(base(), scimContext(), { displayName: 'Sales', externalId: null, resource: {} }, []);
    await changeGroup(base(), scimContext(), sales.id, { addMemberIds: [sponsor.id] }, null);
    const delegationEnds = new Date(clock().getTime() + 2 * DAY);
    const agent = await registerAgent({ ...base(), policy: () => policy, governance: () => governance }, { type: 'system', id: 'test' }, {
      name: 'notice-bot', purpose: 'test', environment: 'production', sponsor: { id: sponsor.id }, backupSponsors: [], owner: null,
      requestedTools: ['crm.contacts.read'], expiresAt: null,
      delegation: { approver: 'approver@example.com', justification: 'test', tools: null, targetSystems: [], notBefore: null, expiresAt: delegationEnds },
    });
    await recomputeSponsor({ ...base(), policy: () => policy, governance: () => governance, targetIds: () => [] }, sponsor.id);

    // Redis refuses the hand-over: the notice is recorded all the same and goes out with the next sweep.
    const down: NotificationQueue = { enqueueNotifications: () => Promise.reject(new Error('redis down')) };
    expect(await sweep(down)).toEqual({ expired: 0, notices: 1 });
    expect(await sweep()).toEqual({ expired: 0, notices: 0 });
    expect(await sweep()).toEqual({ expired: 0, notices: 0 });
    const expiring = await waitFor(async () => eventsAt(all).find((event) => event.type === 'delegation.expiring'), { timeoutMs: 10_000, what: 'delegation.expiring' });
    const delegationId = (await store.readModels.getAgent(agent.id))?.delegation?.id;
    expect(expiring).toEqual({
      id: `evt_${agent.id}_delegation.expiring_${delegationEnds.getTime()}`, type: 'delegation.expiring', occurredAt: expect.any(String),
      agentId: agent.id, agentName: 'notice-bot', sponsorId: sponsor.id, expiresAt: delegationEnds.toISOString(), delegationId,
    });
    expect(all.deliveries[0]?.id).toBe(expiring.id);
    await sleep(300);
    expect(all.attempts).toBe(1);
    expect(all.rejectedSignatures).toEqual([]);

    // Expiry, with the receiver failing first: the retry carries the same id and is delivered.
    all.failWith = 500;
    offsetMs += 3 * DAY;
    expect(await sweep()).toEqual({ expired: 1, notices: 0 });
    const expiredId = `evt_${agent.id}_delegation.expired_${delegationEnds.getTime()}`;
    await waitFor(async () => (attemptIds.get(all.url) ?? []).includes(expiredId), { timeoutMs: 10_000, what: 'a first, failing attempt' });
    all.failWith = null;
    const expired = await waitFor(async () => eventsAt(all).find((event) => event.type === 'delegation.expired'), { timeoutMs: 10_000, what: 'the retried delegation.expired' });
    expect(expired).toMatchObject({ id: expiredId, agentId: agent.id, sponsorId: sponsor.id, delegationId });
    expect((attemptIds.get(all.url) ?? []).filter((id) => id === expiredId).length).toBeGreaterThanOrEqual(2);
    expect(await sweep()).toEqual({ expired: 0, notices: 0 });

    // The filtered webhook got the expiry only; the 410 one failed for good after one attempt, kept in its queue.
    const onlyExpired = await waitFor(async () => (eventsAt(expiredOnly).length > 0 ? eventsAt(expiredOnly) : null), { timeoutMs: 10_000, what: 'the filtered webhook' });
    await sleep(300);
    expect(onlyExpired.map((event) => event.type)).toEqual(['delegation.expired']);
    expect(expiredOnly.attempts).toBe(1);
    const gone = queues.instances().find((instance) => instance.name === notifyQueueName('gone'));
    const failed = await waitFor(async () => ((await gone?.getFailed()) ?? []).length === 2 ? gone?.getFailed() : null, { timeoutMs: 10_000, what: 'two failed jobs' });
    expect(failed.map((job) => [job.id, job.attemptsMade]).sort()).toEqual([[expiring.id, 1], [expiredId, 1]].sort());
    expect(rejecting.attempts).toBe(2);
  });
});
