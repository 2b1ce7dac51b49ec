/**
 * Pending grants: growth of a write/orchestrate tool waits until the sponsor or an admin confirms it.
 * A confirmation takes effect through the sponsor's recompute (a new entitlement version); a rejection keeps
 * the tool out while the sponsor's coverage lasts. Both are audited.
 */
import { AppError } from '../../domain/errors.js';
import type { GrantStatus } from '../../domain/growth.js';
import type { Entitlement, RiskClass } from '../../domain/types.js';
import { enqueueAfterCommit } from '../directory/people.js';
import type { Clock, Logger, WorkQueue } from '../ports.js';
import type { AuditEntry, OutboxRow } from '../records.js';

export interface GrantView {
  readonly id: string;
  readonly agentId: string;
  readonly toolId: string;
  readonly risk: RiskClass;
  /** The sponsor whose coverage proposes the grant. */
  readonly sponsorId: string;
  /** The entitlement, with the provenance that would grant it. */
  readonly entitlement: Entitlement;
  readonly status: GrantStatus;
  readonly createdAt: Date;
  readonly decidedBy: string | null;
  readonly decidedAt: Date | null;
  readonly closedAt: Date | null;
}

export interface GrantsTx {
  lockGrant(agentId: string, grantId: string): Promise<GrantView | null>;
  decideGrant(grantId: string, status: 'confirmed' | 'rejected', actor: string, now: Date): Promise<GrantView>;
  lockGovernedAgent(id: string): Promise<{ id: string; sponsorId: string } | null>;
  insertOutbox(rows: readonly OutboxRow[]): Promise<void>;
  appendAudit(entry: AuditEntry): Promise<void>;
}

export interface GrantsDeps {
  readonly store: {
    transaction<T>(work: (tx: GrantsTx) => Promise<T>): Promise<T>;
    listGrants(agentId: string, statuses: readonly GrantStatus[]): Promise<GrantView[]>;
    lockGovernedAgent(id: string): Promise<{ id: string } | null>;
  };
  readonly queue: WorkQueue;
  readonly clock: Clock;
  readonly logger: Logger;
}

export async function listGrants(deps: GrantsDeps, agentId: string, statuses: readonly GrantStatus[]): Promise<GrantView[]> {
  if ((await deps.store.lockGovernedAgent(agentId)) === null) throw new AppError('not_found', 'agent not found', { detail: `Agent ${agentId} not found` });
  return deps.store.listGrants(agentId, statuses);
}

/**
 * Confirms or rejects a pending grant. A confirmation queues the sponsor's recompute in the same
 * transaction (outbox), so it takes effect even if the queue is down when the request is answered.
 */
export async function decideGrant(deps: GrantsDeps, actor: string, agentId: string, grantId: string, decision: 'confirmed' | 'rejected'): Promise<GrantView> {
  const { grant, sponsorId } = await deps.store.transaction(async (tx) => {
    const agent = await tx.lockGovernedAgent(agentId);
    if (agent === null) throw new AppError('not_found', 'agent not found', { detail: `Agent ${agentId} not found` });
    const current = await tx.lockGrant(agentId, grantId);
    if (current === null) throw new AppError('not_found', 'grant not found', { detail: `Pending grant ${grantId} of agent ${agentId} not found` });
    if (current.status !== 'pending') {
      throw new AppError('precondition_failed', `grant is ${current.status}`, {
        detail: `Pending grant ${grantId} is ${current.status}; only a pending grant can be confirmed or rejected`,
      });
    }
    const now = deps.clock();
    const decided = await tx.decideGrant(grantId, decision, actor, now);
    if (decision === 'confirmed') await tx.insertOutbox([{ kind: 'recompute', personId: agent.sponsorId, changeEventId: null }]);
    await tx.appendAudit({
      at: now, actor, action: decision === 'confirmed' ? 'grant.confirmed' : 'grant.rejected', subjectType: 'agent', subjectId: agentId,
      detail: { grantId, toolId: decided.toolId, risk: decided.risk, sponsorId: decided.sponsorId, ruleId: decided.entitlement.provenance.ruleId },
    });
    return { grant: decided, sponsorId: agent.sponsorId };
  });
  if (decision === 'confirmed') await enqueueAfterCommit(deps, [sponsorId]);
  return grant;
}
