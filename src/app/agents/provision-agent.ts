import { enqueueAfterCommit } from '../directory/people.js';
import type { GovernancePolicy } from '../governance/policy.js';
import type { Clock, Logger, Policy, WorkQueue } from '../ports.js';
import { validateAgentWrite, type AgentChangeContext, type AgentProfile, type AgentValidationTx, type AgentWrite } from './agent-write.js';
import { registerAgentInTx, validateRegistrationTools, withDelegationLifetime, type RegisterAgentInput, type RegisterAgentTx } from './register-agent.js';

export interface ProvisionAgentTx extends RegisterAgentTx, AgentValidationTx {
  /** Writes the provider's profile and the initial state on a freshly registered agent. */
  setAgentProfile(agentId: string, profile: AgentProfile, state: 'active' | 'suspended'): Promise<void>;
}

export interface ProvisionAgentDeps {
  readonly store: { transaction<T>(work: (tx: ProvisionAgentTx) => Promise<T>): Promise<T> };
  readonly queue: WorkQueue;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly policy: () => Policy;
  /** Maximum delegation lifetime per risk class; none when absent. */
  readonly governance?: () => GovernancePolicy;
}

/**
 * An identity provider creates an agent (SCIM POST /Agents). It is registered exactly as the admin API
 * registers one — agent row, delegation approved by the provisioning credential, change event, recompute
 * outbox row and audit entry in one transaction — plus the provider's profile. Returns the agent id.
 */
export async function provisionAgent(deps: ProvisionAgentDeps, context: AgentChangeContext, write: AgentWrite): Promise<string> {
  const draft = registration(write, [], context);
  validateRegistrationTools(draft, deps.policy());
  const agent = await deps.store.transaction(async (tx) => {
    const ownerIds = await validateAgentWrite(tx, context.sourceId, write, null);
    const registered = await registerAgentInTx(
      tx,
      withDelegationLifetime(registration(write, ownerIds, context), deps, context.receivedAt),
      { actor: context.actor, origin: context.origin, sourceId: context.sourceId, receivedAt: context.receivedAt },
      deps.clock(),
    );
    await tx.setAgentProfile(registered.id, write.profile, write.active ? 'active' : 'suspended');
    return registered;
  });
  await enqueueAfterCommit(deps, [agent.sponsorId]);
  return agent.id;
}

function registration(write: AgentWrite, ownerIds: readonly string[], context: AgentChangeContext): RegisterAgentInput {
  const [sponsor, ...backups] = ownerIds;
  return {
    name: write.name,
    purpose: write.purpose,
    environment: write.environment,
    sponsor: { id: sponsor ?? '' },
    backupSponsors: backups.map((id) => ({ id })),
    owner: null,
    requestedTools: write.requestedTools,
    expiresAt: write.expiresAt,
    delegation: {
      approver: context.actor,
      justification: 'provisioned over SCIM',
      tools: null,
      targetSystems: [],
      notBefore: null,
      expiresAt: null,
    },
  };
}
