/**
 * The mass-change circuit breaker as a directory run applies it: people (deletions + deactivations against
 * the source's active people), groups (removals against its mirrored groups: a groups base DN or filter
 * gone wrong removes every group, and with them every group-based right, without one person leaving) and
 * directory agents (retirements against its live directory agents; retiring is final, so a mass retirement
 * is held like a mass removal of people). Pure: the run counts, this decides.
 */
import { massChangeVerdict, type MassChangePolicy } from '../../domain/mass-change.js';
import type { SyncRunRecord } from './sync-ports.js';

/** Marks a held reason that names agents: confirming such a run accepts its retirements. */
export const AGENTS_HELD = 'directory agents';
/** Marks a held reason that names groups: confirming such a run accepts its group removals. */
export const GROUPS_HELD = 'directory groups';

export interface RunRemovals {
  /** Active people of the source before the run. */
  readonly population: number;
  /** Active people the run would delete (mirrored, not read from the directory). */
  readonly deletions: number;
  readonly deactivations: number;
  /** Live directory agents of the source, and how many the run would retire. */
  readonly agentPopulation: number;
  readonly retirements: number;
  /** Mirrored groups of the source, and how many the run would remove. */
  readonly groupPopulation: number;
  readonly groupRemovals: number;
}

/** Why the run must be held, or null when it may apply. `confirmed`: the held run an admin confirmed. */
export function heldReason(policy: MassChangePolicy, removals: RunRemovals, confirmed: SyncRunRecord | null): string | null {
  const people = massChangeVerdict(policy, {
    population: removals.population, deletions: removals.deletions, deactivations: removals.deactivations,
    confirmedRemovals: confirmed?.confirmedRemovals ?? null,
  });
  const reasons = [
    people.hold ? people.reason : null,
    others(policy, 'retire', AGENTS_HELD, removals.agentPopulation, removals.retirements, confirmed),
    others(policy, 'remove', GROUPS_HELD, removals.groupPopulation, removals.groupRemovals, confirmed),
  ].filter((reason) => reason !== null);
  return reasons.length === 0 ? null : reasons.join('; ');
}

/** The verdict on agents or groups; a confirmed run whose reason named them accepts their removal. */
function others(policy: MassChangePolicy, verb: string, what: string, population: number, removals: number, confirmed: SyncRunRecord | null): string | null {
  const accepted = confirmed?.heldReason?.includes(what) === true ? removals : null;
  const verdict = massChangeVerdict(policy, { population, deletions: removals, deactivations: 0, confirmedRemovals: accepted });
  if (!verdict.hold) return null;
  return `would ${verb} ${removals} of ${population} ${what}, above the limit of ${Math.round(policy.maxShare * 1000) / 10}% (${verdict.limit}); confirm or discard the held run`;
}
