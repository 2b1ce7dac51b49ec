/**
 * Applies the maximum delegation lifetime per risk class (tether.yaml `policy.maxDelegationDays`) to a new
 * delegation, before anything is written: an expiry beyond the limit is refused with an error that names the
 * limit; a missing expiry gets the longest allowed.
 */
import { bindingLimit, decideDelegationExpiry, describeLifetime, type LifetimeLimits } from '../../domain/delegation-lifetime.js';
import { expandRequested, isDelegated } from '../../domain/entitlements.js';
import { AppError } from '../../domain/errors.js';
import type { RiskClass } from '../../domain/types.js';
import type { Policy } from '../ports.js';

export interface DelegationDraft {
  /** What the agent requests; the delegation covers the requested tools it names. */
  readonly requestedTools: readonly string[];
  /** Delegated tools (ids or patterns); null = the requested tools. */
  readonly tools: readonly string[] | null;
  readonly notBefore: Date | null;
  readonly expiresAt: Date | null;
}

/** The risk classes of the catalog tools the delegation would actually approve for this agent. */
export function delegatedRisks(draft: DelegationDraft, policy: Policy): RiskClass[] {
  const delegated = draft.tools ?? draft.requestedTools;
  return expandRequested(draft.requestedTools, policy.catalog).flatMap((toolId) => {
    const tool = policy.catalog.get(toolId);
    return tool !== undefined && isDelegated(delegated, tool) ? [tool.risk] : [];
  });
}

/** The delegation's expiry under the policy; throws `invalid_input` (field `delegation.expiresAt`) beyond the limit. */
export function boundDelegationExpiry(draft: DelegationDraft, policy: Policy, limits: LifetimeLimits, now: Date, field = 'delegation.expiresAt'): Date | null {
  const limit = bindingLimit(delegatedRisks(draft, policy), limits);
  const decision = decideDelegationExpiry({ requested: draft.expiresAt, notBefore: draft.notBefore, now, limit });
  if (decision.ok) return decision.expiresAt;
  const detail = `${field} ${draft.expiresAt?.toISOString() ?? ''} is beyond the maximum delegation lifetime for ${decision.limit.risk} tools `
    + `(policy.maxDelegationDays.${decision.limit.risk}: ${describeLifetime(decision.limit.maxMs)}); the latest allowed is ${decision.latest.toISOString()}`;
  throw new AppError('invalid_input', `${field}: beyond the maximum delegation lifetime`, {
    detail,
    meta: { field, errors: [{ path: field, message: detail }], limit: { risk: decision.limit.risk, maxMs: decision.limit.maxMs, latest: decision.latest.toISOString() } },
  });
}
