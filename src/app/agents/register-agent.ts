import { expandRequested } from '../../domain/entitlements.js';
import { AppError } from '../../domain/errors.js';
import { isToolPattern } from '../../domain/patterns.js';
import type { Environment } from '../../domain/types.js';
import { enqueueAfterCommit } from '../directory/people.js';
import type { Clock, Logger, Policy, WorkQueue } from '../ports.js';
import type { Actor, AgentRecord, AuditEntry, ChangeEventWrite, DelegationRecord, OutboxRow } from '../records.js';
import { actorLabel } from '../records.js';

/** How the admin names the sponsor: Tether's person id, or the directory's own keys within a source. */
export type SponsorRef =
  | { readonly id: string }
  | { readonly sourceId: string; readonly userName: string }
  | { readonly sourceId: string; readonly externalId: string };

export interface RegisterAgentInput {
  readonly name: string;
  readonly purpose: string;
  readonly environment: Environment;
  readonly sponsor: SponsorRef;
  readonly backupSponsors: readonly SponsorRef[];
  readonly owner: string | null;
  readonly requestedTools: readonly string[];
  readonly expiresAt: Date | null;
  readonly delegation: {
    readonly approver: string;
    readonly justification: string;
    /** Defaults to the requested tools. */
    readonly tools: readonly string[] | null;
    readonly targetSystems: readonly string[];
    readonly notBefore: Date | null;
    readonly expiresAt: Date | null;
  };
}

export interface RegisterAgentTx {
  /** The person, if it exists and is not deleted. */
  findPerson(ref: SponsorRef): Promise<{ id: string; active: boolean } | null>;
  insertAgent(agent: AgentRecord): Promise<void>;
  insertDelegation(delegation: DelegationRecord): Promise<void>;
  insertChangeEvent(event: ChangeEventWrite): Promise<void>;
  insertOutbox(rows: readonly OutboxRow[]): Promise<void>;
  appendAudit(entry: AuditEntry): Promise<void>;
}

export interface RegisterAgentDeps {
  readonly store: { transaction<T>(work: (tx: RegisterAgentTx) => Promise<T>): Promise<T> };
  readonly queue: WorkQueue;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly policy: () => Policy;
}

export async function registerAgent(deps: RegisterAgentDeps, actor: Actor, input: RegisterAgentInput): Promise<AgentRecord> {
  validateTools(input.requestedTools, deps.policy(), 'requestedTools');
  if (input.delegation.tools !== null) validateTools(input.delegation.tools, deps.policy(), 'delegation.tools');
  const receivedAt = deps.clock();
  const agent = await deps.store.transaction(async (tx) => {
    const sponsor = await requireSponsor(tx, input.sponsor, 'sponsor');
    const backups: string[] = [];
    for (const [index, ref] of input.backupSponsors.entries()) {
      const backup = await requireSponsor(tx, ref, `backupSponsors[${index}]`);
      if (backup.id !== sponsor.id && !backups.includes(backup.id)) backups.push(backup.id);
    }
    const now = deps.clock();
    const agentId = crypto.randomUUID();
    const delegationId = crypto.randomUUID();
    const agent: AgentRecord = {
      id: agentId,
      name: input.name,
      purpose: input.purpose,
      environment: input.environment,
      state: 'active',
      sponsorId: sponsor.id,
      backupSponsorIds: backups,
      owner: input.owner,
      requestedTools: [...new Set(input.requestedTools)],
      expiresAt: input.expiresAt,
      delegationId,
      currentVersion: 0,
      createdAt: now,
      updatedAt: now,
    };
    await tx.insertAgent(agent);
    await tx.insertDelegation({
      id: delegationId,
      agentId,
      approver: input.delegation.approver,
      justification: input.delegation.justification,
      tools: input.delegation.tools ?? agent.requestedTools,
      targetSystems: input.delegation.targetSystems,
      notBefore: input.delegation.notBefore,
      expiresAt: input.delegation.expiresAt,
      createdAt: now,
    });
    const eventId = crypto.randomUUID();
    await tx.insertChangeEvent({
      id: eventId,
      sourceId: null,
      origin: 'admin',
      kind: 'agent_registered',
      subjectType: 'agent',
      subjectId: agentId,
      detail: { environment: agent.environment, requestedTools: agent.requestedTools.length },
      sourceTime: null,
      receivedAt,
      committedAt: now,
    });
    await tx.insertOutbox([{ kind: 'recompute', personId: sponsor.id, changeEventId: eventId }]);
    await tx.appendAudit({
      at: now,
      actor: actorLabel(actor),
      action: 'agent.registered',
      subjectType: 'agent',
      subjectId: agentId,
      detail: { changeEventId: eventId, sponsorId: sponsor.id, delegationId, requestedTools: agent.requestedTools },
    });
    return agent;
  });
  await enqueueAfterCommit(deps, [agent.sponsorId]);
  return agent;
}

async function requireSponsor(tx: RegisterAgentTx, ref: SponsorRef, field: string): Promise<{ id: string }> {
  const person = await tx.findPerson(ref);
  if (person === null) {
    throw new AppError('invalid_input', `${field}: no such person`, { detail: `${field} does not name a known person`, meta: { field } });
  }
  if (!person.active) {
    throw new AppError('invalid_input', `${field}: person is not active`, { detail: `${field} names an inactive person`, meta: { field } });
  }
  return person;
}

function validateTools(tools: readonly string[], policy: Policy, field: string): void {
  for (const tool of tools) {
    const known = isToolPattern(tool) && expandRequested([tool], policy.catalog).some((id) => policy.catalog.has(id));
    if (!known) {
      throw new AppError('invalid_input', `${field}: unknown tool ${tool}`, {
        detail: `${field} contains "${tool}", which matches no tool in the catalog`,
        meta: { field },
      });
    }
  }
}
