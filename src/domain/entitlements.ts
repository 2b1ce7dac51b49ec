import { anyToolMatches, toolMatches } from './patterns.js';
import type {
  AgentSnapshot,
  Ceilings,
  CoverageVia,
  Entitlement,
  GrantCondition,
  GrantRule,
  SponsorSnapshot,
  Tool,
} from './types.js';

/** Why a requested tool is not effective. The first failing link wins, in the order listed here. */
export type DenialReason =
  | 'agent_not_active'
  | 'agent_expired'
  | 'no_delegation'
  | 'delegation_not_yet_valid'
  | 'delegation_expired'
  | 'sponsor_missing'
  | 'sponsor_inactive'
  | 'unknown_tool'
  | 'not_delegated'
  | 'not_covered'
  | 'ceiling'
  /** Covered, but growth of this risk class waits for the sponsor or an admin to confirm (growth.ts). */
  | 'pending_confirmation'
  /** Covered, but the sponsor or an admin rejected this growth; it stays denied while the coverage lasts. */
  | 'confirmation_rejected';

export interface Denial {
  readonly toolId: string;
  readonly reason: DenialReason;
}

export interface EntitlementInput {
  readonly agent: AgentSnapshot;
  /** null when the sponsor is unknown to the mirror (never synced, or purged). */
  readonly sponsor: SponsorSnapshot | null;
  readonly catalog: ReadonlyMap<string, Tool>;
  readonly rules: readonly GrantRule[];
  readonly ceilings: Ceilings;
  readonly now: Date;
}

export interface EntitlementResult {
  /** Sorted by tool id, so equal inputs give byte-identical outputs. */
  readonly effective: readonly Entitlement[];
  readonly denied: readonly Denial[];
}

/**
 * effective = requested ∩ covered(sponsor) ∩ ceiling(environment), within the delegation (design.md §2).
 * Fails closed: any missing or inactive link yields no rights at all.
 */
export function computeEntitlements(input: EntitlementInput): EntitlementResult {
  const requested = expandRequested(input.agent.requestedTools, input.catalog);
  const blanket = blanketDenial(input);
  if (blanket !== null) {
    return { effective: [], denied: requested.map((toolId) => ({ toolId, reason: blanket })) };
  }
  const sponsor = input.sponsor as SponsorSnapshot;
  const delegation = input.agent.delegation as NonNullable<AgentSnapshot['delegation']>;
  const ceiling = input.ceilings[input.agent.environment];
  const effective: Entitlement[] = [];
  const denied: Denial[] = [];
  for (const toolId of requested) {
    const tool = input.catalog.get(toolId);
    if (tool === undefined) {
      denied.push({ toolId, reason: 'unknown_tool' });
      continue;
    }
    if (!isDelegated(delegation.tools, tool)) {
      denied.push({ toolId, reason: 'not_delegated' });
      continue;
    }
    const coverage = findCoverage(input.rules, sponsor, toolId);
    if (coverage === null) {
      denied.push({ toolId, reason: 'not_covered' });
      continue;
    }
    if (!ceiling.risks.includes(tool.risk) || anyToolMatches(ceiling.deny, toolId)) {
      denied.push({ toolId, reason: 'ceiling' });
      continue;
    }
    effective.push({
      toolId,
      system: tool.system,
      risk: tool.risk,
      provenance: { ruleId: coverage.rule.id, ruleVersion: coverage.rule.version, via: coverage.via, delegationId: delegation.id },
    });
  }
  return { effective, denied };
}

function blanketDenial(input: EntitlementInput): DenialReason | null {
  const { agent, sponsor, now } = input;
  if (agent.state !== 'active') return 'agent_not_active';
  if (agent.expiresAt !== null && agent.expiresAt.getTime() <= now.getTime()) return 'agent_expired';
  if (agent.delegation === null) return 'no_delegation';
  if (agent.delegation.notBefore !== null && agent.delegation.notBefore.getTime() > now.getTime()) {
    return 'delegation_not_yet_valid';
  }
  if (agent.delegation.expiresAt !== null && agent.delegation.expiresAt.getTime() <= now.getTime()) {
    return 'delegation_expired';
  }
  if (sponsor === null || sponsor.deleted) return 'sponsor_missing';
  if (!sponsor.active) return 'sponsor_inactive';
  return null;
}

/**
 * Whether the delegation approves the tool. An `orchestrate` tool (one that sets other agents to work) needs
 * explicit approval: the delegation must name it by id; a pattern such as `ops.*` or `*` does not cover it.
 */
export function isDelegated(delegated: readonly string[], tool: Tool): boolean {
  return tool.risk === 'orchestrate' ? delegated.includes(tool.id) : anyToolMatches(delegated, tool.id);
}

/** Requested entries may be ids or patterns; patterns expand against the catalog, unknown ids stay to be denied. */
export function expandRequested(requested: readonly string[], catalog: ReadonlyMap<string, Tool>): string[] {
  const ids = new Set<string>();
  for (const entry of requested) {
    if (entry === '*' || entry.endsWith('.*')) {
      for (const toolId of catalog.keys()) if (toolMatches(entry, toolId)) ids.add(toolId);
    } else {
      ids.add(entry);
    }
  }
  return [...ids].sort();
}

interface Coverage {
  readonly rule: GrantRule;
  readonly via: CoverageVia;
}

/** The first rule (in configuration order) that matches the sponsor and covers the tool. */
export function findCoverage(rules: readonly GrantRule[], sponsor: SponsorSnapshot, toolId: string): Coverage | null {
  for (const rule of rules) {
    if (!anyToolMatches(rule.tools, toolId)) continue;
    for (const condition of rule.when) {
      const via = matchCondition(condition, sponsor);
      if (via !== null) return { rule, via };
    }
  }
  return null;
}

function matchCondition(condition: GrantCondition, sponsor: SponsorSnapshot): CoverageVia | null {
  if (condition.kind === 'group') {
    const wanted = condition.group.toLowerCase();
    const group = sponsor.groups.find((candidate) => candidate.name.toLowerCase() === wanted);
    return group === undefined ? null : { kind: 'group', groupId: group.id, groupName: group.name };
  }
  // Object.hasOwn: an attribute named like an Object member ("constructor") must not read the prototype.
  if (!Object.hasOwn(sponsor.attributes, condition.attribute)) return null;
  const value = sponsor.attributes[condition.attribute];
  if (value === undefined) return null;
  const matches = condition.values.some((candidate) => candidate.toLowerCase() === value.toLowerCase());
  return matches ? { kind: 'attribute', attribute: condition.attribute, value } : null;
}
