import type { LifetimeLimits } from '../../domain/delegation-lifetime.js';
import { DEFAULT_GROWTH_CONFIRMATION, type GrowthConfirmationPolicy } from '../../domain/growth.js';

/** Delegation governance settings (tether.yaml `policy`), as the use cases need them. */
export interface GovernancePolicy {
  /** Per risk class: does a newly covered tool wait for confirmation? */
  readonly growthNeedsConfirmation: GrowthConfirmationPolicy;
  /** How long an agent whose sponsor left may wait in `pending_reassignment` before it is suspended. */
  readonly reassignmentGraceMs: number;
  /** How often workers look for pending reassignments whose grace period is over. */
  readonly sweepIntervalMs: number;
  /** Per risk class, the longest a delegation may last; the shortest among a delegation's tools binds. */
  readonly maxDelegationMs: LifetimeLimits;
  /** How long before an agent's or delegation's expiry the `*.expiring` notice goes out; 0 = no notices. */
  readonly expiryNoticeMs: number;
  /** How often the expiry sweep runs (revokes what expired, sends notices). */
  readonly expirySweepIntervalMs: number;
}

export const DEFAULT_GOVERNANCE_POLICY: GovernancePolicy = {
  growthNeedsConfirmation: DEFAULT_GROWTH_CONFIRMATION,
  reassignmentGraceMs: 72 * 3_600_000,
  sweepIntervalMs: 60_000,
  maxDelegationMs: {},
  expiryNoticeMs: 7 * 86_400_000,
  expirySweepIntervalMs: 60_000,
};
