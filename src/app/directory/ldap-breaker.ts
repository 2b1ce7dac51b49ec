/**
 * The mass-change circuit breaker as a directory run applies it: people (deletions + deactivations against
 * the source's active people) and directory agents (retirements against its live directory agents; retiring
 * is final, so a mass retirement is held like a mass removal of people). Pure: the run counts, this decides.
 */
import { massChangeVerdict, type MassChangePolicy } from '../../domain/mass-change.js';
import type { SyncRunRecord } from './sync-ports.js';

/** Marks a held reason that names agents: confirming such a run accepts its retirements. */
export const AGENTS_HELD = 'directory agents';

export interface RunRemovals {
  /** Active people of the source before the run. */
  readonly population: number;
  /** Active people the run would delete (mirrored, not read from the directory). */
  readonly deletions: number;
  readonly deactivations: number;
  /** Live directory agents of the source, and how many the run would retire. */
  readonly agentPopulation: number;
  readonly retirements: number;
}

/** Why the run must be held, or null when it may apply. `confirmed`: the held run an admin confirmed. */
export function heldReason(policy: MassChangePolicy, removals: RunRemovals, confirmed: SyncRunRecord | null): string | null {
  const people = massChangeVerdict(policy, {
    population: removals.population, deletions: removals.deletions, deactivations: removals.deactivations,
    confirmedRemovals: confirmed?.confirmedRemovals ?? null,
  });
  const acceptedRetirements = confirmed?.heldReason?.includes(AGENTS_HELD) === true ? removals.retirements : null;
  const agents = massChangeVerdict(policy, {
    population: removals.agentPopulation, deletions: removals.retirements, deactivations: 0, confirmedRemovals: acceptedRetirements,
  });
  const reasons = [
    people.hold ? people.reason : null,
    agents.hold
      ? `would retire ${removals.retirements} of ${removals.agentPopulation} ${AGENTS_HELD}, above the limit of ${Math.round(policy.maxShare * 1000) / 10}% (${agents.limit}); confirm or discard the held run`
      : null,
  ].filter((reason) => reason !== null);
  return reasons.length === 0 ? null : reasons.join('; ');
}
