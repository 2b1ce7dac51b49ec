/**
 * Agents from the directory: service accounts in a source's `agents` scope become Tether agents through the
 * same use cases as the admin API and SCIM (registerAgentInTx, recordAgentChange), inside the sync run's
 * apply transaction, with origin `ldap`. Each agent is keyed by its entry's immutable id in `sync_objects`
 * (type `agent`). The sponsor is the person of the same source whose DN the sponsor attribute names.
 *
 * - A new account whose sponsor is not mirrored (or not active) yet is not registered: it stays pending and
 *   is tried again on every run (the agents scope is read in full each run), so a sponsor that appears in a
 *   later run, or later in the same run, is picked up.
 * - An existing agent whose sponsor DN names nobody mirrored keeps its current sponsor until that DN resolves.
 * - No sponsor at all, or a disabled account: suspended (every right revoked). Enabled again: resumed.
 * - Gone from the directory (or the scope): retired, revoking everything (mark-and-sweep, circuit breaker).
 */
import { isAppError } from '../../domain/errors.js';
import type { AgentChangeContext, AgentProfile, AgentValidationTx, ProvisionedAgent } from '../agents/agent-write.js';
import type { ProvisionAgentTx } from '../agents/provision-agent.js';
import { registerAgentInTx, validateTools, withDelegationLifetime, type RegisterAgentInput, type RegisterAgentTx } from '../agents/register-agent.js';
import { DEFAULT_GOVERNANCE_POLICY, type GovernancePolicy } from '../governance/policy.js';
import { changedFields, kindOf, nextState, sameSet } from '../agents/agent-transitions.js';
import { recordAgentChange, type AgentChangeTx, type AgentRowChange } from '../agents/update-agent.js';
import type { Policy } from '../ports.js';
import { normalizeDn, type ApplyContext, type SyncTx } from './ldap-tx.js';
import type { AgentFacts, SyncedObject } from './sync-ports.js';

/** The sync transaction, with what the agent use cases need from theirs. */
export type AgentSyncTx = SyncTx & RegisterAgentTx & AgentChangeTx & AgentValidationTx & Pick<ProvisionAgentTx, 'setAgentProfile'>;

export interface AgentApplied {
  /** Sponsors to recompute once the transaction has committed. */
  readonly recompute: readonly string[];
  /** Why the account is not (fully) applied yet; null when it is. */
  readonly pending: string | null;
}

/** Shown as the agent's type over SCIM /Agents. */
const AGENT_TYPE = 'directory_service_account';

/** Creates or updates the agent of one service account. */
export async function applyAgent(
  tx: AgentSyncTx, context: ApplyContext, facts: AgentFacts, hash: string, existing: SyncedObject | undefined, policy: Policy | null,
  governance: GovernancePolicy | null = null,
): Promise<AgentApplied> {
  const sourceId = context.change.sourceId;
  const toolsProblem = policy === null ? null : invalidTools(facts.requestedTools, policy);
  if (toolsProblem !== null) return { recompute: [], pending: toolsProblem };
  const sponsors = await livePeople(tx, sourceId, facts.sponsorDn === null ? [] : [facts.sponsorDn]);
  const sponsor = sponsors.ids[0] === undefined ? null : { id: sponsors.ids[0] };
  const backupPeople = await livePeople(tx, sourceId, facts.backupSponsorDns);
  const backups = backupPeople.ids.filter((id) => id !== sponsor?.id);
  // Unresolved references keep the stored hash null, so the next run looks again.
  const settled = sponsors.missing === 0 && backupPeople.missing === 0;
  const synced = (objectId: string) =>
    tx.upsertSyncedObject(sourceId, 'agent', { key: facts.key, objectId, dn: facts.dn, factsHash: settled ? hash : null }, context.runId);

  if (existing !== undefined) {
    const current = await tx.lockProvisionedAgent(existing.objectId);
    // Retired in Tether (admin API, SCIM): it stays retired; the directory entry does not bring it back.
    if (current === null) {
      await synced(existing.objectId);
      return { recompute: [], pending: null };
    }
    const recompute = await updateAgent(tx, context, facts, current, sponsor?.id ?? current.sponsorId, backups);
    await synced(current.id);
    return { recompute, pending: sponsor === null && facts.sponsorDn !== null ? 'sponsor not mirrored yet' : null };
  }
  if (facts.sponsorDn === null) return { recompute: [], pending: 'no sponsor attribute' };
  if (sponsor === null) return { recompute: [], pending: 'sponsor not mirrored yet (or inactive)' };
  if ((await tx.agentIdentityTaken(facts.name, null, null)) !== null) return { recompute: [], pending: `an agent named "${facts.name}" already exists` };
  const actor = actorOf(sourceId);
  const registration: RegisterAgentInput = {
    name: facts.name,
    purpose: facts.purpose,
    environment: facts.environment,
    sponsor: { id: sponsor.id },
    backupSponsors: backups.map((id) => ({ id })),
    owner: null,
    requestedTools: facts.requestedTools,
    expiresAt: null,
    delegation: { approver: actor, justification: `service account in directory source ${sourceId}`, tools: null, targetSystems: [], notBefore: null, expiresAt: null },
  };
  // The directory delegates as any other channel does: policy.maxDelegationDays bounds it, so a directory agent
  // too needs a person to renew its delegation once the longest allowed lifetime is over.
  const bounded = policy === null ? registration : withDelegationLifetime(registration, { policy: () => policy, governance: () => governance ?? DEFAULT_GOVERNANCE_POLICY }, context.change.receivedAt);
  const agent = await registerAgentInTx(tx, bounded, { actor, origin: 'ldap', sourceId, receivedAt: context.change.receivedAt }, context.now);
  await tx.setAgentProfile(agent.id, profileOf(facts), facts.active ? 'active' : 'suspended');
  await synced(agent.id);
  return { recompute: [agent.sponsorId], pending: null };
}

