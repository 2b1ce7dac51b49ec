import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/http.js';
import { waitFor } from '../support/ports.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startPrivateRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';
import { READER_DN, READER_PASSWORD, startSlapd, type Slapd } from '../support/slapd.js';
import { CLI, startTether, writeConfig, type TetherProcess } from '../support/tether-process.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const run = promisify(execFile);
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const PEOPLE = 'ou=people,dc=example,dc=org';
const GROUPS = 'ou=groups,dc=example,dc=org';
const SERVICES = 'ou=services,dc=example,dc=org';
const FIXTURE = readFileSync(resolve(import.meta.dirname, '../fixtures/ldap/directory.ldif'), 'utf8');
/** A service account managed by alice: the directory's own agent. */
const SERVICE_ACCOUNT = `dn: uid=svc-reports,${SERVICES}
objectClass: inetOrgPerson
uid: svc-reports
cn: svc-reports
sn: service
description: Builds the weekly sales report
manager: uid=alice,${PEOPLE}
`;
const POLL_SECONDS = 1;

/**
 * An LDAP source end to end: a real slapd, `tether start` as a real process polling it every second, the
 * admin API and the CLI over real HTTP, and a real webhook receiver. Joiner, mover and leaver in the
 * directory reach the agent's rights at the target within a poll interval (plus the pipeline's own time).
 */
