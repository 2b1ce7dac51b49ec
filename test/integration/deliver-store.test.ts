import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAgent } from '../../src/app/agents/register-agent.js';
import { changeGroup, createGroup } from '../../src/app/directory/groups.js';
import { createPerson } from '../../src/app/directory/people.js';
import { deliverVersion } from '../../src/app/pipeline/deliver.js';
import { recomputeSponsor } from '../../src/app/pipeline/recompute-sponsor.js';
import type { Policy } from '../../src/app/ports.js';
import type { Db } from '../../src/store/db.js';
import type { Store } from '../../src/store/index.js';
import { RecordingQueue, RecordingTarget, scimContext, silentLogger, storeWithPolicy } from '../support/pipeline.js';
import { STORE_ENGINES } from '../support/engines.js';

/** A delivery's one-statement bookkeeping, on a PostgreSQL server and on embedded PGlite. */

describe.each(STORE_ENGINES)('delivery on %s', (_engine, open) => {
  let db: Db;
  let cleanup: () => Promise<void>;
  let store: Store;
  let policy: Policy;
  const queue = new RecordingQueue();
  const target = new RecordingTarget('t1');
  const clock = () => new Date();
  const base = () => ({ store, queue, clock, logger: silentLogger });
  const delivered: number[] = [];
  const deliver = (agentId: string, version: number) => deliverVersion({
    store, connectors: new Map([['t1', target]]), clock, logger: silentLogger, onDelivered: (_target, seconds) => delivered.push(seconds),
  }, 't1', agentId, version);

  beforeAll(async () => {
    ({ db, cleanup } = await open());
    ({ store, policy } = await storeWithPolicy(db));
  });

  afterAll(async () => {
    await cleanup?.();
  });

  it('records the applied version, the events it delivered and one audit entry, once', async () => {
    const person = await createPerson(base(), scimContext(), { userName: 'dee', externalId: null, displayName: null, active: true, attributes: {}, resource: {} });
    const group = await createGroup(base(), scimContext(), { displayName: 'Sales', externalId: null, resource: {} }, [person.id]);
    const agent = await registerAgent({ ...base(), policy: () => policy }, { type: 'system', id: 'test' }, {
      name: 'dee-bot', purpose: 'test', environment: 'production', sponsor: { id: person.id }, backupSponsors: [], owner: null,
      requestedTools: ['crm.contacts.read'], expiresAt: null,
      delegation: { approver: 'approver', justification: 'test', tools: null, targetSystems: [], notBefore: null, expiresAt: null },
    });
    await recomputeSponsor({ ...base(), policy: () => policy, targetIds: () => ['t1'] }, person.id);
    await changeGroup(base(), scimContext(), group.id, { removeMemberIds: [person.id] }, null);
    await recomputeSponsor({ ...base(), policy: () => policy, targetIds: () => ['t1'] }, person.id);

    expect(await deliver(agent.id, 1)).toBe('superseded');
    expect(await deliver(agent.id, 2)).toBe('applied');
    expect(await deliver(agent.id, 2)).toBe('already_applied');
    expect(target.applied.map((request) => [request.version, request.granted, request.revoked])).toEqual([[2, [], []]]);

    const deliveries = await db.query<{ version: number; revocation: boolean; kind: string }>(
      `select d.version, d.revocation, e.kind from event_deliveries d join change_events e on e.id = d.change_event_id where d.agent_id = $1 order by e.received_at`, [agent.id],
    );
    // Versions 1 and 2 both reached the target with version 2: every change event behind them is delivered.
    expect(deliveries.rows.length).toBeGreaterThanOrEqual(2);
    expect(deliveries.rows.every((row) => row.version <= 2)).toBe(true);
    expect(delivered).toHaveLength(deliveries.rows.length);
    const audits = await db.query<{ detail: { version: number; targetId: string } }>(
      `select detail from audit_log where action = 'entitlements.applied' and subject_id = $1`, [agent.id],
    );
    expect(audits.rows.map((row) => row.detail)).toEqual([{ targetId: 't1', version: 2, granted: [], revoked: [] }]);
    const pushes = await db.query<{ n: number }>(`select count(*)::int as n from outbox where kind = 'push' and agent_id = $1 and done_at is null`, [agent.id]);
    expect(pushes.rows[0]?.n).toBe(0);
    const state = await db.query<{ applied_version: number }>(`select applied_version from target_states where agent_id = $1 and target_id = 't1'`, [agent.id]);
    expect(state.rows).toEqual([{ applied_version: 2 }]);
  });
});
