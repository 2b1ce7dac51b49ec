import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { diffEntitlements, isEmptyDiff, type EntitlementDiff } from '../../../src/domain/diff.js';
import { RISK_CLASSES, type Entitlement } from '../../../src/domain/types.js';
import { TOOL_IDS } from './arbitraries.js';

function entitlement(toolId: string, overrides: Partial<Entitlement['provenance']> = {}, extra: Partial<Entitlement> = {}): Entitlement {
  return {
    toolId,
    system: toolId.split('.')[0]!,
    risk: 'read',
    provenance: { ruleId: 'r-1', ruleVersion: 1, via: { kind: 'group', groupId: 'g-1', groupName: 'Sales' }, delegationId: 'd-1', ...overrides },
    ...extra,
  };
}

const entitlementArb: fc.Arbitrary<Entitlement> = fc.record({
  toolId: fc.constantFrom(...TOOL_IDS),
  system: fc.constantFrom('crm', 'hr'),
  risk: fc.constantFrom(...RISK_CLASSES),
  provenance: fc.record({
    ruleId: fc.constantFrom('r-1', 'r-2'),
    ruleVersion: fc.integer({ min: 1, max: 3 }),
    via: fc.oneof(
      fc.record({ kind: fc.constant('group' as const), groupId: fc.constantFrom('g-1', 'g-2'), groupName: fc.constantFrom('Sales', 'sales') }),
      fc.record({ kind: fc.constant('attribute' as const), attribute: fc.constant('department'), value: fc.constantFrom('eng', 'Eng') }),
    ),
    delegationId: fc.constantFrom('d-1', 'd-2'),
  }),
});
const setArb = fc.uniqueArray(entitlementArb, { selector: (e) => e.toolId, maxLength: TOOL_IDS.length });
const sorted = (items: readonly string[]): string[] => [...items].sort();

describe('diffEntitlements (table)', () => {
  const before = [entitlement('crm.contacts.read'), entitlement('hr.people.read')];

  it('reports granted and revoked tools by id, sorted', () => {
    const after = [entitlement('ops.jobs.read'), entitlement('crm.deals.read'), entitlement('crm.contacts.read')];
    expect(diffEntitlements(before, after)).toEqual({ granted: ['crm.deals.read', 'ops.jobs.read'], revoked: ['hr.people.read'], reexplained: [] });
  });

  it.each<[string, Entitlement]>([
    ['another rule', entitlement('crm.contacts.read', { ruleId: 'r-2' })],
    ['a new rule version', entitlement('crm.contacts.read', { ruleVersion: 2 })],
    ['another group id', entitlement('crm.contacts.read', { via: { kind: 'group', groupId: 'g-2', groupName: 'Sales' } })],
    ['a renamed group', entitlement('crm.contacts.read', { via: { kind: 'group', groupId: 'g-1', groupName: 'Sales EMEA' } })],
    ['an attribute instead of a group', entitlement('crm.contacts.read', { via: { kind: 'attribute', attribute: 'department', value: 'eng' } })],
    ['another delegation', entitlement('crm.contacts.read', { delegationId: 'd-2' })],
    ['another risk class', entitlement('crm.contacts.read', {}, { risk: 'write' })],
    ['another system', entitlement('crm.contacts.read', {}, { system: 'crm2' })],
  ])('re-explains a tool still held through %s', (_name, changed) => {
    const diff = diffEntitlements(before, [changed, entitlement('hr.people.read')]);
    expect(diff).toEqual({ granted: [], revoked: [], reexplained: ['crm.contacts.read'] });
    expect(isEmptyDiff(diff)).toBe(false);
  });

  it('does not re-explain an identical provenance held in a fresh object', () => {
    const diff = diffEntitlements(before, [entitlement('hr.people.read'), entitlement('crm.contacts.read')]);
    expect(isEmptyDiff(diff)).toBe(true);
  });

  it('treats empty inputs correctly', () => {
    expect(diffEntitlements([], [])).toEqual({ granted: [], revoked: [], reexplained: [] });
    expect(diffEntitlements([], before).granted).toEqual(['crm.contacts.read', 'hr.people.read']);
    expect(diffEntitlements(before, []).revoked).toEqual(['crm.contacts.read', 'hr.people.read']);
  });
});

describe('isEmptyDiff', () => {
  it.each<[EntitlementDiff, boolean]>([
    [{ granted: [], revoked: [], reexplained: [] }, true],
    [{ granted: ['a.b'], revoked: [], reexplained: [] }, false],
    [{ granted: [], revoked: ['a.b'], reexplained: [] }, false],
    [{ granted: [], revoked: [], reexplained: ['a.b'] }, false],
  ])('%j -> %s', (diff, expected) => {
    expect(isEmptyDiff(diff)).toBe(expected);
  });
});

describe('diffEntitlements (properties)', () => {
  it('diff(a, a) is empty', () => {
    fc.assert(
      fc.property(setArb, (a) => {
        expect(isEmptyDiff(diffEntitlements(a, a))).toBe(true);
      }),
    );
  });

  it('granted and revoked are disjoint, sorted, and exactly the set differences by tool id', () => {
    fc.assert(
      fc.property(setArb, setArb, (a, b) => {
        const diff = diffEntitlements(a, b);
        const aIds = a.map((e) => e.toolId);
        const bIds = b.map((e) => e.toolId);
        expect(diff.granted.filter((id) => diff.revoked.includes(id))).toEqual([]);
        expect(diff.granted).toEqual(sorted(bIds.filter((id) => !aIds.includes(id))));
        expect(diff.revoked).toEqual(sorted(aIds.filter((id) => !bIds.includes(id))));
        expect(diff.reexplained).toEqual(sorted(diff.reexplained));
        for (const id of diff.reexplained) expect(aIds.includes(id) && bIds.includes(id)).toBe(true);
      }),
    );
  });

  it('is antisymmetric: diff(a, b).granted == diff(b, a).revoked and re-explanations are symmetric', () => {
    fc.assert(
      fc.property(setArb, setArb, (a, b) => {
        const forward = diffEntitlements(a, b);
        const backward = diffEntitlements(b, a);
        expect(forward.granted).toEqual(backward.revoked);
        expect(forward.revoked).toEqual(backward.granted);
        expect(forward.reexplained).toEqual(backward.reexplained);
      }),
    );
  });

  it('applying granted and revoked to a yields the tool ids of b', () => {
    fc.assert(
      fc.property(setArb, setArb, (a, b) => {
        const diff = diffEntitlements(a, b);
        const result = a.map((e) => e.toolId).filter((id) => !diff.revoked.includes(id)).concat(diff.granted);
        expect(sorted(result)).toEqual(sorted(b.map((e) => e.toolId)));
      }),
    );
  });

  it('does not depend on input order', () => {
    fc.assert(
      fc.property(setArb, setArb, (a, b) => {
        expect(diffEntitlements([...a].reverse(), [...b].reverse())).toEqual(diffEntitlements(a, b));
      }),
    );
  });
});
