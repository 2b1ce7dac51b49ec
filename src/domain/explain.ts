/**
 * "Why does agent X have tool Y?" (or why not): the chain of facts behind one entitlement, assembled from
 * versioned data the caller loaded for a point in time. Pure: no I/O, no clock.
 */
import type { Denial } from './entitlements.js';
import type { CoverageVia, Entitlement } from './types.js';

export type ExplainLink =
  | { readonly kind: 'directory_change'; readonly changeEventId: string; readonly changeKind: string; readonly origin: string; readonly receivedAt: Date }
  | { readonly kind: 'sponsor_group'; readonly sponsorId: string; readonly groupId: string; readonly groupName: string; readonly since: Date | null; readonly direct: boolean }
  | { readonly kind: 'sponsor_attribute'; readonly sponsorId: string; readonly attribute: string; readonly value: string }
  | { readonly kind: 'grant_rule'; readonly ruleId: string; readonly ruleVersion: number; readonly ruleSince: Date | null }
  | { readonly kind: 'delegation'; readonly delegationId: string; readonly approver: string; readonly notBefore: Date | null; readonly expiresAt: Date | null }
  | { readonly kind: 'confirmation'; readonly grantId: string; readonly decidedBy: string | null; readonly decidedAt: Date | null }
  | { readonly kind: 'version'; readonly version: number; readonly computedAt: Date }
  | { readonly kind: 'target'; readonly targetId: string; readonly version: number; readonly appliedAt: Date };

export interface ExplainFacts {
  readonly agentId: string;
  readonly toolId: string;
  readonly at: Date;
  readonly sponsorId: string | null;
  /** The entitlement version in force at `at`; null when none had been computed yet. */
  readonly version: {
    readonly version: number; readonly computedAt: Date; readonly sponsorId: string;
    readonly entitlements: readonly Entitlement[]; readonly denied: readonly Denial[];
  } | null;
  /** The version that granted the tool (the first of the unbroken run up to `version`) and its change events. */
  readonly origin: {
    readonly version: number; readonly computedAt: Date;
    readonly changeEvents: readonly { readonly id: string; readonly kind: string; readonly origin: string; readonly receivedAt: Date }[];
  } | null;
  readonly membership: { readonly since: Date | null; readonly direct: boolean } | null;
  readonly rule: { readonly createdAt: Date } | null;
  readonly delegation: { readonly id: string; readonly approver: string; readonly notBefore: Date | null; readonly expiresAt: Date | null } | null;
  /** For a granted tool, the confirmation that made it effective; for a denied one, the grant open at `at`. */
  readonly grant: { readonly id: string; readonly status: string; readonly decidedBy: string | null; readonly decidedAt: Date | null } | null;
  /** Per target, the newest version applied there by `at`. */
  readonly applied: readonly { readonly targetId: string; readonly version: number; readonly appliedAt: Date }[];
  readonly targetIds: readonly string[];
}

export interface Explanation {
  readonly agentId: string;
  readonly toolId: string;
  readonly at: Date;
  readonly granted: boolean;
  readonly version: number | null;
  readonly chain: readonly ExplainLink[];
  /** For a denied tool: the first link that failed. */
  readonly denial: { readonly reason: string; readonly detail: string } | null;
  /** Targets that had not applied the version granting the tool by `at`. */
  readonly notYetApplied: readonly string[];
}

const DENIAL_DETAIL: Readonly<Record<string, string>> = {
  agent_not_active: 'the agent is not active (suspended, retired, or waiting for a new sponsor)',
  agent_expired: 'the agent has expired',
  no_delegation: 'the agent has no delegation record',
  delegation_not_yet_valid: 'the delegation is not valid yet',
  delegation_expired: 'the delegation has expired',
  sponsor_missing: 'the sponsor is deleted or unknown',
  sponsor_inactive: 'the sponsor is not active in the directory',
  unknown_tool: 'the tool is not in the catalog',
  not_delegated: 'the delegation does not include the tool',
  not_covered: 'no grant rule covers the tool for the sponsor',
  ceiling: "the tool exceeds the ceiling of the agent's environment",
  pending_confirmation: 'the sponsor now covers the tool, but the growth waits for confirmation',
  confirmation_rejected: 'the growth was rejected by the sponsor or an admin',
  not_requested: 'the agent does not request the tool',
  not_computed: 'no entitlements had been computed for the agent yet',
};

function coverageLink(sponsorId: string, via: CoverageVia, membership: ExplainFacts['membership']): ExplainLink {
  if (via.kind === 'attribute') return { kind: 'sponsor_attribute', sponsorId, attribute: via.attribute, value: via.value };
  return { kind: 'sponsor_group', sponsorId, groupId: via.groupId, groupName: via.groupName, since: membership?.since ?? null, direct: membership?.direct ?? false };
}

export function explainTool(facts: ExplainFacts): Explanation {
  const base = { agentId: facts.agentId, toolId: facts.toolId, at: facts.at, version: facts.version?.version ?? null };
  const entitlement = facts.version?.entitlements.find((candidate) => candidate.toolId === facts.toolId);
  if (facts.version === null || entitlement === undefined) {
    return { ...base, granted: false, chain: [], notYetApplied: [], denial: denialOf(facts) };
  }
  const { provenance } = entitlement;
  const origin = facts.origin ?? { version: facts.version.version, computedAt: facts.version.computedAt, changeEvents: [] };
  const chain: ExplainLink[] = [
    ...origin.changeEvents.map((event): ExplainLink => ({ kind: 'directory_change', changeEventId: event.id, changeKind: event.kind, origin: event.origin, receivedAt: event.receivedAt })),
    coverageLink(facts.version.sponsorId, provenance.via, facts.membership),
    { kind: 'grant_rule', ruleId: provenance.ruleId, ruleVersion: provenance.ruleVersion, ruleSince: facts.rule?.createdAt ?? null },
    ...(facts.delegation === null ? [] : [{ kind: 'delegation', delegationId: facts.delegation.id, approver: facts.delegation.approver, notBefore: facts.delegation.notBefore, expiresAt: facts.delegation.expiresAt } as const]),
    ...(facts.grant === null ? [] : [{ kind: 'confirmation', grantId: facts.grant.id, decidedBy: facts.grant.decidedBy, decidedAt: facts.grant.decidedAt } as const]),
    { kind: 'version', version: origin.version, computedAt: origin.computedAt },
  ];
  const applied = new Map(facts.applied.map((entry) => [entry.targetId, entry]));
  const notYetApplied: string[] = [];
  for (const targetId of facts.targetIds) {
    const entry = applied.get(targetId);
    if (entry !== undefined && entry.version >= origin.version) chain.push({ kind: 'target', targetId, version: entry.version, appliedAt: entry.appliedAt });
    else notYetApplied.push(targetId);
  }
  return { ...base, granted: true, chain, notYetApplied, denial: null };
}

function denialOf(facts: ExplainFacts): { reason: string; detail: string } {
  const reason = facts.version === null ? 'not_computed'
    : facts.grant?.status === 'pending' ? 'pending_confirmation'
      : facts.grant?.status === 'rejected' ? 'confirmation_rejected'
        : (facts.version.denied.find((denial) => denial.toolId === facts.toolId)?.reason ?? 'not_requested');
  return { reason, detail: DENIAL_DETAIL[reason] ?? reason };
}
