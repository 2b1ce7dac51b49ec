import { AppError } from '../../domain/errors.js';
import type { OpenGrant } from '../../domain/growth.js';
import type { SuccessionAction, SuccessionState } from '../../domain/succession.js';
import type { AgentSnapshot, Entitlement, SponsorSnapshot } from '../../domain/types.js';
import { DEFAULT_GOVERNANCE_POLICY, type GovernancePolicy } from '../governance/policy.js';
import { applySponsorship, planSponsorship, type SponsorshipSubject, type SponsorshipTx } from '../governance/sponsorship.js';
import type { Clock, Logger, Policy, WorkQueue } from '../ports.js';
import type { AuditEntry, EntitlementVersionRecord } from '../records.js';
import { planAgent, type PendingRecompute, type VersionWrite } from './recompute-plan.js';

export interface SponsoredAgent {
  readonly snapshot: AgentSnapshot;
  readonly currentVersion: number;
  readonly backupSponsorIds: readonly string[];
  /** Set while the agent waits in `pending_reassignment` (and kept once the grace sweep suspended it). */
  readonly succession: SuccessionState | null;
}

/** A sponsored agent with what its recompute compares against. */
export interface RecomputeAgent extends SponsoredAgent {
  readonly latest: EntitlementVersionRecord | null;
  /** Open pending grants (pending, confirmed but not yet applied, rejected). */
  readonly grants: readonly OpenGrant[];
}

/** Everything one sponsor's recompute reads, in one consistent snapshot. */
export interface SponsorInputs {
  readonly personId: string;
  readonly pending: PendingRecompute;
  readonly sponsor: SponsorSnapshot | null;
  readonly agents: RecomputeAgent[];
}

export type RecomputeInputs = Map<string, SponsorInputs>;

/** Every write of a batch, applied in a few set-based statements. */
export interface RecomputeWrite {
  readonly now: Date;
  readonly versions: VersionWrite[];
  /** One push outbox row per committed version and target. */
  readonly pushTargetIds: readonly string[];
  readonly audit: AuditEntry[];
  readonly newGrants: { readonly agentId: string; readonly sponsorId: string; readonly entitlements: readonly Entitlement[] }[];
  readonly closedGrants: { readonly id: string; readonly status: 'applied' | 'withdrawn' }[];
  readonly outboxIds: number[];
  readonly changeEventIds: string[];
}

