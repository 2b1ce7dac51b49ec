import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { computeEntitlements, expandRequested, findCoverage, type DenialReason, type EntitlementInput } from '../../../src/domain/entitlements.js';
import { anyToolMatches } from '../../../src/domain/patterns.js';
import type { SponsorGroup } from '../../../src/domain/types.js';
import { GROUPS, NOW, anyInputArb, groupsArb, validInputArb } from './arbitraries.js';

const toolIds = (input: EntitlementInput): string[] => computeEntitlements(input).effective.map((e) => e.toolId);
const withGroups = (input: EntitlementInput, groups: readonly SponsorGroup[]): EntitlementInput => ({
  ...input,
  sponsor: { ...input.sponsor!, groups },
});
const isSubset = (small: readonly string[], big: readonly string[]): boolean => small.every((id) => big.includes(id));

/** Restatement of design.md §2: the first failing blanket link, or null when the chain holds. */
function expectedBlanket({ agent, sponsor }: EntitlementInput): DenialReason | null {
  const now = NOW.getTime();
  if (agent.state !== 'active') return 'agent_not_active';
  if (agent.expiresAt !== null && agent.expiresAt.getTime() <= now) return 'agent_expired';
  if (agent.delegation === null) return 'no_delegation';
  if (agent.delegation.notBefore !== null && agent.delegation.notBefore.getTime() > now) return 'delegation_not_yet_valid';
  if (agent.delegation.expiresAt !== null && agent.delegation.expiresAt.getTime() <= now) return 'delegation_expired';
  if (sponsor === null || sponsor.deleted) return 'sponsor_missing';
  if (!sponsor.active) return 'sponsor_inactive';
  return null;
}