describe('tether start: LDAP poll → recompute → webhook', () => {
  let slapd: Slapd;
  let database: TestDatabase;
  let redis: PrivateRedis;
  let receiver: WebhookReceiver;
  let tether: TetherProcess;
  let agentId: string;

  const api = (method: string, path: string, body?: unknown) => call(`${tether.url}/api/v1${path}`, method, tether.adminToken, body, { 'content-type': 'application/json' });
  const toolsOf = (delivery: { payload: { data: { effective: { toolId: string }[] } } }) => delivery.payload.data.effective.map((entitlement) => entitlement.toolId);
  const deliveryAfter = (version: number, timeoutMs: number) =>
    waitFor(async () => {
      const latest = receiver.latestFor(agentId);
      return latest !== undefined && latest.payload.data.version > version ? latest : undefined;
    }, { timeoutMs, intervalMs: 20, what: `a webhook delivery after version ${version}` });
  const latestVersion = () => receiver.latestFor(agentId)?.payload.data.version ?? 0;
  /** A poll interval, plus the time a poll, a recompute and a delivery take on a loaded CI machine. */
  const WITHIN_A_POLL = POLL_SECONDS * 1000 + 4000;

  beforeAll(async () => {
    slapd = await startSlapd(`${FIXTURE}\n${SERVICE_ACCOUNT}`);
    database = await createTestDatabase({ migrate: false });
    redis = await startPrivateRedis();
    receiver = new WebhookReceiver(SECRET);
    await receiver.start();
    const configPath = writeConfig(
      `
sources:
  - id: corp
    kind: ldap
    displayName: Corp directory
    url: ${slapd.url}
    bindDn: ${READER_DN}
    bindPassword: env:LDAP_BIND_PASSWORD
    dialect: openldap
    people: { baseDns: ["${PEOPLE}"] }
    groups: { baseDns: ["${GROUPS}"] }
    agents: { baseDns: ["${SERVICES}"], filter: "(objectClass=inetOrgPerson)", environment: production, requestedTools: [crm.reports.read] }
    pollIntervalSeconds: ${POLL_SECONDS}
    reconcileIntervalMinutes: 0
    clockSkewSeconds: 5
tools:
  - { id: crm.contacts.read, system: crm, risk: read }
  - { id: crm.reports.read, system: crm, risk: read }
grantRules:
  - { id: sales-crm, when: [{ group: Sales }], tools: ["crm.*"] }
targets:
  - { id: receiver, kind: webhook, url: "${receiver.url}", secret: "file:./hook.secret", backoffMs: 50, maxAttempts: 50, allowPrivateNetwork: true }
`,
      { 'hook.secret': SECRET },
    );
    tether = await startTether({
      configPath,
      databaseUrl: database.url,
      redisUrl: redis.url,
      queuePrefix: uniquePrefix('e2e-ldap'),
      env: { LDAP_BIND_PASSWORD: READER_PASSWORD, TETHER_OUTBOX_RELAY_MS: '300', TETHER_OUTBOX_GRACE_MS: '500' },
    });
  }, 120_000);

  afterAll(async () => {
    const code = await tether?.stop();
    await receiver?.stop();
    await redis?.stop();
    await database?.drop();
    await slapd?.stop();
    expect(code).toBe(0);
  });

  it('polls the directory: the admin status and the source show the last success and its counts', async () => {
    const source = await waitFor(async () => {
      const response = await api('GET', '/sources/corp');
      return response.status === 200 && response.body.sync?.lastSuccessAt !== null && response.body.sync?.lastSuccessAt !== undefined ? response.body : undefined;
    }, { timeoutMs: 20_000, what: `a successful poll of the LDAP source\n${tether.output()}` });
    expect(source).toMatchObject({ id: 'corp', kind: 'ldap', displayName: 'Corp directory', sync: { lastError: null, held: null, cursor: { kind: 'time' } } });
    expect(source.sync.lastFullAt).not.toBeNull();
    const status = await api('GET', '/status');
    expect(status.status).toBe(200);
    const corp = status.body.sources.find((item: { id: string }) => item.id === 'corp');
    expect(corp.sync.lastSuccessAt).not.toBeNull();
    // The first run was the full load: 4 people, 4 groups and the service account were seen.
    const runs = await api('GET', '/sources/corp/runs?limit=100');
    const first = runs.body.items.at(-1);
    expect(first).toMatchObject({ mode: 'full', status: 'succeeded', counts: { seen: 9, deleted: 0 } });
    expect(first.counts.changed).toBeGreaterThanOrEqual(9);
    // Then the delta polls, one a second.
    await waitFor(async () => (await api('GET', '/sources/corp/runs?limit=5')).body.items.some((item: { mode: string; status: string }) => item.mode === 'delta' && item.status === 'succeeded'), {
      timeoutMs: 10_000, what: 'a delta poll',
    });
    // Runs and queue depths are in /metrics for Prometheus.
    const metrics = await fetch(`${tether.url}/metrics`).then((response) => response.text());
    expect(metrics).toMatch(/tether_directory_sync_runs_total\{mode="full",result="succeeded"\} [1-9]/);
    expect(metrics).toMatch(/tether_directory_sync_runs_total\{mode="delta",result="succeeded"\} [1-9]/);
    expect(metrics).toMatch(/tether_directory_sync_entries_total\{mode="full",kind="seen"\} (9|[1-9]\d+)/);
    expect(metrics).toMatch(/tether_queue_jobs\{queue="recompute",state="waiting"\} \d+/);
  });

  it('a directory service account with a manager becomes an agent sponsored by that person', async () => {
    const agents = await waitFor(async () => {
      const response = await api('GET', '/agents');
      return response.body.items.some((item: { name: string }) => item.name === 'svc-reports') ? response.body.items : undefined;
    }, { what: 'the directory agent' });
    const directoryAgent = agents.find((item: { name: string }) => item.name === 'svc-reports');
    expect(directoryAgent).toMatchObject({ state: 'active', environment: 'production' });
    const detail = await api('GET', `/agents/${directoryAgent.id}`);
    expect(detail.body).toMatchObject({ purpose: 'Builds the weekly sales report', sponsor: { sourceId: 'corp', userName: 'alice' }, requestedTools: ['crm.reports.read'] });
    await waitFor(async () => receiver.latestFor(directoryAgent.id), { what: 'a delivery for the directory agent' });
    expect(toolsOf(receiver.latestFor(directoryAgent.id)!)).toEqual(['crm.reports.read']);
  });

  it('an agent registered through the admin API for an LDAP person gets its grant delivered', async () => {
    const registered = await api('POST', '/agents', {
      name: 'contacts-bot',
      purpose: 'Answers questions about customer contacts',
      environment: 'production',
      sponsor: { sourceId: 'corp', userName: 'alice' },
      requestedTools: ['crm.contacts.read'],
      delegation: { approver: 'security@example.org', justification: 'LDAP end-to-end test' },
    });
    expect(registered.status).toBe(201);
    agentId = registered.body.id;
    const delivery = await deliveryAfter(0, 15_000);
    expect(toolsOf(delivery)).toEqual(['crm.contacts.read']);
    expect(delivery.payload.data.effective[0]?.provenance).toMatchObject({ ruleId: 'sales-crm', via: { kind: 'group', groupName: 'Sales' } });
  });

  it('removing the person from the LDAP group revokes within a poll interval', async () => {
    const before = latestVersion();
    const sent = Date.now();
    // groupOfNames needs a member: bob joins as alice leaves.
    await slapd.modify(`dn: cn=Sales,${GROUPS}\nchangetype: modify\nadd: member\nmember: uid=bob,${PEOPLE}\n-\ndelete: member\nmember: uid=alice,${PEOPLE}\n`);
    const delivery = await deliveryAfter(before, WITHIN_A_POLL);
    expect(Date.now() - sent).toBeLessThan(WITHIN_A_POLL);
    expect(toolsOf(delivery)).toEqual([]);
    expect(delivery.payload.data.revoked).toEqual(['crm.contacts.read']);
  });

  it('adding the person back grants again; locking the account revokes everything', async () => {
    let before = latestVersion();
    await slapd.modify(`dn: cn=Sales,${GROUPS}\nchangetype: modify\nadd: member\nmember: uid=alice,${PEOPLE}\n`);
    expect(toolsOf(await deliveryAfter(before, WITHIN_A_POLL))).toEqual(['crm.contacts.read']);

    before = latestVersion();
    const sent = Date.now();
    await slapd.modify(`dn: uid=alice,${PEOPLE}\nchangetype: modify\nreplace: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n`);
    const delivery = await deliveryAfter(before, WITHIN_A_POLL);
    expect(Date.now() - sent).toBeLessThan(WITHIN_A_POLL);
    expect(toolsOf(delivery)).toEqual([]);
    expect(delivery.payload.data.revoked).toEqual(['crm.contacts.read']);
    const person = await api('GET', `/agents/${agentId}`);
    expect(person.body.sponsor).toMatchObject({ userName: 'alice', active: false });
  });

  it('POST /sources/{id}/reconcile queues a full reconciliation that runs', async () => {
    const before = (await api('GET', '/sources/corp/runs?limit=1')).body.items[0].id as number;
    const queued = await api('POST', '/sources/corp/reconcile');
    expect(queued.status).toBe(202);
    const full = await waitFor(async () => {
      const runs = (await api('GET', '/sources/corp/runs?limit=20')).body.items as { id: number; mode: string; status: string; trigger: string }[];
      return runs.find((item) => item.id > before && item.mode === 'full' && item.status === 'succeeded');
    }, { timeoutMs: 20_000, what: 'the queued full reconciliation' });
    expect(full.trigger).toMatch(/^admin_token:/);
  });

  it('tether reconcile <source> --wait (the CLI) queues a full reconciliation and waits for a finished run', async () => {
    const before = (await api('GET', '/sources/corp/runs?limit=1')).body.items[0].id as number;
    const { stdout } = await run(process.execPath, [CLI, 'reconcile', 'corp', '--wait', '--timeout', '60'], {
      env: { PATH: process.env['PATH'] ?? '', TETHER_URL: tether.url, TETHER_TOKEN: tether.adminToken },
      timeout: 90_000,
    });
    expect(stdout).toContain('reconciliation of corp queued');
    expect(stdout).toMatch(/run \d+ \((full|delta)\): succeeded; seen \d+, changed \d+, deleted 0, deactivated 0/);
    // Polls run every second beside it, so the line above may be a poll's; the full run itself must follow.
    const full = await waitFor(async () => {
      const runs = (await api('GET', '/sources/corp/runs?limit=50')).body.items as { id: number; mode: string; status: string; trigger: string; counts: { seen: number } }[];
      return runs.find((item) => item.id > before && item.mode === 'full' && item.status === 'succeeded');
    }, { timeoutMs: 20_000, what: 'the CLI\'s full reconciliation' });
    expect(full).toMatchObject({ trigger: expect.stringMatching(/^admin_token:/), counts: { seen: 9 } });
  });
});
