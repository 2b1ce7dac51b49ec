import { AppError } from '../../domain/errors.js';
import { graceExpired, type SuccessionState } from '../../domain/succession.js';
import type { AgentState } from '../../domain/types.js';
import type { SponsorRef } from '../agents/register-agent.js';
import { enqueueAfterCommit } from '../directory/people.js';
import type { Clock, Logger, WorkQueue } from '../ports.js';
import type { AuditEntry, OutboxRow } from '../records.js';
import type { SponsorshipChange } from './sponsorship.js';

interface GovernedAgent {
  readonly id: string;
  readonly state: AgentState;
  readonly sponsorId: string;
  readonly backupSponsorIds: readonly string[];
  readonly succession: SuccessionState | null;
}

export interface SponsorshipAdminTx {
  lockGovernedAgent(id: string): Promise<GovernedAgent | null>;
  findPerson(ref: SponsorRef): Promise<{ id: string; active: boolean } | null>;
  setSponsorship(agentId: string, change: SponsorshipChange, now: Date): Promise<void>;
  insertOutbox(rows: readonly OutboxRow[]): Promise<void>;
  appendAudit(entry: AuditEntry): Promise<void>;
}

export interface SponsorshipAdminDeps {
  readonly store: { transaction<T>(work: (tx: SponsorshipAdminTx) => Promise<T>): Promise<T> };
  readonly queue: WorkQueue;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * An admin gives an agent a new primary sponsor (`POST /agents/{id}/reassign`). An agent waiting for
 * reassignment, or suspended because nobody took it in time, becomes active again; its rights are then
 * recomputed against the new sponsor, with write/orchestrate growth pending confirmation.
 */
export async function reassignAgent(deps: SponsorshipAdminDeps, actor: string, agentId: string, sponsor: SponsorRef): Promise<void> {
  const sponsorId = await deps.store.transaction(async (tx) => {
    const agent = await tx.lockGovernedAgent(agentId);
    if (agent === null || agent.state === 'retired') throw new AppError('not_found', 'agent not found', { detail: `Agent ${agentId} not found` });
    const person = await tx.findPerson(sponsor);
    if (person === null) throw invalidSponsor('sponsor does not name a known person');
    if (!person.active) throw invalidSponsor('sponsor names an inactive person');
    const resumes = agent.state === 'pending_reassignment' || (agent.state === 'suspended' && agent.succession !== null);
    const now = deps.clock();
    const change: SponsorshipChange = {
      sponsorId: person.id,
      backupSponsorIds: agent.backupSponsorIds.filter((id) => id !== person.id),
      state: resumes ? 'active' : agent.state,
      succession: null,
    };
    await tx.setSponsorship(agentId, change, now);
    await tx.insertOutbox([{ kind: 'recompute', personId: person.id, changeEventId: null }]);
    await tx.appendAudit({
      at: now, actor, action: 'agent.reassigned', subjectType: 'agent', subjectId: agentId,
      detail: {
        previousSponsorId: agent.sponsorId, sponsorId: person.id, previousState: agent.state, state: change.state,
        proposedSponsorId: agent.succession?.proposal.sponsorId ?? null,
      },
    });
    return person.id;
  });
  await enqueueAfterCommit(deps, [sponsorId]);
}

function invalidSponsor(detail: string): AppError {
  return new AppError('invalid_input', detail, { detail, meta: { field: 'sponsor' } });
}

export type SuspensionSweepTx = Pick<SponsorshipAdminTx, 'lockGovernedAgent' | 'setSponsorship' | 'insertOutbox' | 'appendAudit'>;

export interface SuspensionSweepDeps {
  readonly store: {
    dueReassignments(now: Date, limit: number): Promise<string[]>;
    transaction<T>(work: (tx: SuspensionSweepTx) => Promise<T>): Promise<T>;
  };
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * Suspends agents nobody took over within the grace period. Idempotent and safe to run from every worker:
 * each agent is re-read under a row lock and only suspended if it is still waiting and its time is up.
 * The agent already holds no rights (pending_reassignment grants nothing); suspension makes that final
 * until an admin reassigns it.
 */
export async function suspendOverdueReassignments(deps: SuspensionSweepDeps, batchSize = 100): Promise<number> {
  const due = await deps.store.dueReassignments(deps.clock(), batchSize);
  let suspended = 0;
  for (const agentId of due) {
    const done = await deps.store.transaction(async (tx) => {
      const agent = await tx.lockGovernedAgent(agentId);
      const now = deps.clock();
      if (agent === null || agent.state !== 'pending_reassignment' || agent.succession === null || !graceExpired(agent.succession, now)) return false;
      await tx.setSponsorship(agentId, { sponsorId: agent.sponsorId, backupSponsorIds: agent.backupSponsorIds, state: 'suspended', succession: agent.succession }, now);
      await tx.insertOutbox([{ kind: 'recompute', personId: agent.sponsorId, changeEventId: null }]);
      await tx.appendAudit({
        at: now, actor: 'system:succession', action: 'agent.suspended', subjectType: 'agent', subjectId: agentId,
        detail: { reason: 'reassignment_grace_expired', sponsorId: agent.sponsorId, since: agent.succession.since.toISOString(), proposedSponsorId: agent.succession.proposal.sponsorId },
      });
      return true;
    });
    if (done) suspended += 1;
  }
  if (suspended > 0) deps.logger.info({ suspended }, 'suspended agents whose reassignment grace period ended');
  return suspended;
}
