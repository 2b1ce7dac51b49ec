import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAgent } from '../../src/app/agents/register-agent.js';
import { changeGroup, createGroup } from '../../src/app/directory/groups.js';
import { createPerson, updatePerson } from '../../src/app/directory/people.js';
import { explainAgentTool } from '../../src/app/governance/explain.js';
import { decideGrant, listGrants } from '../../src/app/governance/grants.js';
import { DEFAULT_GOVERNANCE_POLICY } from '../../src/app/governance/policy.js';
import { reassignAgent, suspendOverdueReassignments } from '../../src/app/governance/reassign.js';
import { runWhatIf } from '../../src/app/governance/what-if.js';
import { deliverVersion } from '../../src/app/pipeline/deliver.js';
import { recomputeSponsor } from '../../src/app/pipeline/recompute-sponsor.js';
import type { Policy } from '../../src/app/ports.js';
import type { Store } from '../../src/store/index.js';
import { governanceRoutes } from '../../src/http/api/governance-routes.js';
import { buildOpenApi } from '../../src/http/api/openapi.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { RecordingQueue, RecordingTarget, scimContext, silentLogger, storeWithPolicy } from '../support/pipeline.js';

/**
 * Delegation governance on real PostgreSQL, driving the use cases by hand (the model-based test runs the same
 * rules through BullMQ workers): asymmetric growth with confirmation, succession, explain and what-if.
 */
