import { computeEntitlements, type Denial } from '../../domain/entitlements.js';
import { diffEntitlements, isEmptyDiff } from '../../domain/diff.js';
import { AppError } from '../../domain/errors.js';
import { decideGrowth, newlyDelegatedTools, type GrowthDecision, type OpenGrant } from '../../domain/growth.js';
import type { SuccessionState } from '../../domain/succession.js';
import type { AgentSnapshot, Entitlement, SponsorSnapshot } from '../../domain/types.js';
import { DEFAULT_GOVERNANCE_POLICY, type GovernancePolicy } from '../governance/policy.js';
import { applySponsorship, planSponsorship, type SponsorshipTx } from '../governance/sponsorship.js';
import type { Clock, Logger, Policy, WorkQueue } from '../ports.js';
import type { AuditEntry, EntitlementVersionRecord } from '../records.js';

export interface PendingRecompute {
  readonly outboxIds: readonly number[];
  readonly changeEventIds: readonly string[];
  readonly changeKinds: readonly string[];
  /** Subjects of the pending `leaver` events (a successor's recompute is queued under its leaver's event). */
  readonly leaverIds: readonly string[];
}

export interface SponsoredAgent {
  readonly snapshot: AgentSnapshot;
  readonly currentVersion: number;
  readonly backupSponsorIds: readonly string[];
  /** Set while the agent waits in `pending_reassignment` (and kept once the grace sweep suspended it). */
  readonly succession: SuccessionState | null;
}

export interface RecomputeTx extends SponsorshipTx {
  pendingRecomputes(personId: string): Promise<PendingRecompute>;
  sponsorSnapshot(personId: string): Promise<SponsorSnapshot | null>;
  agentsSponsoredBy(personId: string): Promise<SponsoredAgent[]>;
  latestVersion(agentId: string): Promise<EntitlementVersionRecord | null>;
  /**
   * Compare-and-set of agents.current_version from `expected` to `version.version`, committing the version,
   * its audit entry and one push outbox row per target only when it matched; false when another writer got
   * there first (nothing written).
   */
  commitVersion(expected: number, version: EntitlementVersionRecord, pushTargetIds: readonly string[], changeEventId: string | null, audit: AuditEntry): Promise<boolean>;
  /** Marks the outbox rows done and the change events computed. */
  finishRecompute(outboxIds: readonly number[], changeEventIds: readonly string[], now: Date): Promise<void>;
  /** Open pending grants of an agent (pending, confirmed but not yet applied, rejected). */
  openGrants(agentId: string): Promise<OpenGrant[]>;
  /** Stores new pending grants; one open grant per (agent, tool), so a concurrent duplicate is ignored. */
  insertPendingGrants(agentId: string, sponsorId: string, entitlements: readonly Entitlement[], now: Date): Promise<void>;
  closeGrants(ids: readonly string[], status: 'applied' | 'withdrawn', now: Date): Promise<void>;
}

export interface RecomputeDeps {
  readonly store: { transaction<T>(work: (tx: RecomputeTx) => Promise<T>): Promise<T> };
  readonly queue: WorkQueue;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly policy: () => Policy;
  readonly targetIds: () => readonly string[];
  /** Growth confirmation and succession settings; the documented defaults when absent. */
  readonly governance?: () => GovernancePolicy;
}

export interface RecomputeResult {
  readonly agents: number;
  readonly versions: readonly { agentId: string; version: number; granted: number; revoked: number }[];
}

type Push = { targetId: string; agentId: string; version: number };

/**
 * Recomputes every agent a sponsor sponsors from current state and commits new entitlement versions with
 * compare-and-set, so a duplicate or late job can never overwrite newer state. The outbox rows this run
 * covers are read before the state, so any change they stand for is visible to it.
 *
 * Asymmetry: what the sponsor no longer covers goes at once; newly covered tools of a risk class that needs
 * confirmation become pending grants (growth.ts). After a leaver event (even one already undone by a
 * reactivation) the agent starts from nothing, so its write/orchestrate tools need a new confirmation.
 * Succession (a sponsor who left, or came back) commits after the revocation, in the same transaction.
 */
export async function recomputeSponsor(deps: RecomputeDeps, personId: string): Promise<RecomputeResult> {
  const governance = deps.governance?.() ?? DEFAULT_GOVERNANCE_POLICY;
  const { result, pushes, successors } = await deps.store.transaction(async (tx) => {
    const pending = await tx.pendingRecomputes(personId);
    const sponsor = await tx.sponsorSnapshot(personId);
    const agents = await tx.agentsSponsoredBy(personId);
    const now = deps.clock();
    const versions: RecomputeResult['versions'][number][] = [];
    const pushes: Push[] = [];
    const successors: string[] = [];
    const changeEventId = pending.changeEventIds.at(-1) ?? null;
    for (const agent of agents) {
      const subject = { agentId: agent.snapshot.id, state: agent.snapshot.state, sponsorId: personId, backupSponsorIds: agent.backupSponsorIds, succession: agent.succession };
      const action = await planSponsorship(tx, subject, sponsor, now, governance.reassignmentGraceMs);
      const snapshot: AgentSnapshot = action.kind === 'restore' ? { ...agent.snapshot, state: 'active' } : agent.snapshot;
      // Only this sponsor's own leaver event resets its agents: a successor recomputed under the event of the
      // person it succeeds keeps what its own agents hold.
      const startsOver = action.kind === 'restore' || pending.leaverIds.includes(personId);
      const committed = await recomputeAgent(deps, tx, { agent, snapshot, sponsor, personId, pending, startsOver, governance, now });
      if (committed !== null) {
        versions.push(committed.summary);
        pushes.push(...committed.pushes);
      }
      const version = committed?.summary.version ?? agent.currentVersion;
      const successor = await applySponsorship(tx, subject, action, { version, changeEventId, now });
      if (successor !== null) successors.push(successor);
    }
    await tx.finishRecompute(pending.outboxIds, pending.changeEventIds, now);
    return { result: { agents: agents.length, versions }, pushes, successors };
  });
  await enqueueAfterCommit(deps, pushes, successors);
  return result;
}

