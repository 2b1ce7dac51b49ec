import { AppError } from '../../domain/errors.js';
import { explainTool, type Explanation } from '../../domain/explain.js';
import type { Clock } from '../ports.js';
import type { EntitlementVersionRecord } from '../records.js';
import type { GrantView } from './grants.js';

/** Versioned facts for one point in time; `at` null means now. */
export interface ExplainStore {
  getAgentRecord(id: string): Promise<{ id: string; sponsorId: string; delegationId: string | null; createdAt: Date } | null>;
  versionAt(agentId: string, at: Date): Promise<EntitlementVersionRecord | null>;
  /** The first version of the unbroken run of versions up to `upto` that hold the tool. */
  grantingVersion(agentId: string, toolId: string, upto: number): Promise<EntitlementVersionRecord | null>;
  changeEventsById(ids: readonly string[]): Promise<{ id: string; kind: string; origin: string; receivedAt: Date }[]>;
  /** The sponsor's direct membership in the group at `at` (from membership history), or null. */
  membershipAt(groupId: string, memberId: string, at: Date): Promise<{ since: Date } | null>;
  ruleVersionCreatedAt(ruleId: string, version: number): Promise<Date | null>;
  delegationById(id: string): Promise<{ id: string; approver: string; notBefore: Date | null; expiresAt: Date | null } | null>;
  /** Grants of the agent for the tool, newest first. */
  grantsFor(agentId: string, toolId: string): Promise<GrantView[]>;
  /** Per target, the newest version applied to the agent by `at`. */
  appliedAt(agentId: string, at: Date): Promise<{ targetId: string; version: number; appliedAt: Date }[]>;
}

export interface ExplainDeps {
  readonly store: ExplainStore;
  readonly clock: Clock;
  readonly targetIds: () => readonly string[];
}

/**
 * Explains one tool of one agent, now or at a past instant, from versioned data: entitlement versions,
 * change events, membership history, rule versions, delegations, pending grants and deliveries.
 */
export async function explainAgentTool(deps: ExplainDeps, agentId: string, toolId: string, at: Date | null): Promise<Explanation> {
  const agent = await deps.store.getAgentRecord(agentId);
  if (agent === null) throw new AppError('not_found', 'agent not found', { detail: `Agent ${agentId} not found` });
  const when = at ?? deps.clock();
  const version = await deps.store.versionAt(agentId, when);
  const entitlement = version?.entitlements.find((candidate) => candidate.toolId === toolId);
  const grants = (await deps.store.grantsFor(agentId, toolId)).filter((grant) => grant.createdAt.getTime() <= when.getTime());
  if (version === null || entitlement === undefined) {
    return explainTool({
      ...emptyFacts(agentId, toolId, when, deps.targetIds()),
      version: version === null ? null : { ...version },
      grant: openGrantAt(grants, when),
    });
  }
  const origin = (await deps.store.grantingVersion(agentId, toolId, version.version)) ?? version;
  const via = entitlement.provenance.via;
  const membership = via.kind === 'group' ? await deps.store.membershipAt(via.groupId, version.sponsorId, when) : null;
  const confirmation = grants.find((grant) => grant.status === 'applied' && grant.closedAt?.getTime() === origin.computedAt.getTime()) ?? null;
  return explainTool({
    agentId, toolId, at: when, sponsorId: version.sponsorId, targetIds: deps.targetIds(),
    version: { ...version },
    origin: { version: origin.version, computedAt: origin.computedAt, changeEvents: await deps.store.changeEventsById(origin.changeEventIds) },
    membership: via.kind === 'group' ? { since: membership?.since ?? null, direct: membership !== null } : null,
    rule: await ruleFact(deps.store, entitlement.provenance.ruleId, entitlement.provenance.ruleVersion),
    delegation: await deps.store.delegationById(entitlement.provenance.delegationId),
    grant: confirmation === null ? null : { id: confirmation.id, status: 'applied', decidedBy: confirmation.decidedBy, decidedAt: confirmation.decidedAt },
    applied: await deps.store.appliedAt(agentId, when),
  });
}

async function ruleFact(store: ExplainStore, ruleId: string, version: number): Promise<{ createdAt: Date } | null> {
  const createdAt = await store.ruleVersionCreatedAt(ruleId, version);
  return createdAt === null ? null : { createdAt };
}

function emptyFacts(agentId: string, toolId: string, at: Date, targetIds: readonly string[]) {
  return { agentId, toolId, at, sponsorId: null, origin: null, membership: null, rule: null, delegation: null, applied: [], targetIds };
}

/** The grant open at `at`, with the status it had then (a later decision is not known yet at `at`). */
function openGrantAt(grants: readonly GrantView[], at: Date): { id: string; status: string; decidedBy: string | null; decidedAt: Date | null } | null {
  const time = at.getTime();
  const open = grants.find((grant) => grant.closedAt === null || grant.closedAt.getTime() > time);
  if (open === undefined) return null;
  const decided = open.decidedAt !== null && open.decidedAt.getTime() <= time;
  return { id: open.id, status: decided ? open.status === 'applied' || open.status === 'withdrawn' ? 'confirmed' : open.status : 'pending', decidedBy: decided ? open.decidedBy : null, decidedAt: decided ? open.decidedAt : null };
}