describe('delegation governance', () => {
  let database: TestDatabase;
  let store: Store;
  let policy: Policy;
  const queue = new RecordingQueue();
  const target = new RecordingTarget('t1');
  // Real time (membership history is stamped by PostgreSQL's clock), plus an offset to jump past grace periods.
  let offsetMs = 0;
  const clock = () => new Date(Date.now() + offsetMs);
  const governance = { ...DEFAULT_GOVERNANCE_POLICY, reassignmentGraceMs: 60_000 };

  const base = () => ({ store, queue, clock, logger: silentLogger });
  const recompute = (personId: string) => recomputeSponsor({ ...base(), policy: () => policy, governance: () => governance, targetIds: () => ['t1'] }, personId);
  const deliver = (agentId: string, version: number) => deliverVersion({ store, connectors: new Map([['t1', target]]), clock, logger: silentLogger }, 't1', agentId, version);
  const explain = (agentId: string, tool: string, at: Date | null = null) => explainAgentTool({ store, clock, targetIds: () => ['t1'] }, agentId, tool, at);
  const held = async (agentId: string) => (await store.readModels.getAgent(agentId))?.effective.map((entitlement) => entitlement.toolId) ?? [];
  const person = (userName: string, attributes: Record<string, string> = {}) =>
    createPerson(base(), scimContext(), { userName, externalId: null, displayName: null, active: true, attributes, resource: { userName } });
  const setActive = (id: string, active: boolean) => updatePerson(base(), scimContext(), id, (current) => ({ ...current, active }), null);
  const agentFor = (sponsorId: string, name: string, backups: string[] = []) =>
    registerAgent({ ...base(), policy: () => policy }, { type: 'system', id: 'test' }, {
      name, purpose: 'test', environment: 'production', sponsor: { id: sponsorId }, backupSponsors: backups.map((id) => ({ id })), owner: null,
      requestedTools: ['crm.contacts.read', 'crm.contacts.write', 'ops.dispatch'], expiresAt: null,
      delegation: { approver: 'approver@example.com', justification: 'test', tools: null, targetSystems: [], notBefore: null, expiresAt: null },
    });
  const tick = (ms = 20) => new Promise((done) => setTimeout(done, ms));

  let salesId: string;
  let opsId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    ({ store, policy } = await storeWithPolicy(database.db));
    salesId = (await createGroup(base(), scimContext(), { displayName: 'Sales', externalId: null, resource: {} }, [])).id;
    opsId = (await createGroup(base(), scimContext(), { displayName: 'Ops', externalId: null, resource: {} }, [])).id;
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('mover: read growth applies, orchestrate growth waits for confirmation, then takes effect in a new version', async () => {
    const sponsor = await person('mona');
    await changeGroup(base(), scimContext(), salesId, { addMemberIds: [sponsor.id] }, null);
    const agent = await agentFor(sponsor.id, 'mover-bot');
    await recompute(sponsor.id);
    expect(await held(agent.id)).toEqual(['crm.contacts.read', 'crm.contacts.write']);
    await deliver(agent.id, 1);
    const registeredAt = clock();
    await tick();

    await changeGroup(base(), scimContext(), opsId, { addMemberIds: [sponsor.id] }, null);
    const moved = await recompute(sponsor.id);
    expect(moved.versions).toEqual([]);
    const [grant, ...others] = await listGrants({ ...base(), store }, agent.id, ['pending']);
    expect(others).toEqual([]);
    expect(grant).toMatchObject({ toolId: 'ops.dispatch', risk: 'orchestrate', sponsorId: sponsor.id, entitlement: { provenance: { ruleId: 'ops', via: { groupName: 'Ops' } } } });
    expect((await explain(agent.id, 'ops.dispatch')).denial?.reason).toBe('pending_confirmation');
    await tick();

    const confirmed = await decideGrant({ ...base(), store }, 'admin_token:t', agent.id, grant?.id ?? '', 'confirmed');
    expect(confirmed.status).toBe('confirmed');
    await expect(decideGrant({ ...base(), store }, 'admin_token:t', agent.id, grant?.id ?? '', 'rejected')).rejects.toMatchObject({ code: 'precondition_failed' });
    expect(queue.recomputes.at(-1)).toBe(sponsor.id);
    const applied = await recompute(sponsor.id);
    expect(applied.versions).toEqual([{ agentId: agent.id, version: 2, granted: 1, revoked: 0 }]);
    expect(await held(agent.id)).toEqual(['crm.contacts.read', 'crm.contacts.write', 'ops.dispatch']);
    await deliver(agent.id, 2);
    expect(await listGrants({ ...base(), store }, agent.id, ['applied'])).toHaveLength(1);

    const why = await explain(agent.id, 'ops.dispatch');
    expect(why.granted).toBe(true);
    expect(why.chain.map((link) => link.kind)).toEqual(['sponsor_group', 'grant_rule', 'delegation', 'confirmation', 'version', 'target']);
    expect(why.chain).toContainEqual(expect.objectContaining({ kind: 'target', targetId: 't1', version: 2 }));
    const read = await explain(agent.id, 'crm.contacts.read');
    expect(read.chain[0]).toMatchObject({ kind: 'directory_change', changeKind: 'agent_registered' });
    expect(read.chain).toContainEqual(expect.objectContaining({ kind: 'sponsor_group', groupName: 'Sales', direct: true }));
    expect(read.chain).toContainEqual(expect.objectContaining({ kind: 'delegation', approver: 'approver@example.com' }));
    expect((await explain(agent.id, 'ops.dispatch', registeredAt)).denial?.reason).toBe('not_covered');
    expect((await explain(agent.id, 'hr.nothing')).denial?.reason).toBe('not_requested');

    // An instant while the sponsor was still in Ops (taken before, not computed back from after: the removal
    // and recompute may take any time on a loaded machine).
    const beforeRemoval = clock();
    await tick();
    await changeGroup(base(), scimContext(), opsId, { removeMemberIds: [sponsor.id] }, null);
    await recompute(sponsor.id);
    expect(await held(agent.id)).toEqual(['crm.contacts.read', 'crm.contacts.write']);
    const past = await explain(agent.id, 'ops.dispatch', beforeRemoval);
    expect(past.granted).toBe(true);
    expect(past.chain).toContainEqual(expect.objectContaining({ kind: 'sponsor_group', groupName: 'Ops', direct: true }));
  });

  it('leaver with a backup: everything goes at once, the backup takes over with write growth pending', async () => {
    const leaver = await person('lena');
    const backup = await person('bert');
    await changeGroup(base(), scimContext(), salesId, { addMemberIds: [leaver.id, backup.id] }, null);
    const agent = await agentFor(leaver.id, 'leaver-bot', [backup.id]);
    await recompute(leaver.id);
    await tick();
    await setActive(leaver.id, false);
    const revoked = await recompute(leaver.id);
    expect(revoked.versions).toEqual([{ agentId: agent.id, version: 2, granted: 0, revoked: 2 }]);
    const view = await store.readModels.getAgent(agent.id);
    expect(view).toMatchObject({ state: 'active', sponsor: { id: backup.id }, backupSponsorIds: [], effective: [], reason: 'sponsor_inactive' });
    expect(queue.recomputes.at(-1)).toBe(backup.id);
    await recompute(backup.id);
    expect(await held(agent.id)).toEqual(['crm.contacts.read']);
    expect((await listGrants({ ...base(), store }, agent.id, ['pending'])).map((grant) => grant.toolId)).toEqual(['crm.contacts.write']);
  });

  it('a successor recomputed under its leaver\'s event keeps the rights of its own agents', async () => {
    const leaver = await person('lou');
    const successor = await person('sue');
    await changeGroup(base(), scimContext(), salesId, { addMemberIds: [leaver.id, successor.id] }, null);
    const inherited = await agentFor(leaver.id, 'inherited-bot', [successor.id]);
    const own = await agentFor(successor.id, 'own-bot');
    await recompute(leaver.id);
    await recompute(successor.id);
    expect(await held(own.id)).toEqual(['crm.contacts.read', 'crm.contacts.write']);
    await tick();
    await setActive(leaver.id, false);
    await recompute(leaver.id);
    // The successor's recompute carries the leaver's change event: only the inherited agent starts over.
    await recompute(successor.id);
    expect(await held(inherited.id)).toEqual(['crm.contacts.read']);
    expect(await held(own.id)).toEqual(['crm.contacts.read', 'crm.contacts.write']);
    expect((await listGrants({ ...base(), store }, own.id, ['pending']))).toEqual([]);
  });

  it('leaver without a backup: pending reassignment with the manager proposed; a comeback restores accountability, not rights', async () => {
    const manager = await person('maria');
    const leaver = await person('leo', { manager: manager.id });
    await changeGroup(base(), scimContext(), salesId, { addMemberIds: [leaver.id, manager.id] }, null);
    const agent = await agentFor(leaver.id, 'orphan-bot');
    await recompute(leaver.id);
    await tick();

    const report = await runWhatIf({ store, clock, policy: () => policy, governance: () => governance }, { kind: 'sponsor_leaves', personId: leaver.id });
    expect(report.agents).toEqual([expect.objectContaining({
      agentId: agent.id, lose: ['crm.contacts.read', 'crm.contacts.write'], gain: [],
      reassignment: expect.objectContaining({ kind: 'pending_reassignment', proposal: { sponsorId: manager.id, path: [manager.id], outcome: 'found' } }),
    })]);
    expect(await held(agent.id)).toHaveLength(2);

    await setActive(leaver.id, false);
    await recompute(leaver.id);
    const waiting = await database.db.query<{ state: string; succession: { proposal: { sponsorId: string } } }>('select state, succession from agents where id = $1', [agent.id]);
    expect(waiting.rows[0]).toMatchObject({ state: 'pending_reassignment', succession: { proposal: { sponsorId: manager.id } } });
    expect(await held(agent.id)).toEqual([]);

    await tick();
    await setActive(leaver.id, true);
    await recompute(leaver.id);
    expect((await store.readModels.getAgent(agent.id))?.state).toBe('active');
    expect(await held(agent.id)).toEqual(['crm.contacts.read']);
    expect((await listGrants({ ...base(), store }, agent.id, ['pending'])).map((grant) => grant.toolId)).toEqual(['crm.contacts.write']);

    await tick();
    await setActive(leaver.id, false);
    await recompute(leaver.id);
    expect(await suspendOverdueReassignments({ store, clock, logger: silentLogger })).toBe(0);
    offsetMs += governance.reassignmentGraceMs;
    expect(await suspendOverdueReassignments({ store, clock, logger: silentLogger })).toBe(1);
    expect((await store.readModels.getAgent(agent.id))?.state).toBe('suspended');
    expect((await listGrants({ ...base(), store }, agent.id, ['withdrawn'])).length).toBeGreaterThan(0);

    await expect(reassignAgent(base(), 'admin_token:t', agent.id, { id: leaver.id })).rejects.toMatchObject({ code: 'invalid_input' });
    await reassignAgent(base(), 'admin_token:t', agent.id, { id: manager.id });
    expect(await store.readModels.getAgent(agent.id)).toMatchObject({ state: 'active', sponsor: { id: manager.id } });
    await recompute(manager.id);
    expect(await held(agent.id)).toEqual(['crm.contacts.read']);
    const audit = await database.db.query<{ action: string }>(`select action from audit_log where subject_id = $1 order by seq`, [agent.id]);
    expect(audit.rows.map((row) => row.action)).toEqual(expect.arrayContaining(['agent.pending_reassignment', 'agent.sponsor_restored', 'agent.suspended', 'agent.reassigned', 'grant.pending']));
  });

  it('what-if: a mover and a rule edit, computed without changing anything', async () => {
    const sponsor = await person('wanda');
    await changeGroup(base(), scimContext(), salesId, { addMemberIds: [sponsor.id] }, null);
    const agent = await agentFor(sponsor.id, 'whatif-bot');
    await recompute(sponsor.id);
    const versionBefore = (await store.readModels.getAgent(agent.id))?.version;
    const deps = { store, clock, policy: () => policy, governance: () => governance };
    const moves = await runWhatIf(deps, { kind: 'sponsor_moves', personId: sponsor.id, leaveGroups: ['sales'], joinGroups: ['Ops'] });
    expect(moves.agents).toEqual([{ agentId: agent.id, sponsorId: sponsor.id, lose: ['crm.contacts.read', 'crm.contacts.write'], gain: [], pending: ['ops.dispatch'], reassignment: null }]);
    const edit = await runWhatIf(deps, { kind: 'rule_edited', rule: { id: 'sales', when: [{ kind: 'group', group: 'Sales' }], tools: ['crm.contacts.read'] } });
    expect(edit.agents).toContainEqual(expect.objectContaining({ agentId: agent.id, lose: ['crm.contacts.write'], gain: [] }));
    expect((await store.readModels.getAgent(agent.id))?.version).toBe(versionBefore);
  });

  it('the admin API routes validate and serve the use cases, and the OpenAPI document describes them', async () => {
    const api = {
      grants: { ...base(), store },
      sponsorship: base(),
      explain: { store, clock, targetIds: () => ['t1'] },
      whatIf: { store, clock, policy: () => policy, governance: () => governance },
    };
    const routes = governanceRoutes(api);
    const document = buildOpenApi(routes, { version: 'test' }) as { paths: Record<string, Record<string, { 'x-required-role': string }>> };
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining([
      '/agents/{id}/pending-grants', '/agents/{id}/pending-grants/{grantId}/confirm', '/agents/{id}/pending-grants/{grantId}/reject',
      '/agents/{id}/reassign', '/agents/{id}/explain', '/what-if',
    ]));
    expect(document.paths['/agents/{id}/pending-grants/{grantId}/confirm']?.['post']?.['x-required-role']).toBe('operator');
    const sponsor = await person('hugo');
    await changeGroup(base(), scimContext(), salesId, { addMemberIds: [sponsor.id] }, null);
    const agent = await agentFor(sponsor.id, 'http-bot');
    await recompute(sponsor.id);
    const explainRoute = routes.find((route) => route.operationId === 'explainTool');
    const answer = await explainRoute?.handle({ params: { id: agent.id }, query: { tool: 'crm.contacts.read' }, body: undefined, request: {} as never });
    expect(answer).toMatchObject({ status: 200, body: { granted: true, toolId: 'crm.contacts.read' } });
    const whatIfRoute = routes.find((route) => route.operationId === 'whatIf');
    const predicted = await whatIfRoute?.handle({ params: {}, query: {}, body: { kind: 'sponsor_leaves', personId: sponsor.id }, request: {} as never });
    expect(predicted).toMatchObject({ status: 200, body: { agents: [expect.objectContaining({ agentId: agent.id, reassignment: expect.objectContaining({ kind: 'pending_reassignment' }) })] } });
  });
});