/** An account that left the directory or the scope: the agent is retired and loses every right. */
export async function retireDirectoryAgent(tx: AgentSyncTx, context: ApplyContext, object: { key: string; objectId: string }): Promise<readonly string[]> {
  const sourceId = context.change.sourceId;
  await tx.deleteSyncedObject(sourceId, 'agent', object.key);
  const current = await tx.lockProvisionedAgent(object.objectId);
  if (current === null) return [];
  await tx.updateAgentRow(current.id, { ...rowOf(current), state: 'retired' }, context.now);
  await recordAgentChange(tx, agentContext(context), {
    agentId: current.id, kind: 'agent_retired', sponsorId: current.sponsorId, detail: { previousState: current.state, reason: 'absent_from_directory' }, now: context.now,
  });
  return [current.sponsorId];
}

async function updateAgent(
  tx: AgentSyncTx, context: ApplyContext, facts: AgentFacts, current: ProvisionedAgent, sponsorId: string, backupSponsorIds: readonly string[],
): Promise<readonly string[]> {
  const requestedTools = [...facts.requestedTools];
  const toolsChanged = !sameSet(requestedTools, current.requestedTools);
  const change: AgentRowChange = {
    ...rowOf(current),
    name: facts.name,
    purpose: facts.purpose,
    environment: facts.environment,
    state: nextState(current.state, facts.active && facts.sponsorDn !== null, sponsorId !== current.sponsorId),
    sponsorId,
    backupSponsorIds,
    requestedTools,
    delegationId: toolsChanged ? crypto.randomUUID() : current.delegationId,
    profile: { ...current.profile, displayName: facts.name, description: facts.purpose },
  };
  const changed = changedFields(current, change);
  if (changed.length === 0) return [];
  if (toolsChanged && change.delegationId !== null) {
    await tx.insertDelegation({
      id: change.delegationId, agentId: current.id, approver: actorOf(context.change.sourceId), justification: 'requested tools changed in the directory',
      tools: requestedTools, targetSystems: [], notBefore: null, expiresAt: null, createdAt: context.now,
    });
  }
  await tx.updateAgentRow(current.id, change, context.now);
  await recordAgentChange(tx, agentContext(context), { agentId: current.id, kind: kindOf(current.state, change.state), sponsorId, detail: { changed }, now: context.now });
  return [sponsorId];
}

/** Active people of the source the DNs name, in the order given, and how many DNs named none. */
async function livePeople(tx: AgentSyncTx, sourceId: string, dns: readonly string[]): Promise<{ ids: string[]; missing: number }> {
  const norms = [...new Set(dns.map(normalizeDn))];
  if (norms.length === 0) return { ids: [], missing: 0 };
  const byDn = new Map((await tx.objectsByDn(sourceId, norms)).filter((row) => row.type === 'person').map((row) => [row.dnNorm, row.objectId]));
  const found = norms.map((dnNorm) => byDn.get(dnNorm)).filter((id): id is string => id !== undefined);
  const active = new Set((await tx.personsInSource(sourceId, found)).filter((person) => person.active).map((person) => person.id));
  const ids = [...new Set(found.filter((id) => active.has(id)))];
  return { ids, missing: norms.length - ids.length };
}

function invalidTools(tools: readonly string[], policy: Policy): string | null {
  try {
    validateTools(tools, policy, 'requestedTools');
    return null;
  } catch (error) {
    if (isAppError(error)) return error.message;
    throw error;
  }
}

function rowOf(current: ProvisionedAgent): AgentRowChange {
  return {
    name: current.name, purpose: current.purpose, environment: current.environment, state: current.state, sponsorId: current.sponsorId,
    backupSponsorIds: current.backupSponsorIds, requestedTools: current.requestedTools, expiresAt: current.expiresAt,
    delegationId: current.delegationId, profile: current.profile,
  };
}

function profileOf(facts: AgentFacts): AgentProfile {
  return { externalId: null, displayName: facts.name, description: facts.purpose, agentType: AGENT_TYPE, resource: {} };
}

function actorOf(sourceId: string): string {
  return `ldap:${sourceId}`;
}

function agentContext(context: ApplyContext): AgentChangeContext {
  return { actor: actorOf(context.change.sourceId), sourceId: context.change.sourceId, origin: 'ldap', receivedAt: context.change.receivedAt };
}