export interface RecomputeTx extends SponsorshipTx {
  /** Pending outbox rows, sponsor snapshot and sponsored agents of each person (every id gets an entry). */
  recomputeInputs(personIds: readonly string[]): Promise<RecomputeInputs>;
  /**
   * Stores new pending grants (one open grant per (agent, tool): a concurrent duplicate is ignored), closes
   * grants, then compare-and-sets each agent's current_version and commits the versions that matched with
   * their push outbox rows, the audit entries, and marks the outbox rows done and the change events
   * computed. Returns the agents whose compare-and-set matched.
   */
  commitRecompute(write: RecomputeWrite): Promise<Set<string>>;
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

interface Succession {
  readonly subject: SponsorshipSubject;
  readonly action: SuccessionAction;
  readonly version: number;
  readonly changeEventId: string | null;
}

/**
 * Recomputes every agent a sponsor sponsors from current state and commits new entitlement versions with
 * compare-and-set, so a duplicate or late job can never overwrite newer state.
 */
export async function recomputeSponsor(deps: RecomputeDeps, personId: string): Promise<RecomputeResult> {
  const [result] = await recomputeSponsors(deps, [personId]);
  return result as RecomputeResult;
}

/**
 * recomputeSponsor for several sponsors in one transaction: two statements read every sponsor's state, the
 * computation is pure, and a few set-based statements write every version, grant, audit entry and outbox
 * mark. Per-statement and per-commit overhead, not the rows, is what a recompute costs, so N sponsors cost
 * about what one does. All or nothing: if any agent's compare-and-set misses, the whole batch rolls back
 * (callers retry sponsors one at a time to confine the failure, see recompute-batcher.ts).
 *
 * The outbox rows a run covers are read in the same snapshot as the state, so any change they stand for
 * is visible to it. Asymmetry: what the sponsor no longer covers goes at once; newly covered tools of a
 * risk class that needs confirmation become pending grants (growth.ts). After a leaver event (even one
 * already undone by a reactivation) the agent starts from nothing, so its write/orchestrate tools need a
 * new confirmation. Succession (a sponsor who left, or came back) commits after the revocation, in the same
 * transaction. Returns one result per person id, in order.
 */
export async function recomputeSponsors(deps: RecomputeDeps, personIds: readonly string[]): Promise<RecomputeResult[]> {
  const governance = deps.governance?.() ?? DEFAULT_GOVERNANCE_POLICY;
  const ids = [...new Set(personIds)];
  const { results, pushes, successors } = await deps.store.transaction(async (tx) => {
    const inputs = await tx.recomputeInputs(ids);
    const now = deps.clock();
    const policy = deps.policy();
    const write: RecomputeWrite = {
      now, versions: [], pushTargetIds: deps.targetIds(), audit: [], newGrants: [], closedGrants: [], outboxIds: [], changeEventIds: [],
    };
    const successions: Succession[] = [];
    const results = new Map<string, RecomputeResult>();
    for (const personId of ids) {
      const input = inputs.get(personId) ?? { personId, pending: { outboxIds: [], changeEventIds: [], changeKinds: [], leaverIds: [] }, sponsor: null, agents: [] };
      const versions = await planSponsor(tx, input, { write, successions, policy, governance, now });
      results.set(personId, { agents: input.agents.length, versions });
    }
    const advanced = await tx.commitRecompute({ ...write, changeEventIds: [...new Set(write.changeEventIds)] });
    const missed = write.versions.find((version) => !advanced.has(version.record.agentId));
    if (missed !== undefined) throw new AppError('conflict', `agent ${missed.record.agentId} changed during recompute`);
    const successors: string[] = [];
    for (const succession of successions) {
      const successor = await applySponsorship(tx, succession.subject, succession.action, { version: succession.version, changeEventId: succession.changeEventId, now });
      if (successor !== null) successors.push(successor);
    }
    const pushes: Push[] = write.versions.flatMap((version) =>
      write.pushTargetIds.map((targetId) => ({ targetId, agentId: version.record.agentId, version: version.record.version })));
    return { results, pushes, successors };
  });
  await enqueueAfterCommit(deps, pushes, successors);
  return personIds.map((personId) => results.get(personId) as RecomputeResult);
}

interface BatchContext {
  readonly write: RecomputeWrite;
  readonly successions: Succession[];
  readonly policy: Policy;
  readonly governance: GovernancePolicy;
  readonly now: Date;
}

/** Plans one sponsor's agents into the batch's write; returns the versions it will commit. */
async function planSponsor(tx: SponsorshipTx, input: SponsorInputs, context: BatchContext): Promise<RecomputeResult['versions'][number][]> {
  const { personId, pending, sponsor } = input;
  const { write, now } = context;
  const versions: RecomputeResult['versions'][number][] = [];
  const changeEventId = pending.changeEventIds.at(-1) ?? null;
  for (const agent of input.agents) {
    const subject = { agentId: agent.snapshot.id, state: agent.snapshot.state, sponsorId: personId, backupSponsorIds: agent.backupSponsorIds, succession: agent.succession };
    const action = await planSponsorship(tx, subject, sponsor, now, context.governance.reassignmentGraceMs);
    // Only this sponsor's own leaver event resets its agents: a successor recomputed under the event of the
    // person it succeeds keeps what its own agents hold.
    const plan = planAgent({
      snapshot: action.kind === 'restore' ? { ...agent.snapshot, state: 'active' } : agent.snapshot,
      currentVersion: agent.currentVersion, latest: agent.latest, grants: agent.grants, sponsor, sponsorId: personId, pending,
      startsOver: action.kind === 'restore' || pending.leaverIds.includes(personId),
      growthPolicy: context.governance.growthNeedsConfirmation, policy: context.policy, now,
    });
    if (plan.newGrants.length > 0) write.newGrants.push({ agentId: agent.snapshot.id, sponsorId: personId, entitlements: plan.newGrants });
    write.closedGrants.push(...plan.applied.map((id) => ({ id, status: 'applied' as const })), ...plan.withdrawn.map((id) => ({ id, status: 'withdrawn' as const })));
    write.audit.push(...plan.audit);
    if (plan.version !== null) {
      write.versions.push(plan.version);
      versions.push({ agentId: agent.snapshot.id, version: plan.version.record.version, granted: plan.version.granted, revoked: plan.version.revoked });
    }
    if (action.kind !== 'none') {
      context.successions.push({ subject, action, version: plan.version?.record.version ?? agent.currentVersion, changeEventId });
    }
  }
  write.outboxIds.push(...pending.outboxIds);
  write.changeEventIds.push(...pending.changeEventIds);
  return versions;
}

async function enqueueAfterCommit(deps: RecomputeDeps, pushes: readonly Push[], successors: readonly string[]): Promise<void> {
  try {
    if (pushes.length > 0) await deps.queue.enqueuePush(pushes);
    if (successors.length > 0) await deps.queue.enqueueRecompute(successors);
  } catch (error) {
    deps.logger.warn({ err: error, pushes: pushes.length, recomputes: successors.length }, 'enqueue after recompute failed; the outbox relay will retry');
  }
}
