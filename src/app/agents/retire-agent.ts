import type { ExpectedVersion } from '../expected-version.js';
import { enqueueAfterCommit } from '../directory/people.js';
import type { AgentChangeContext } from './agent-write.js';
import { lockLiveAgent, recordAgentChange, type AgentChangeDeps, type AgentChangeTx } from './update-agent.js';

/**
 * Retires an agent (SCIM DELETE /Agents/{id}): the row stays with its history (delegations, versions,
 * audit), its state becomes `retired`, and its sponsor's recompute revokes every right it still holds
 * through the normal pipeline. A retired agent is gone for SCIM: reads answer 404.
 */
export async function retireAgent(deps: AgentChangeDeps<AgentChangeTx>, context: AgentChangeContext, id: string, expectedRevision: ExpectedVersion): Promise<void> {
  const sponsorId = await deps.store.transaction(async (tx) => {
    const current = await lockLiveAgent(tx, id, expectedRevision);
    const now = deps.clock();
    await tx.updateAgentRow(id, {
      name: current.name, purpose: current.purpose, environment: current.environment, state: 'retired', sponsorId: current.sponsorId,
      backupSponsorIds: current.backupSponsorIds, requestedTools: current.requestedTools, expiresAt: current.expiresAt,
      delegationId: current.delegationId, profile: current.profile,
    }, now);
    await recordAgentChange(tx, context, { agentId: id, kind: 'agent_retired', sponsorId: current.sponsorId, detail: { previousState: current.state }, now });
    return current.sponsorId;
  });
  await enqueueAfterCommit(deps, [sponsorId]);
}
