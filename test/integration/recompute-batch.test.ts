import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAgent } from '../../src/app/agents/register-agent.js';
import { changeGroup, createGroup } from '../../src/app/directory/groups.js';
import { createPerson, updatePerson } from '../../src/app/directory/people.js';
import { recomputeBatcher } from '../../src/app/pipeline/recompute-batcher.js';
import { recomputeSponsor, recomputeSponsors, type RecomputeDeps, type RecomputeTx } from '../../src/app/pipeline/recompute-sponsor.js';
import type { Policy } from '../../src/app/ports.js';
import type { Db } from '../../src/store/db.js';
import type { Store } from '../../src/store/index.js';
import { RecordingQueue, scimContext, silentLogger, storeWithPolicy } from '../support/pipeline.js';
import { STORE_ENGINES } from '../support/engines.js';

/** Several sponsors recomputed in one transaction, on a PostgreSQL server and on embedded PGlite. */

describe.each(STORE_ENGINES)('batched recompute on %s', (_engine, open) => {
  let db: Db;
  let cleanup: () => Promise<void>;
  let store: Store;
  let policy: Policy;
  let salesId: string;
  const queue = new RecordingQueue();
  const clock = () => new Date();
  const base = () => ({ store, queue, clock, logger: silentLogger });
  const deps = (): RecomputeDeps => ({ ...base(), policy: () => policy, targetIds: () => ['t1'] });

  beforeAll(async () => {
    ({ db, cleanup } = await open());
    ({ store, policy } = await storeWithPolicy(db));
    salesId = (await createGroup(base(), scimContext(), { displayName: 'Sales', externalId: null, resource: {} }, [])).id;
  });

  afterAll(async () => {
    await cleanup?.();
  });

  async function sponsor(userName: string, backupSponsorIds: string[] = [], agents = 1) {
    const person = await createPerson(base(), scimContext(), { userName, externalId: null, displayName: null, active: true, attributes: {}, resource: { userName } });
    await changeGroup(base(), scimContext(), salesId, { addMemberIds: [person.id] }, null);
    const agentIds: string[] = [];
    for (let index = 0; index < agents; index += 1) {
      const agent = await registerAgent({ ...base(), policy: () => policy }, { type: 'system', id: 'test' }, {
        name: `${userName}-bot-${index}`, purpose: 'test', environment: 'production', sponsor: { id: person.id }, backupSponsors: backupSponsorIds.map((id) => ({ id })),
        owner: null, requestedTools: ['crm.contacts.read', 'crm.contacts.write'], expiresAt: null,
        delegation: { approver: 'approver', justification: 'test', tools: null, targetSystems: [], notBefore: null, expiresAt: null },
      });
      agentIds.push(agent.id);
    }
    return { personId: person.id, agentIds };
  }

  const pendingRecomputes = async (personId: string) =>
    (await db.query<{ n: number }>(`select count(*)::int as n from outbox where kind = 'recompute' and person_id = $1 and done_at is null`, [personId])).rows[0]?.n;
  const uncomputedEvents = async (personId: string) =>
    (await db.query<{ n: number }>(
      `select count(*)::int as n from change_events e join outbox o on o.change_event_id = e.id where o.person_id = $1 and e.computed_at is null`, [personId],
    )).rows[0]?.n;
  const versionAudits = async (agentId: string) =>
    (await db.query<{ version: number }>(
      `select (detail ->> 'version')::int as version from audit_log where action = 'entitlements.changed' and subject_id = $1 order by seq`, [agentId],
    )).rows.map((row) => row.version);

  it('commits every sponsor of the batch as one at a time would', async () => {
    const ann = await sponsor('ann');
    const bob = await sponsor('bob', [], 2);
    const cid = await sponsor('cid');
    const pushesBefore = queue.pushes.length;
    const results = await recomputeSponsors(deps(), [ann.personId, bob.personId, cid.personId, ann.personId]);
    expect(results.map((result) => result.agents)).toEqual([1, 2, 1, 1]);
    expect(results[0]?.versions).toEqual([{ agentId: ann.agentIds[0], version: 1, granted: 2, revoked: 0 }]);
    expect(results[1]?.versions.map((version) => version.agentId).sort()).toEqual([...bob.agentIds].sort());
    expect(queue.pushes.slice(pushesBefore)).toHaveLength(4);
    for (const { personId, agentIds } of [ann, bob, cid]) {
      expect(await pendingRecomputes(personId)).toBe(0);
      expect(await uncomputedEvents(personId)).toBe(0);
      for (const agentId of agentIds) expect(await versionAudits(agentId)).toEqual([1]);
    }

    // One sponsor leaves the group (shrink), one is deactivated (leaver, no backup), one is unchanged.
    await changeGroup(base(), scimContext(), salesId, { removeMemberIds: [ann.personId] }, null);
    await updatePerson(base(), scimContext(), bob.personId, (current) => ({ ...current, active: false }), null);
    const again = await recomputeSponsors(deps(), [ann.personId, bob.personId, cid.personId]);
    expect(again[0]?.versions).toEqual([{ agentId: ann.agentIds[0], version: 2, granted: 0, revoked: 2 }]);
    expect(again[1]?.versions.map((version) => [version.version, version.revoked])).toEqual([[2, 2], [2, 2]]);
    expect(again[2]?.versions).toEqual([]);
    for (const agentId of bob.agentIds) {
      expect(await store.readModels.getAgent(agentId)).toMatchObject({ state: 'pending_reassignment', effective: [], reason: 'sponsor_inactive' });
    }
    expect(await pendingRecomputes(bob.personId)).toBe(0);
  });

  it('a sponsor in two jobs at once: the second run finds nothing pending and writes, audits and pushes nothing', async () => {
    const dup = await sponsor('dup');
    const auditRows = async () => (await db.query<{ n: number }>(`select count(*)::int as n from audit_log`)).rows[0]?.n;
    const versionRows = async () => (await db.query<{ n: number }>(`select count(*)::int as n from entitlement_versions`)).rows[0]?.n;
    const recompute = recomputeBatcher(deps(), { maxBatch: 8, maxInFlight: 2 });
    const pushesBefore = queue.pushes.length;
    const recomputesBefore = queue.recomputes.length;
    // Jobs carry no per-sponsor deduplication (jobs/bullmq.ts): the batcher runs the second one after the first.
    const [first, second] = await Promise.all([recompute(dup.personId), recompute(dup.personId)]);
    expect(first?.versions).toEqual([{ agentId: dup.agentIds[0], version: 1, granted: 2, revoked: 0 }]);
    expect(second).toEqual({ agents: 1, versions: [] });
    expect(queue.pushes.slice(pushesBefore)).toHaveLength(1);
    // And once more later, alone: nothing pending, nothing changed, nothing written or queued.
    const [audits, versions] = [await auditRows(), await versionRows()];
    expect(await recomputeSponsor(deps(), dup.personId)).toEqual({ agents: 1, versions: [] });
    expect([await auditRows(), await versionRows()]).toEqual([audits, versions]);
    expect(queue.pushes.slice(pushesBefore)).toHaveLength(1);
    expect(queue.recomputes.slice(recomputesBefore)).toEqual([]);
    expect(await versionAudits(dup.agentIds[0] as string)).toEqual([1]);
    expect(await pendingRecomputes(dup.personId)).toBe(0);
  });

  it('a handover inside a batch queues exactly one more recompute for the successor', async () => {
    const successor = await sponsor('sue');
    const leaver = await sponsor('leo', [successor.personId]);
    await recomputeSponsors(deps(), [successor.personId, leaver.personId]);
    await updatePerson(base(), scimContext(), leaver.personId, (current) => ({ ...current, active: false }), null);
    const recomputesBefore = queue.recomputes.length;
    const [forLeaver, forSuccessor] = await recomputeSponsors(deps(), [leaver.personId, successor.personId]);
    expect(forLeaver?.versions).toEqual([{ agentId: leaver.agentIds[0], version: 2, granted: 0, revoked: 2 }]);
    // Read before the handover committed: the successor's run in the same batch does not see the agent yet.
    expect(forSuccessor?.agents).toBe(1);
    expect(queue.recomputes.slice(recomputesBefore)).toEqual([successor.personId]);
    expect(await pendingRecomputes(successor.personId)).toBe(1);
    const next = await recomputeSponsor(deps(), successor.personId);
    expect(next.agents).toBe(2);
    // Write growth under the new sponsor waits for confirmation; read applies at once.
    expect(next.versions).toEqual([{ agentId: leaver.agentIds[0], version: 3, granted: 1, revoked: 0 }]);
    expect(await pendingRecomputes(successor.personId)).toBe(0);
  });

  it('a lost compare-and-set rolls the batch back and fails only its own sponsor', async () => {
    const first = await sponsor('fay');
    const victim = await sponsor('vic');
    const other = await sponsor('oli');
    const batches: number[] = [];
    // A concurrent writer advancing the victim's agent between the read and the write, on every attempt.
    const racing: RecomputeDeps['store'] = {
      transaction: (work) => store.transaction((tx) => work({
        ...tx,
        commitRecompute: (write) => {
          batches.push(write.versions.length);
          return tx.commitRecompute({ ...write, versions: write.versions.map((version) => (version.record.agentId === victim.agentIds[0] ? { ...version, expected: version.expected + 7 } : version)) });
        },
      } satisfies RecomputeTx)),
    };
    const recompute = recomputeBatcher({ ...deps(), store: racing }, { maxBatch: 8, maxInFlight: 1 });
    // The first flush starts at once with `first` alone; the other two wait and go together.
    const outcomes = await Promise.allSettled([first, victim, other].map(({ personId }) => recompute(personId)));
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(((outcomes[1] as PromiseRejectedResult).reason as { code?: string }).code).toBe('conflict');
    expect(batches.slice(0, 2)).toEqual([1, 2]);
    expect(await versionAudits(other.agentIds[0] as string)).toEqual([1]);
    expect(await pendingRecomputes(other.personId)).toBe(0);
    // Nothing of the victim's was written or marked done: its retry (without the race) still has its change.
    expect(await versionAudits(victim.agentIds[0] as string)).toEqual([]);
    expect(await pendingRecomputes(victim.personId)).toBeGreaterThan(0);
    const retried = await recomputeSponsor(deps(), victim.personId);
    expect(retried.versions).toEqual([{ agentId: victim.agentIds[0], version: 1, granted: 2, revoked: 0 }]);
    expect(await pendingRecomputes(victim.personId)).toBe(0);
  });
});
