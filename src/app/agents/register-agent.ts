import { expandRequested } from '../../domain/entitlements.js';
import { AppError } from '../../domain/errors.js';
import { isToolPattern } from '../../domain/patterns.js';
import type { Environment } from '../../domain/types.js';
import { enqueueAfterCommit } from '../directory/people.js';
import { boundDelegationExpiry } from '../governance/delegation-lifetime.js';
import type { GovernancePolicy } from '../governance/policy.js';
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
  /** Maximum delegation lifetime per risk class; none when absent. */
  readonly governance?: () => GovernancePolicy;
}

/** Where a registration comes from: the admin API, an identity provider over SCIM (`/Agents`), or an LDAP sync. */
export interface RegistrationChannel {
  /** Audit label of who registered it (`admin_token:...`, `scim_token:...`). */
  readonly actor: string;
  readonly origin: 'admin' | 'scim' | 'ldap';
  readonly sourceId: string | null;
  readonly receivedAt: Date;
}

export async function registerAgent(deps: RegisterAgentDeps, actor: Actor, input: RegisterAgentInput): Promise<AgentRecord> {
  validateRegistrationTools(input, deps.policy());
  const channel: RegistrationChannel = { actor: actorLabel(actor), origin: 'admin', sourceId: null, receivedAt: deps.clock() };
  const bounded = withDelegationLifetime(input, deps, channel.receivedAt);
  const agent = await deps.store.transaction((tx) => registerAgentInTx(tx, bounded, channel, deps.clock()));
  await enqueueAfterCommit(deps, [agent.sponsorId]);
  return agent;
}

/**
 * The registration with its delegation's expiry under `policy.maxDelegationDays`: refused (invalid_input naming
 * the limit) beyond the limit of its riskiest delegated tool, the longest allowed when absent.
 */
export function withDelegationLifetime(
  input: RegisterAgentInput,
  deps: { readonly policy: () => Policy; readonly governance?: () => GovernancePolicy },
  now: Date,
): RegisterAgentInput {
  const limits = deps.governance?.().maxDelegationMs ?? {};
  const expiresAt = boundDelegationExpiry({ requestedTools: input.requestedTools, ...input.delegation }, deps.policy(), limits, now);
  return expiresAt === input.delegation.expiresAt ? input : { ...input, delegation: { ...input.delegation, expiresAt } };
}

/** Refuses requested or delegated tools that match nothing in the catalog, before anything is written. */
export function validateRegistrationTools(input: RegisterAgentInput, policy: Policy): void {
  validateTools(input.requestedTools, policy, 'requestedTools');
  if (input.delegation.tools !== null) validateTools(input.delegation.tools, policy, 'delegation.tools');
}

/**
 * The registration itself, inside the caller's transaction: agent row, delegation record, change event,
 * recompute outbox row and audit entry commit together. The caller enqueues the recompute after commit.
 */
export async function registerAgentInTx(tx: RegisterAgentTx, input: RegisterAgentInput, channel: RegistrationChannel, now: Date): Promise<AgentRecord> {
  const sponsor = await requireSponsor(tx, input.sponsor, 'sponsor');
  const backups: string[] = [];
  for (const [index, ref] of input.backupSponsors.entries()) {
    const backup = await requireSponsor(tx, ref, `backupSponsors[${index}]`);
    if (backup.id !== sponsor.id && !backups.includes(backup.id)) backups.push(backup.id);
  }
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
    sourceId: channel.sourceId,
    origin: channel.origin,
    kind: 'agent_registered',
    subjectType: 'agent',
    subjectId: agentId,
    detail: { environment: agent.environment, requestedTools: agent.requestedTools.length },
    sourceTime: null,
    receivedAt: channel.receivedAt,
    committedAt: now,
  });
  await tx.insertOutbox([{ kind: 'recompute', personId: sponsor.id, changeEventId: eventId }]);
  await tx.appendAudit({
    at: now,
    actor: channel.actor,
    action: 'agent.registered',
    subjectType: 'agent',
    subjectId: agentId,
    detail: { changeEventId: eventId, sponsorId: sponsor.id, delegationId, requestedTools: agent.requestedTools },
  });
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

/** Every entry must be a tool id or pattern that matches at least one tool of the catalog. */
export function validateTools(tools: readonly string[], policy: Policy, field: string): void {
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