describe('computeEntitlements properties', () => {
  it('effective ⊆ requested ∩ catalog, and effective + denied partition the expanded request', () => {
    fc.assert(
      fc.property(anyInputArb, (input) => {
        const requested = expandRequested(input.agent.requestedTools, input.catalog);
        const result = computeEntitlements(input);
        const effective = result.effective.map((e) => e.toolId);
        for (const id of effective) {
          expect(requested).toContain(id);
          expect(input.catalog.has(id)).toBe(true);
        }
        const all = [...effective, ...result.denied.map((d) => d.toolId)].sort();
        expect(all).toEqual(requested);
      }),
    );
  });

  it('every effective tool is within the environment ceiling and not denied by it', () => {
    fc.assert(
      fc.property(validInputArb, (input) => {
        const ceiling = input.ceilings[input.agent.environment];
        for (const entitlement of computeEntitlements(input).effective) {
          expect(ceiling.risks).toContain(entitlement.risk);
          expect(anyToolMatches(ceiling.deny, entitlement.toolId)).toBe(false);
          expect(input.catalog.get(entitlement.toolId)).toEqual({ id: entitlement.toolId, system: entitlement.system, risk: entitlement.risk });
        }
      }),
    );
  });

  it('every effective tool is delegated and covered by the rule its provenance names, via a real match', () => {
    fc.assert(
      fc.property(validInputArb, (input) => {
        const sponsor = input.sponsor!;
        for (const { toolId, provenance } of computeEntitlements(input).effective) {
          expect(provenance.delegationId).toBe(input.agent.delegation!.id);
          expect(anyToolMatches(input.agent.delegation!.tools, toolId)).toBe(true);
          const rule = input.rules.find((candidate) => candidate.id === provenance.ruleId);
          expect(rule?.version).toBe(provenance.ruleVersion);
          expect(anyToolMatches(rule!.tools, toolId)).toBe(true);
          const via = provenance.via;
          if (via.kind === 'group') {
            expect(sponsor.groups).toContainEqual({ id: via.groupId, name: via.groupName });
            const named = rule!.when.some((c) => c.kind === 'group' && c.group.toLowerCase() === via.groupName.toLowerCase());
            expect(named).toBe(true);
          } else {
            expect(sponsor.attributes[via.attribute]).toBe(via.value);
            const listed = rule!.when.some(
              (c) => c.kind === 'attribute' && c.attribute === via.attribute && c.values.some((v) => v.toLowerCase() === via.value.toLowerCase()),
            );
            expect(listed).toBe(true);
          }
        }
      }),
    );
  });

  it('each per-tool denial names the first failing check, and nothing that passes every check is denied', () => {
    fc.assert(
      fc.property(validInputArb, (input) => {
        const ceiling = input.ceilings[input.agent.environment];
        const result = computeEntitlements(input);
        const reasons = new Map<string, string>(result.denied.map((d) => [d.toolId, d.reason]));
        for (const toolId of expandRequested(input.agent.requestedTools, input.catalog)) {
          const tool = input.catalog.get(toolId);
          const expected =
            tool === undefined ? 'unknown_tool'
            : !anyToolMatches(input.agent.delegation!.tools, toolId) || (tool.risk === 'orchestrate' && !input.agent.delegation!.tools.includes(toolId)) ? 'not_delegated'
            : findCoverage(input.rules, input.sponsor!, toolId) === null ? 'not_covered'
            : !ceiling.risks.includes(tool.risk) || anyToolMatches(ceiling.deny, toolId) ? 'ceiling'
            : undefined;
          expect(reasons.get(toolId)).toBe(expected);
        }
      }),
    );
  });

  it('fails closed: a broken blanket link gives no rights and denies every requested tool with its reason', () => {
    fc.assert(
      fc.property(anyInputArb, (input) => {
        const reason = expectedBlanket(input);
        fc.pre(reason !== null);
        const result = computeEntitlements(input);
        expect(result.effective).toEqual([]);
        expect(result.denied).toEqual(expandRequested(input.agent.requestedTools, input.catalog).map((toolId) => ({ toolId, reason })));
      }),
      { numRuns: 300 },
    );
  });

  it('never denies with a blanket reason when the chain holds', () => {
    const blanket = new Set(['agent_not_active', 'agent_expired', 'no_delegation', 'delegation_not_yet_valid', 'delegation_expired', 'sponsor_missing', 'sponsor_inactive']);
    fc.assert(
      fc.property(validInputArb, (input) => {
        for (const denial of computeEntitlements(input).denied) expect(blanket.has(denial.reason)).toBe(false);
      }),
    );
  });

  it('is sorted and deterministic, whatever the order of the request or of the catalog', () => {
    fc.assert(
      fc.property(validInputArb, fc.integer(), (input, seed) => {
        const result = computeEntitlements(input);
        const effective = result.effective.map((e) => e.toolId);
        const denied = result.denied.map((d) => d.toolId);
        expect(effective).toEqual([...effective].sort());
        expect(new Set(effective).size).toBe(effective.length);
        expect(denied).toEqual([...denied].sort());
        const rotate = <T,>(items: readonly T[]): T[] => {
          const k = items.length === 0 ? 0 : Math.abs(seed) % items.length;
          return [...items.slice(k), ...items.slice(0, k)];
        };
        const shuffled: EntitlementInput = {
          ...input,
          agent: { ...input.agent, requestedTools: rotate([...input.agent.requestedTools, ...input.agent.requestedTools]) },
          catalog: new Map(rotate([...input.catalog.entries()]).reverse()),
        };
        expect(JSON.stringify(computeEntitlements(shuffled))).toBe(JSON.stringify(result));
        expect(computeEntitlements(input)).toEqual(result);
      }),
    );
  });

  it('is monotone in the sponsor groups: removing one never grows, adding one never shrinks', () => {
    fc.assert(
      fc.property(validInputArb, groupsArb, (input, groups) => {
        const base = toolIds(withGroups(input, groups));
        for (const group of GROUPS) {
          const without = toolIds(withGroups(input, groups.filter((g) => g.id !== group.id)));
          const withIt = toolIds(withGroups(input, groups.some((g) => g.id === group.id) ? groups : [...groups, group]));
          expect(isSubset(without, base)).toBe(true);
          expect(isSubset(base, withIt)).toBe(true);
        }
      }),
    );
  });

  it('losing the sponsor attributes never grows the effective set', () => {
    fc.assert(
      fc.property(validInputArb, (input) => {
        const stripped = { ...input, sponsor: { ...input.sponsor!, attributes: {} } };
        expect(isSubset(toolIds(stripped), toolIds(input))).toBe(true);
      }),
    );
  });

  it('deactivating or deleting the sponsor revokes everything', () => {
    fc.assert(
      fc.property(validInputArb, fc.constantFrom('inactive', 'deleted', 'gone'), (input, how) => {
        const sponsor = how === 'gone' ? null : { ...input.sponsor!, active: how !== 'inactive', deleted: how === 'deleted' };
        const result = computeEntitlements({ ...input, sponsor });
        expect(result.effective).toEqual([]);
        expect(result.denied.every((d) => d.reason === (how === 'inactive' ? 'sponsor_inactive' : 'sponsor_missing'))).toBe(true);
      }),
    );
  });
});
