import { AppError } from '../../domain/errors.js';
import { enqueueAfterCommit } from '../directory/people.js';
import { boundDelegationExpiry } from '../governance/delegation-lifetime.js';
import type { GovernancePolicy } from '../governance/policy.js';
import type { Clock, Logger, Policy, WorkQueue } from '../ports.js';
import type { AuditEntry, DelegationRecord, OutboxRow } from '../records.js';
import {
  validateAgentWrite, type AgentChangeContext, type AgentChangeEvent, type AgentChangeKind, type AgentRowChange,
  type AgentValidationTx, type AgentWrite, type ProvisionedAgent,
} from './agent-write.js';
import { validateTools } from './register-agent.js';
import { changedFields, kindOf, nextState, sameSet } from './agent-transitions.js';
import { describeExpected, versionMatches, type ExpectedVersion } from '../expected-version.js';

/** The columns an update rewrites; the store bumps `revision` and `updated_at` with them. */
export type { AgentRowChange } from './agent-write.js';

/** What changing a live agent needs from its transaction. */
export interface AgentChangeTx {
  /** Locks the agent row for the rest of the transaction; null when absent or retired. */
  lockProvisionedAgent(id: string): Promise<ProvisionedAgent | null>;
  updateAgentRow(id: string, change: AgentRowChange, now: Date): Promise<void>;
  insertChangeEvent(event: AgentChangeEvent): Promise<void>;
  insertOutbox(rows: readonly OutboxRow[]): Promise<void>;
  appendAudit(entry: AuditEntry): Promise<void>;
}

export interface UpdateAgentTx extends AgentChangeTx, AgentValidationTx {
  insertDelegation(delegation: DelegationRecord): Promise<void>;
}

export interface AgentChangeDeps<Tx> {
  readonly store: { transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> };
  readonly queue: WorkQueue;
  readonly clock: Clock;
  readonly logger: Logger;
}

export type UpdateAgentDeps = AgentChangeDeps<UpdateAgentTx> & { readonly policy: () => Policy; readonly governance?: () => GovernancePolicy };

/**
 * Replaces an agent's state with `produce(current)` (SCIM PUT, or PATCH applied to the current
 * representation). Owners become sponsor and backups; `active: false` suspends, `active: true` resumes; new
 * requested tools get a new delegation record. Row, delegation, change event, audit and the recompute outbox
 * row commit together; a write that changes nothing commits nothing.
 */
export async function updateAgent(
  deps: UpdateAgentDeps,
  context: AgentChangeContext,
  id: string,
  produce: (current: ProvisionedAgent) => AgentWrite,
  expectedRevision: ExpectedVersion,
): Promise<void> {
  const sponsorId = await deps.store.transaction(async (tx) => {
    const current = await lockLiveAgent(tx, id, expectedRevision);
    const write = produce(current);
    validateTools(write.requestedTools, deps.policy(), 'requestedTools');
    const [sponsor, ...backups] = await validateAgentWrite(tx, context.sourceId, write, { id, ownerIds: [current.sponsorId, ...current.backupSponsorIds] });
    const now = deps.clock();
    const state = nextState(current.state, write.active, sponsor !== current.sponsorId);
    const requestedTools = [...new Set(write.requestedTools)];
    const toolsChanged = !sameSet(requestedTools, current.requestedTools);
    const change: AgentRowChange = {
      name: write.name, purpose: write.purpose, environment: write.environment, state, sponsorId: sponsor ?? current.sponsorId,
      backupSponsorIds: backups, requestedTools, expiresAt: write.expiresAt,
      delegationId: toolsChanged ? crypto.randomUUID() : current.delegationId, profile: write.profile,
    };
    const changed = changedFields(current, change);
    if (changed.length === 0) return null;
    if (toolsChanged && change.delegationId !== null) {
      // The new delegation lasts as long as policy.maxDelegationDays allows for its riskiest tool (no limit: open-ended).
      const expiresAt = boundDelegationExpiry({ requestedTools, tools: null, notBefore: null, expiresAt: null }, deps.policy(), deps.governance?.().maxDelegationMs ?? {}, now);
      await tx.insertDelegation({
        id: change.delegationId, agentId: id, approver: context.actor, justification: 'requested tools changed over SCIM',
        tools: requestedTools, targetSystems: [], notBefore: null, expiresAt, createdAt: now,
      });
    }
    await tx.updateAgentRow(id, change, now);
    await recordAgentChange(tx, context, { agentId: id, kind: kindOf(current.state, state), sponsorId: change.sponsorId, detail: { changed }, now });
    return change.sponsorId;
  });
  if (sponsorId !== null) await enqueueAfterCommit(deps, [sponsorId]);
}

/** The live agent, locked, at the revision the client expects (SCIM If-Match), or an AppError. */
export async function lockLiveAgent(tx: AgentChangeTx, id: string, expectedRevision: ExpectedVersion): Promise<ProvisionedAgent> {
  const current = await tx.lockProvisionedAgent(id);
  if (current === null) throw new AppError('not_found', `Agent ${id} not found`, { detail: `Resource ${id} not found` });
  if (expectedRevision !== null && !versionMatches(expectedRevision, current.revision)) {
    throw new AppError('precondition_failed', 'version mismatch', { detail: `Resource ${id} has changed since version ${describeExpected(expectedRevision)}` });
  }
  return current;
}

/** Change event, audit entry and the sponsor's recompute outbox row, in the caller's transaction. */
export async function recordAgentChange(
  tx: AgentChangeTx,
  context: AgentChangeContext,
  change: { readonly agentId: string; readonly kind: AgentChangeKind; readonly sponsorId: string; readonly detail: Readonly<Record<string, unknown>>; readonly now: Date },
): Promise<void> {
  const eventId = crypto.randomUUID();
  await tx.insertChangeEvent({
    id: eventId, sourceId: context.sourceId, origin: context.origin, kind: change.kind, subjectType: 'agent', subjectId: change.agentId,
    detail: change.detail, sourceTime: null, receivedAt: context.receivedAt, committedAt: change.now,
  });
  await tx.insertOutbox([{ kind: 'recompute', personId: change.sponsorId, changeEventId: eventId }]);
  await tx.appendAudit({
    at: change.now, actor: context.actor, action: `agent.${change.kind.slice('agent_'.length)}`, subjectType: 'agent', subjectId: change.agentId,
    detail: { changeEventId: eventId, sponsorId: change.sponsorId, ...change.detail },
  });
}
