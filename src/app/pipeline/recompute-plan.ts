/**
 * One agent's recompute as a plan of writes, decided from state already read: pure (no I/O, time is an
 * argument), so a batch of sponsors can read everything first and write everything at once.
 */
import { computeEntitlements, type Denial } from '../../domain/entitlements.js';
import { diffEntitlements, isEmptyDiff } from '../../domain/diff.js';
import { decideGrowth, newlyDelegatedTools, type GrowthConfirmationPolicy, type GrowthDecision, type OpenGrant } from '../../domain/growth.js';
import type { AgentSnapshot, Entitlement, SponsorSnapshot } from '../../domain/types.js';
import type { Policy } from '../ports.js';
import type { AuditEntry, EntitlementVersionRecord } from '../records.js';

export interface PendingRecompute {
  readonly outboxIds: readonly number[];
  readonly changeEventIds: readonly string[];
  readonly changeKinds: readonly string[];
  /** Subjects of the pending `leaver` events (a successor's recompute is queued under its leaver's event). */
  readonly leaverIds: readonly string[];
}

/** A new entitlement version, committed only if agents.current_version still equals `expected`. */
export interface VersionWrite {
  readonly expected: number;
  readonly record: EntitlementVersionRecord;
  /** The change event its push outbox rows answer (the latest one the recompute covers). */
  readonly changeEventId: string | null;
  readonly granted: number;
  readonly revoked: number;
  /**
   * Whether the rights as the SCIM Agent shows them (tool, system, risk) differ from the previous version's:
   * the agent's revision, its SCIM ETag, moves only then (a first version that grants nothing shows nothing new).
   */
  readonly shownChanged: boolean;
}

export interface AgentPlan {
  /** Null when the rights did not change (and a version exists). */
  readonly version: VersionWrite | null;
  /** Growth to store as new pending grants. */
  readonly newGrants: readonly Entitlement[];
  readonly applied: readonly string[];
  readonly withdrawn: readonly string[];
  /** In order: the pending-grant entry (if any), then the version's entry. */
  readonly audit: readonly AuditEntry[];
}

export interface AgentPlanInput {
  /** The agent as it is computed (a restored agent already counts as active). */
  readonly snapshot: AgentSnapshot;
  readonly currentVersion: number;
  readonly latest: EntitlementVersionRecord | null;
  readonly grants: readonly OpenGrant[];
  readonly sponsor: SponsorSnapshot | null;
  readonly sponsorId: string;
  readonly pending: PendingRecompute;
  /** After its sponsor's leaver event (or a restore) the agent starts from nothing: growth needs confirmation again. */
  readonly startsOver: boolean;
  readonly growthPolicy: GrowthConfirmationPolicy;
  readonly policy: Policy;
  readonly now: Date;
}

/** The rights as the SCIM Agent lists them, in a canonical order (see VersionWrite.shownChanged). */
function shownRights(entitlements: readonly Entitlement[]): string {
  return JSON.stringify(entitlements.map((entitlement) => [entitlement.toolId, entitlement.system, entitlement.risk]).sort());
}

/** Compute, decide growth, keep pending grants in step, and a new version if the rights changed. */
export function planAgent(input: AgentPlanInput): AgentPlan {
  const agentId = input.snapshot.id;
  const { latest, pending, now } = input;
  const computed = computeEntitlements({ agent: input.snapshot, sponsor: input.sponsor, ...input.policy, now });
  const growth = decideGrowth({
    previous: input.startsOver ? [] : (latest?.entitlements ?? []),
    computed: computed.effective,
    initial: latest === null,
    newlyDelegated: newlyDelegatedTools(computed.effective, latest),
    sponsorId: input.sponsorId,
    policy: input.growthPolicy,
    grants: input.grants,
  });
  const audit: AuditEntry[] = [];
  if (growth.newPending.length > 0) {
    audit.push({
      at: now, actor: 'system:recompute', action: 'grant.pending', subjectType: 'agent', subjectId: agentId,
      detail: { sponsorId: input.sponsorId, tools: growth.newPending.map((entitlement) => entitlement.toolId), changeEventIds: pending.changeEventIds },
    });
  }
  const grantsOnly = { newGrants: growth.newPending, applied: growth.applied, withdrawn: growth.withdrawn };
  const diff = diffEntitlements(latest?.entitlements ?? [], growth.effective);
  if (latest !== null && isEmptyDiff(diff)) return { ...grantsOnly, version: null, audit };
  const next = input.currentVersion + 1;
  const reason = describeReason(computed.denied[0]?.reason, growth.effective.length, pending.changeKinds);
  audit.push({
    at: now, actor: 'system:recompute', action: 'entitlements.changed', subjectType: 'agent', subjectId: agentId,
    detail: {
      version: next, sponsorId: input.sponsorId, granted: diff.granted, revoked: diff.revoked, reason, changeEventIds: pending.changeEventIds,
      ...(growth.pending.length > 0 ? { pending: growth.pending.map((entitlement) => entitlement.toolId) } : {}),
    },
  });
  return {
    ...grantsOnly,
    audit,
    version: {
      expected: input.currentVersion,
      record: {
        agentId, version: next, sponsorId: input.sponsorId, entitlements: growth.effective, denied: deniedWith(computed.denied, growth), reason,
        changeEventIds: pending.changeEventIds, computedAt: now,
      },
      changeEventId: pending.changeEventIds.at(-1) ?? null,
      shownChanged: shownRights(latest?.entitlements ?? []) !== shownRights(growth.effective),
      granted: diff.granted.length,
      revoked: diff.revoked.length,
    },
  };
}

/** The computation's denials plus growth that waits for (or was refused) confirmation, by tool id. */
function deniedWith(denied: readonly Denial[], growth: GrowthDecision): Denial[] {
  const extra: Denial[] = [
    ...growth.pending.map((entitlement): Denial => ({ toolId: entitlement.toolId, reason: 'pending_confirmation' })),
    ...growth.rejected.map((entitlement): Denial => ({ toolId: entitlement.toolId, reason: 'confirmation_rejected' })),
  ];
  return [...denied, ...extra].sort((left, right) => (left.toolId < right.toolId ? -1 : left.toolId > right.toolId ? 1 : 0));
}

/** A short machine-readable reason: a blanket denial wins (leaver, expiry), else the kinds of change. */
function describeReason(firstDenial: string | undefined, effectiveCount: number, kinds: readonly string[]): string {
  const blanket = new Set(['agent_not_active', 'agent_expired', 'no_delegation', 'delegation_not_yet_valid', 'delegation_expired', 'sponsor_missing', 'sponsor_inactive']);
  if (effectiveCount === 0 && firstDenial !== undefined && blanket.has(firstDenial)) return firstDenial;
  const unique = [...new Set(kinds)].filter((kind) => kind !== 'noop');
  return unique.length === 0 ? 'recompute' : unique.join('+');
}
