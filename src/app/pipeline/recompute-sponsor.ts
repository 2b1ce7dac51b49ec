import { computeEntitlements } from '../../domain/entitlements.js';
import { diffEntitlements, isEmptyDiff } from '../../domain/diff.js';
import { AppError } from '../../domain/errors.js';
import type { AgentSnapshot, SponsorSnapshot } from '../../domain/types.js';
import type { Clock, Logger, Policy, WorkQueue } from '../ports.js';
import type { AuditEntry, EntitlementVersionRecord } from '../records.js';

export interface PendingRecompute {
  readonly outboxIds: readonly number[];
  readonly changeEventIds: readonly string[];
  readonly changeKinds: readonly string[];
}

export interface SponsoredAgent {
  readonly snapshot: AgentSnapshot;
  readonly currentVersion: number;
}

export interface RecomputeTx {
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
}

export interface RecomputeDeps {
  readonly store: { transaction<T>(work: (tx: RecomputeTx) => Promise<T>): Promise<T> };
  readonly queue: WorkQueue;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly policy: () => Policy;
  readonly targetIds: () => readonly string[];
}

export interface RecomputeResult {
  readonly agents: number;
  readonly versions: readonly { agentId: string; version: number; granted: number; revoked: number }[];
}

/**
 * Recomputes every agent a sponsor sponsors from current state and commits new entitlement versions with
 * compare-and-set, so a duplicate or late job can never overwrite newer state. The outbox rows this run
 * covers are read before the state, so any change they stand for is visible to it.
 */
export async function recomputeSponsor(deps: RecomputeDeps, personId: string): Promise<RecomputeResult> {
  const { result, pushes } = await deps.store.transaction(async (tx) => {
    const pending = await tx.pendingRecomputes(personId);
    const sponsor = await tx.sponsorSnapshot(personId);
    const agents = await tx.agentsSponsoredBy(personId);
    const policy = deps.policy();
    const now = deps.clock();
    const versions: { agentId: string; version: number; granted: number; revoked: number }[] = [];
    const pushes: { targetId: string; agentId: string; version: number }[] = [];
    for (const agent of agents) {
      const latest = await tx.latestVersion(agent.snapshot.id);
      const computed = computeEntitlements({ agent: agent.snapshot, sponsor, ...policy, now });
      const diff = diffEntitlements(latest?.entitlements ?? [], computed.effective);
      if (latest !== null && isEmptyDiff(diff)) continue;
      const next = agent.currentVersion + 1;
      const reason = describeReason(computed.denied[0]?.reason, computed.effective.length, pending.changeKinds);
      const targetIds = deps.targetIds();
      const committed = await tx.commitVersion(
        agent.currentVersion,
        {
          agentId: agent.snapshot.id,
          version: next,
          sponsorId: personId,
          entitlements: computed.effective,
          denied: computed.denied,
          reason,
          changeEventIds: pending.changeEventIds,
          computedAt: now,
        },
        targetIds,
        pending.changeEventIds.at(-1) ?? null,
        {
          at: now,
          actor: 'system:recompute',
          action: 'entitlements.changed',
          subjectType: 'agent',
          subjectId: agent.snapshot.id,
          detail: { version: next, sponsorId: personId, granted: diff.granted, revoked: diff.revoked, reason, changeEventIds: pending.changeEventIds },
        },
      );
      if (!committed) throw new AppError('conflict', `agent ${agent.snapshot.id} changed during recompute`);
      const targetPushes = targetIds.map((targetId) => ({ targetId, agentId: agent.snapshot.id, version: next }));
      versions.push({ agentId: agent.snapshot.id, version: next, granted: diff.granted.length, revoked: diff.revoked.length });
      pushes.push(...targetPushes);
    }
    await tx.finishRecompute(pending.outboxIds, pending.changeEventIds, now);
    return { result: { agents: agents.length, versions }, pushes };
  });
  if (pushes.length > 0) {
    try {
      await deps.queue.enqueuePush(pushes);
    } catch (error) {
      deps.logger.warn({ err: error, pushes: pushes.length }, 'enqueue push failed; the outbox relay will retry');
    }
  }
  return result;
}

/** A short machine-readable reason: a blanket denial wins (leaver, expiry), else the kinds of change. */
function describeReason(firstDenial: string | undefined, effectiveCount: number, kinds: readonly string[]): string {
  const blanket = new Set(['agent_not_active', 'agent_expired', 'no_delegation', 'delegation_not_yet_valid', 'delegation_expired', 'sponsor_missing', 'sponsor_inactive']);
  if (effectiveCount === 0 && firstDenial !== undefined && blanket.has(firstDenial)) return firstDenial;
  const unique = [...new Set(kinds)].filter((kind) => kind !== 'noop');
  return unique.length === 0 ? 'recompute' : unique.join('+');
}
