/**
 * Maximum delegation lifetime per risk class (issue 5, scope 2). A delegation approves tools for a bounded
 * time: the riskier the tools, the sooner someone must approve them again. Pure; time is an argument.
 */
import { RISK_CLASSES, type RiskClass } from './types.js';

/** Per risk class, the longest a delegation may last (ms); a class without an entry has no limit. */
export type LifetimeLimits = Readonly<Partial<Record<RiskClass, number>>>;

export interface LifetimeLimit {
  readonly risk: RiskClass;
  readonly maxMs: number;
}

/** The binding limit for a set of risk classes: the shortest configured among them (null: unlimited). */
export function bindingLimit(risks: Iterable<RiskClass>, limits: LifetimeLimits): LifetimeLimit | null {
  const present = new Set(risks);
  let binding: LifetimeLimit | null = null;
  // Riskiest first, so a tie names the riskier class.
  for (const risk of [...RISK_CLASSES].reverse()) {
    const maxMs = limits[risk];
    if (!present.has(risk) || maxMs === undefined) continue;
    if (binding === null || maxMs < binding.maxMs) binding = { risk, maxMs };
  }
  return binding;
}

export type LifetimeDecision =
  | { readonly ok: true; readonly expiresAt: Date | null; readonly defaulted: boolean }
  | { readonly ok: false; readonly limit: LifetimeLimit; readonly latest: Date };

/**
 * The delegation's expiry under the limit. The lifetime runs from when the delegation becomes valid
 * (`notBefore`, or now if that is earlier or absent). A missing expiry gets the longest allowed; one beyond
 * it is refused rather than silently shortened, so the approver learns the rule instead of being surprised
 * by an early expiry.
 */
export function decideDelegationExpiry(input: {
  readonly requested: Date | null;
  readonly notBefore: Date | null;
  readonly now: Date;
  readonly limit: LifetimeLimit | null;
}): LifetimeDecision {
  if (input.limit === null) return { ok: true, expiresAt: input.requested, defaulted: false };
  const start = Math.max(input.now.getTime(), input.notBefore?.getTime() ?? 0);
  const latest = new Date(start + input.limit.maxMs);
  if (input.requested === null) return { ok: true, expiresAt: latest, defaulted: true };
  if (input.requested.getTime() > latest.getTime()) return { ok: false, limit: input.limit, latest };
  return { ok: true, expiresAt: input.requested, defaulted: false };
}

/** "90 days", "12 hours": how an error message names a limit. */
export function describeLifetime(ms: number): string {
  const days = ms / 86_400_000;
  if (Number.isInteger(days)) return `${days} day${days === 1 ? '' : 's'}`;
  const hours = Math.round((ms / 3_600_000) * 100) / 100;
  return `${hours} hour${hours === 1 ? '' : 's'}`;
}
