/**
 * Asymmetric propagation (design.md §2): shrinking applies at once; growth of a risk class that needs
 * confirmation waits as a pending grant until the sponsor or an admin confirms it. Pure: no I/O, no clock.
 */
import type { Entitlement, RiskClass } from './types.js';

/** Which risk classes need a confirmation before a newly covered tool takes effect (tether.yaml `policy`). */
export type GrowthConfirmationPolicy = Readonly<Record<RiskClass, boolean>>;

export const DEFAULT_GROWTH_CONFIRMATION: GrowthConfirmationPolicy = { read: false, write: true, orchestrate: true };

export type GrantStatus = 'pending' | 'confirmed' | 'rejected' | 'applied' | 'withdrawn';

/** A pending grant that is still open (pending, confirmed but not yet applied, or rejected). */
export interface OpenGrant {
  readonly id: string;
  readonly toolId: string;
  /** The sponsor whose coverage the grant was proposed under; a new sponsor needs a new confirmation. */
  readonly sponsorId: string;
  readonly status: 'pending' | 'confirmed' | 'rejected';
}

export interface GrowthInput {
  /** What the agent held in its latest version; empty after a leaver event (rights come back only through growth). */
  readonly previous: readonly Entitlement[];
  /** What the sponsor covers now (computeEntitlements().effective). */
  readonly computed: readonly Entitlement[];
  /**
   * The very first version of an agent: its registration (the delegation record and its approver) is the
   * approval, so everything computed applies.
   */
  readonly initial: boolean;
  /**
   * Tools a delegation approved since the previous version (newly requested or newly delegated): the new
   * delegation record, with its approver, is their approval.
   */
  readonly newlyDelegated: ReadonlySet<string>;
  readonly sponsorId: string;
  readonly policy: GrowthConfirmationPolicy;
  readonly grants: readonly OpenGrant[];
}

export interface GrowthDecision {
  /** What the agent holds from now on; always a subset of `computed`, sorted like it. */
  readonly effective: readonly Entitlement[];
  /** Growth awaiting confirmation (open grants and new ones), with the provenance that would grant it. */
  readonly pending: readonly Entitlement[];
  /** Growth a sponsor or admin rejected; stays denied while it stays covered. */
  readonly rejected: readonly Entitlement[];
  /** Growth to store as new pending grants (no open grant yet). */
  readonly newPending: readonly Entitlement[];
  /** Confirmed grants that take effect in this decision. */
  readonly applied: readonly string[];
  /** Open grants that no longer apply (coverage gone, already held, or another sponsor now). */
  readonly withdrawn: readonly string[];
}

/** Whether `entitlement` may take effect without a confirmation. */
function growsFreely(input: GrowthInput, entitlement: Entitlement, held: ReadonlySet<string>): boolean {
  return held.has(entitlement.toolId) || input.initial || input.newlyDelegated.has(entitlement.toolId) || !input.policy[entitlement.risk];
}

/**
 * Splits what the sponsor now covers into what takes effect and what waits. A tool already held, growth of
 * a risk class that needs no confirmation, a newly delegated tool and a confirmed grant take effect; other
 * growth waits as a pending grant, or stays out when rejected. Open grants that no longer fit are withdrawn.
 */
export function decideGrowth(input: GrowthInput): GrowthDecision {
  const held = new Set(input.previous.map((entitlement) => entitlement.toolId));
  const grants = new Map(
    input.grants.filter((grant) => grant.sponsorId === input.sponsorId).map((grant) => [grant.toolId, grant]),
  );
  const effective: Entitlement[] = [];
  const pending: Entitlement[] = [];
  const rejected: Entitlement[] = [];
  const newPending: Entitlement[] = [];
  const applied: string[] = [];
  const kept = new Set<string>();
  for (const entitlement of input.computed) {
    const grant = grants.get(entitlement.toolId);
    if (growsFreely(input, entitlement, held)) {
      effective.push(entitlement);
      if (grant?.status === 'confirmed') applied.push(grant.id);
      continue;
    }
    if (grant === undefined) {
      pending.push(entitlement);
      newPending.push(entitlement);
      continue;
    }
    kept.add(grant.id);
    if (grant.status === 'confirmed') {
      effective.push(entitlement);
      applied.push(grant.id);
    } else if (grant.status === 'rejected') {
      rejected.push(entitlement);
    } else {
      pending.push(entitlement);
    }
  }
  const closed = new Set([...applied, ...kept]);
  const withdrawn = input.grants.filter((grant) => !closed.has(grant.id)).map((grant) => grant.id);
  return { effective, pending, rejected, newPending, applied, withdrawn };
}

/**
 * Tools of `computed` that the previous version neither held nor denied for a reason other than delegation:
 * they were requested or delegated only since then, so the delegation that added them approved them.
 */
export function newlyDelegatedTools(
  computed: readonly Entitlement[],
  previous: { readonly entitlements: readonly Entitlement[]; readonly denied: readonly { toolId: string; reason: string }[] } | null,
): Set<string> {
  if (previous === null) return new Set(computed.map((entitlement) => entitlement.toolId));
  const known = new Map<string, string>(previous.denied.map((denial) => [denial.toolId, denial.reason]));
  for (const entitlement of previous.entitlements) known.set(entitlement.toolId, 'held');
  return new Set(
    computed
      .map((entitlement) => entitlement.toolId)
      .filter((toolId) => {
        const before = known.get(toolId);
        return before === undefined || before === 'not_delegated' || before === 'unknown_tool';
      }),
  );
}
