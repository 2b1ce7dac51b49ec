import { isDeepStrictEqual } from 'node:util';
import type { AgentState } from '../../domain/types.js';
import type { AgentChangeKind, AgentRowChange, ProvisionedAgent } from './agent-write.js';

/**
 * How a change to a live agent moves its state and what it is recorded as; shared by every writer of
 * agents (SCIM /Agents, directory service accounts) so they cannot drift apart.
 */

/** `active: false` suspends; `active: true` resumes a suspended agent, and a new sponsor takes over a pending reassignment. */
export function nextState(current: AgentState, active: boolean, sponsorChanged: boolean): AgentState {
  if (!active) return 'suspended';
  if (current === 'suspended') return 'active';
  if (current === 'pending_reassignment' && sponsorChanged) return 'active';
  return current;
}

export function kindOf(before: AgentState, after: AgentState): AgentChangeKind {
  if (before !== after && after === 'suspended') return 'agent_suspended';
  if (before !== after && after === 'active') return 'agent_resumed';
  return 'agent_updated';
}

/** Names only: change events and audit details carry no free text from the client. */
export function changedFields(current: ProvisionedAgent, change: AgentRowChange): string[] {
  const checks: [string, boolean][] = [
    ['name', current.name !== change.name],
    ['purpose', current.purpose !== change.purpose],
    ['environment', current.environment !== change.environment],
    ['state', current.state !== change.state],
    ['sponsor', current.sponsorId !== change.sponsorId],
    ['backupSponsors', !isDeepStrictEqual([...current.backupSponsorIds], [...change.backupSponsorIds])],
    ['requestedTools', !sameSet(current.requestedTools, change.requestedTools)],
    ['expiresAt', (current.expiresAt?.getTime() ?? null) !== (change.expiresAt?.getTime() ?? null)],
    ['profile', !isDeepStrictEqual(current.profile, change.profile)],
  ];
  return checks.filter(([, differs]) => differs).map(([name]) => name);
}

export function sameSet(left: readonly string[], right: readonly string[]): boolean {
  const set = new Set(left);
  return set.size === new Set(right).size && right.every((item) => set.has(item));
}
