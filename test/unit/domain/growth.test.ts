import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_GROWTH_CONFIRMATION, decideGrowth, newlyDelegatedTools, type GrowthInput, type OpenGrant } from '../../../src/domain/growth.js';
import { RISK_CLASSES, type Entitlement, type RiskClass } from '../../../src/domain/types.js';

function entitlement(toolId: string, risk: RiskClass): Entitlement {
  return { toolId, system: toolId.split('.')[0] ?? 'x', risk, provenance: { ruleId: 'r', ruleVersion: 1, via: { kind: 'group', groupId: 'g', groupName: 'G' }, delegationId: 'd' } };
}

const read = entitlement('crm.contacts.read', 'read');
const write = entitlement('crm.contacts.write', 'write');
const dispatch = entitlement('ops.dispatch', 'orchestrate');

function growth(overrides: Partial<GrowthInput> = {}) {
  return decideGrowth({
    previous: [], computed: [], initial: false, newlyDelegated: new Set(), sponsorId: 'p1', policy: DEFAULT_GROWTH_CONFIRMATION, grants: [], ...overrides,
  });
}

const ids = (list: readonly Entitlement[]) => list.map((item) => item.toolId);

describe('decideGrowth', () => {
  it('applies read growth at once and holds write/orchestrate growth as new pending grants', () => {
    const decision = growth({ computed: [read, write, dispatch] });
    expect(ids(decision.effective)).toEqual(['crm.contacts.read']);
    expect(ids(decision.pending)).toEqual(['crm.contacts.write', 'ops.dispatch']);
    expect(ids(decision.newPending)).toEqual(['crm.contacts.write', 'ops.dispatch']);
  });

  it('keeps what was held, and shrinks at once', () => {
    const decision = growth({ previous: [read, write], computed: [write] });
    expect(ids(decision.effective)).toEqual(['crm.contacts.write']);
    expect(decision.pending).toEqual([]);
  });

  it('applies everything in the first version and newly delegated tools: the delegation is the approval', () => {
    expect(ids(growth({ computed: [read, write, dispatch], initial: true }).effective)).toHaveLength(3);
    expect(ids(growth({ computed: [write], newlyDelegated: new Set([write.toolId]) }).effective)).toEqual([write.toolId]);
  });

  it('follows the per-risk policy', () => {
    const decision = growth({ computed: [read, write], policy: { read: true, write: false, orchestrate: true } });
    expect(ids(decision.effective)).toEqual(['crm.contacts.write']);
    expect(ids(decision.pending)).toEqual(['crm.contacts.read']);
  });

  it('applies a confirmed grant, keeps a pending or rejected one, withdraws what no longer fits', () => {
    const grants: OpenGrant[] = [
      { id: 'g1', toolId: write.toolId, sponsorId: 'p1', status: 'confirmed' },
      { id: 'g2', toolId: dispatch.toolId, sponsorId: 'p1', status: 'rejected' },
      { id: 'g3', toolId: 'hr.people.write', sponsorId: 'p1', status: 'pending' },
    ];
    const decision = growth({ computed: [write, dispatch], grants });
    expect(ids(decision.effective)).toEqual([write.toolId]);
    expect(decision.applied).toEqual(['g1']);
    expect(ids(decision.rejected)).toEqual([dispatch.toolId]);
    expect(decision.newPending).toEqual([]);
    expect(decision.withdrawn).toEqual(['g3']);
  });

  it('does not honour a confirmation given under another sponsor', () => {
    const decision = growth({ computed: [write], grants: [{ id: 'g1', toolId: write.toolId, sponsorId: 'old', status: 'confirmed' }] });
    expect(decision.effective).toEqual([]);
    expect(decision.withdrawn).toEqual(['g1']);
    expect(ids(decision.newPending)).toEqual([write.toolId]);
  });

  it('newlyDelegatedTools: tools the previous version neither held nor denied except for delegation', () => {
    const previous = { entitlements: [read], denied: [{ toolId: write.toolId, reason: 'not_covered' }, { toolId: dispatch.toolId, reason: 'not_delegated' }] };
    expect([...newlyDelegatedTools([read, write, dispatch, entitlement('crm.deals.write', 'write')], previous)].sort()).toEqual(['crm.deals.write', 'ops.dispatch']);
    expect(newlyDelegatedTools([read], null)).toEqual(new Set([read.toolId]));
  });
});

const TOOLS = ['a.read', 'b.read', 'c.write', 'd.write', 'e.run', 'f.run'];
const riskOf = (toolId: string): RiskClass => (toolId.endsWith('.read') ? 'read' : toolId.endsWith('.write') ? 'write' : 'orchestrate');
const setArb = fc.subarray(TOOLS).map((list) => list.map((toolId) => entitlement(toolId, riskOf(toolId))));
const policyArb = fc.record(Object.fromEntries(RISK_CLASSES.map((risk) => [risk, fc.boolean()])) as Record<RiskClass, fc.Arbitrary<boolean>>);
const grantsArb = fc.uniqueArray(
  fc.record({ toolId: fc.constantFrom(...TOOLS), sponsorId: fc.constantFrom('p1', 'p2'), status: fc.constantFrom('pending', 'confirmed', 'rejected' as const) }),
  { selector: (grant) => grant.toolId },
).map((list) => list.map((grant, index): OpenGrant => ({ ...grant, id: `g${index}` })));
const inputArb = fc.record({
  previous: setArb, computed: setArb, initial: fc.boolean(), newlyDelegated: fc.subarray(TOOLS).map((list) => new Set(list)),
  sponsorId: fc.constant('p1'), policy: policyArb, grants: grantsArb,
});

describe('decideGrowth properties', () => {
  it('never holds more than the sponsor covers, and every covered tool is held, pending or rejected', () => {
    fc.assert(fc.property(inputArb, (input) => {
      const decision = decideGrowth(input);
      const computed = ids(input.computed);
      const effective = ids(decision.effective);
      expect(effective.every((toolId) => computed.includes(toolId))).toBe(true);
      expect([...effective, ...ids(decision.pending), ...ids(decision.rejected)].sort()).toEqual([...computed].sort());
    }));
  });

  it('shrink is immediate and nothing held and still covered is lost', () => {
    fc.assert(fc.property(inputArb, (input) => {
      const effective = ids(decideGrowth(input).effective);
      for (const held of ids(input.previous)) expect(effective.includes(held)).toBe(ids(input.computed).includes(held));
    }));
  });

  it('growth needing confirmation takes effect only when confirmed under this sponsor, in the first version, or newly delegated', () => {
    fc.assert(fc.property(inputArb, (input) => {
      const decision = decideGrowth(input);
      const held = ids(input.previous);
      for (const granted of decision.effective) {
        if (held.includes(granted.toolId) || !input.policy[granted.risk] || input.initial || input.newlyDelegated.has(granted.toolId)) continue;
        expect(input.grants.some((grant) => grant.toolId === granted.toolId && grant.sponsorId === 'p1' && grant.status === 'confirmed')).toBe(true);
      }
    }));
  });

  it('every open grant is either kept, applied or withdrawn, exactly once', () => {
    fc.assert(fc.property(inputArb, (input) => {
      const decision = decideGrowth(input);
      const kept = input.grants.filter((grant) => !decision.applied.includes(grant.id) && !decision.withdrawn.includes(grant.id));
      for (const grant of kept) expect([...ids(decision.pending), ...ids(decision.rejected)]).toContain(grant.toolId);
      expect(new Set([...decision.applied, ...decision.withdrawn]).size).toBe(decision.applied.length + decision.withdrawn.length);
    }));
  });
});
