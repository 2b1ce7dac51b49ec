import { describe, expect, it } from 'vitest';
import { DEFAULT_GROWTH_CONFIRMATION } from '../../../src/domain/growth.js';
import { planAgent, type AgentPlanInput } from '../../../src/app/pipeline/recompute-plan.js';
import type { EntitlementVersionRecord } from '../../../src/app/records.js';
import { NOW, OPEN_CEILINGS, agent, catalogOf, sponsor, tool } from '../domain/arbitraries.js';

const policy = {
  catalog: catalogOf([tool('crm.contacts.read'), tool('crm.contacts.write', 'write')]),
  rules: [{ id: 'r-sales', version: 1, when: [{ kind: 'group' as const, group: 'sales' }], tools: ['crm.*'] }],
  ceilings: OPEN_CEILINGS,
};
const pending = { outboxIds: [7], changeEventIds: ['e-1', 'e-2'], changeKinds: ['mover'], leaverIds: [] };

function run(overrides: Partial<AgentPlanInput> = {}) {
  return planAgent({
    snapshot: agent({ requestedTools: ['crm.contacts.read', 'crm.contacts.write'] }), currentVersion: 0, latest: null, grants: [],
    sponsor: sponsor(), sponsorId: 'p-1', pending, startsOver: false, growthPolicy: DEFAULT_GROWTH_CONFIRMATION, policy, now: NOW, ...overrides,
  });
}

/** The version an agent holds after `plan` committed. */
function held(plan: ReturnType<typeof run>): EntitlementVersionRecord {
  if (plan.version === null) throw new Error('no version');
  return plan.version.record;
}

describe('planAgent', () => {
  it('first version: everything covered applies, under the latest change event, compare-and-set from the current version', () => {
    const plan = run();
    expect(plan.version).toMatchObject({ expected: 0, changeEventId: 'e-2', granted: 2, revoked: 0 });
    expect(held(plan)).toMatchObject({ agentId: 'a-1', version: 1, sponsorId: 'p-1', reason: 'mover', changeEventIds: ['e-1', 'e-2'], computedAt: NOW });
    expect(plan.audit.map((entry) => entry.action)).toEqual(['entitlements.changed']);
    expect(plan.newGrants).toEqual([]);
  });

  it('a version moves the SCIM-visible rights (and so the agent\'s ETag) only when the tools it lists change', () => {
    expect(run().version?.shownChanged).toBe(true);
    const latest = held(run());
    expect(run({ currentVersion: 1, latest, sponsor: sponsor({ active: false }) }).version?.shownChanged).toBe(true);
    // A first version that grants nothing is a version (the push says so) but shows nothing new.
    expect(run({ sponsor: sponsor({ active: false }) }).version).toMatchObject({ expected: 0, shownChanged: false });
  });

  it('no version when nothing changed', () => {
    const latest = held(run());
    expect(run({ currentVersion: 1, latest })).toEqual({ version: null, newGrants: [], applied: [], withdrawn: [], audit: [] });
  });

  it('a leaver revokes everything at once with the blanket reason', () => {
    const latest = held(run());
    const plan = run({ currentVersion: 1, latest, sponsor: sponsor({ active: false }) });
    expect(plan.version).toMatchObject({ expected: 1, granted: 0, revoked: 2 });
    expect(held(plan)).toMatchObject({ version: 2, entitlements: [], reason: 'sponsor_inactive' });
  });

  it('after starting over, write growth waits as a pending grant, audited before the version', () => {
    const latest = held(run());
    const plan = run({ currentVersion: 1, latest, startsOver: true });
    expect(plan.newGrants.map((entitlement) => entitlement.toolId)).toEqual(['crm.contacts.write']);
    expect(plan.audit.map((entry) => entry.action)).toEqual(['grant.pending', 'entitlements.changed']);
    expect(held(plan).entitlements.map((entitlement) => entitlement.toolId)).toEqual(['crm.contacts.read']);
    expect(held(plan).denied).toContainEqual({ toolId: 'crm.contacts.write', reason: 'pending_confirmation' });
  });

  it('a confirmed grant applies and an open grant of another sponsor is withdrawn', () => {
    const start = held(run({ startsOver: true, latest: null, snapshot: agent({ requestedTools: ['crm.contacts.read'] }) }));
    const grants = [
      { id: 'g-ok', toolId: 'crm.contacts.write', sponsorId: 'p-1', status: 'confirmed' as const },
      { id: 'g-old', toolId: 'crm.contacts.read', sponsorId: 'p-0', status: 'pending' as const },
    ];
    const plan = run({ currentVersion: 1, latest: { ...start, denied: [{ toolId: 'crm.contacts.write', reason: 'pending_confirmation' }] }, grants });
    expect(plan.applied).toEqual(['g-ok']);
    expect(plan.withdrawn).toEqual(['g-old']);
    expect(plan.version).toMatchObject({ granted: 1, revoked: 0 });
  });
});
