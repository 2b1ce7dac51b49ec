/**
 * The mass-change circuit breaker (design.md §3): a directory run that would delete or deactivate more than
 * a configured share of a source's people is held for an admin instead of applied. A misconfigured base DN
 * or filter looks exactly like "everyone left"; revoking every agent's rights because of it is the failure
 * this guards against. Pure: the caller counts, this decides.
 */
export interface MassChangePolicy {
  /** Largest share of the source's people a run may remove (delete or deactivate) unheld, 0..1. */
  readonly maxShare: number;
  /** Runs removing fewer people than this are never held (one leaver is never held). */
  readonly minCount: number;
}

export interface MassChangeInput {
  /** Active people of the source before the run. */
  readonly population: number;
  readonly deletions: number;
  readonly deactivations: number;
  /** Removals an admin already accepted by confirming a held run; null when none. */
  readonly confirmedRemovals: number | null;
}

export type MassChangeVerdict =
  | { readonly hold: false }
  | { readonly hold: true; readonly reason: string; readonly removals: number; readonly limit: number };

export const DEFAULT_MASS_CHANGE_POLICY: MassChangePolicy = { maxShare: 0.1, minCount: 2 };

/** Whether `removals` are too few to be held whatever the population is (a single leaver never is). */
export function belowHoldFloor(policy: MassChangePolicy, removals: number): boolean {
  return removals < Math.max(1, policy.minCount);
}

export function massChangeVerdict(policy: MassChangePolicy, input: MassChangeInput): MassChangeVerdict {
  const removals = input.deletions + input.deactivations;
  const limit = Math.floor(input.population * policy.maxShare);
  if (belowHoldFloor(policy, removals) || removals <= limit) return { hold: false };
  // A confirmation covers the run the admin looked at, plus the few leavers that may have happened since.
  if (input.confirmedRemovals !== null && removals <= input.confirmedRemovals + Math.max(policy.minCount, limit)) return { hold: false };
  const share = input.population === 0 ? 100 : Math.round((removals / input.population) * 1000) / 10;
  return {
    hold: true,
    removals,
    limit,
    reason:
      `would remove ${removals} of ${input.population} people (${share}%: ${input.deletions} deleted, ${input.deactivations} deactivated), ` +
      `above the limit of ${Math.round(policy.maxShare * 1000) / 10}% (${limit}); confirm or discard the held run`,
  };
}