interface AgentRun {
  readonly agent: SponsoredAgent;
  readonly snapshot: AgentSnapshot;
  readonly sponsor: SponsorSnapshot | null;
  readonly personId: string;
  readonly pending: PendingRecompute;
  readonly startsOver: boolean;
  readonly governance: GovernancePolicy;
  readonly now: Date;
}

/** One agent: compute, decide growth, keep pending grants in step, commit a version if rights changed. */
async function recomputeAgent(deps: RecomputeDeps, tx: RecomputeTx, run: AgentRun): Promise<{ summary: RecomputeResult['versions'][number]; pushes: Push[] } | null> {
  const agentId = run.snapshot.id;
  const latest = await tx.latestVersion(agentId);
  const computed = computeEntitlements({ agent: run.snapshot, sponsor: run.sponsor, ...deps.policy(), now: run.now });
  const growth = decideGrowth({
    previous: run.startsOver ? [] : (latest?.entitlements ?? []),
    computed: computed.effective,
    initial: latest === null,
    newlyDelegated: newlyDelegatedTools(computed.effective, latest),
    sponsorId: run.personId,
    policy: run.governance.growthNeedsConfirmation,
    grants: await tx.openGrants(agentId),
  });
  await keepGrantsInStep(tx, agentId, run, growth);
  const diff = diffEntitlements(latest?.entitlements ?? [], growth.effective);
  if (latest !== null && isEmptyDiff(diff)) return null;
  const next = run.agent.currentVersion + 1;
  const reason = describeReason(computed.denied[0]?.reason, growth.effective.length, run.pending.changeKinds);
  const targetIds = deps.targetIds();
  const committed = await tx.commitVersion(
    run.agent.currentVersion,
    {
      agentId, version: next, sponsorId: run.personId, entitlements: growth.effective, denied: deniedWith(computed.denied, growth), reason,
      changeEventIds: run.pending.changeEventIds, computedAt: run.now,
    },
    targetIds,
    run.pending.changeEventIds.at(-1) ?? null,
    {
      at: run.now, actor: 'system:recompute', action: 'entitlements.changed', subjectType: 'agent', subjectId: agentId,
      detail: {
        version: next, sponsorId: run.personId, granted: diff.granted, revoked: diff.revoked, reason, changeEventIds: run.pending.changeEventIds,
        ...(growth.pending.length > 0 ? { pending: growth.pending.map((entitlement) => entitlement.toolId) } : {}),
      },
    },
  );
  if (!committed) throw new AppError('conflict', `agent ${agentId} changed during recompute`);
  return {
    summary: { agentId, version: next, granted: diff.granted.length, revoked: diff.revoked.length },
    pushes: targetIds.map((targetId) => ({ targetId, agentId, version: next })),
  };
}

async function keepGrantsInStep(tx: RecomputeTx, agentId: string, run: AgentRun, growth: GrowthDecision): Promise<void> {
  if (growth.newPending.length > 0) {
    await tx.insertPendingGrants(agentId, run.personId, growth.newPending, run.now);
    await tx.appendAudit({
      at: run.now, actor: 'system:recompute', action: 'grant.pending', subjectType: 'agent', subjectId: agentId,
      detail: { sponsorId: run.personId, tools: growth.newPending.map((entitlement) => entitlement.toolId), changeEventIds: run.pending.changeEventIds },
    });
  }
  if (growth.applied.length > 0) await tx.closeGrants(growth.applied, 'applied', run.now);
  if (growth.withdrawn.length > 0) await tx.closeGrants(growth.withdrawn, 'withdrawn', run.now);
}

/** The computation's denials plus growth that waits for (or was refused) confirmation, by tool id. */
function deniedWith(denied: readonly Denial[], growth: GrowthDecision): Denial[] {
  const extra: Denial[] = [
    ...growth.pending.map((entitlement): Denial => ({ toolId: entitlement.toolId, reason: 'pending_confirmation' })),
    ...growth.rejected.map((entitlement): Denial => ({ toolId: entitlement.toolId, reason: 'confirmation_rejected' })),
  ];
  return [...denied, ...extra].sort((left, right) => (left.toolId < right.toolId ? -1 : left.toolId > right.toolId ? 1 : 0));
}

async function enqueueAfterCommit(deps: RecomputeDeps, pushes: readonly Push[], successors: readonly string[]): Promise<void> {
  try {
    if (pushes.length > 0) await deps.queue.enqueuePush(pushes);
    if (successors.length > 0) await deps.queue.enqueueRecompute(successors);
  } catch (error) {
    deps.logger.warn({ err: error, pushes: pushes.length, recomputes: successors.length }, 'enqueue after recompute failed; the outbox relay will retry');
  }
}

/** A short machine-readable reason: a blanket denial wins (leaver, expiry), else the kinds of change. */
function describeReason(firstDenial: string | undefined, effectiveCount: number, kinds: readonly string[]): string {
  const blanket = new Set(['agent_not_active', 'agent_expired', 'no_delegation', 'delegation_not_yet_valid', 'delegation_expired', 'sponsor_missing', 'sponsor_inactive']);
  if (effectiveCount === 0 && firstDenial !== undefined && blanket.has(firstDenial)) return firstDenial;
  const unique = [...new Set(kinds)].filter((kind) => kind !== 'noop');
  return unique.length === 0 ? 'recompute' : unique.join('+');
}
