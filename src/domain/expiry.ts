/**
 * Expiry of agents and delegations (issue 5, scope 5). The recompute already denies an expired agent or
 * delegation (entitlements.ts); these pure functions tell the scheduled sweep which agents still hold rights
 * past an expiry, and which expiries are close enough to warn about. Time is an argument.
 */

export type ExpiringSubject = 'agent' | 'delegation';

/** The two expiries an agent's rights depend on. */
export interface ExpiryFacts {
  readonly agentExpiresAt: Date | null;
  readonly delegationExpiresAt: Date | null;
}

export interface Expiry {
  readonly subject: ExpiringSubject;
  readonly expiresAt: Date;
}

function expiries(facts: ExpiryFacts): Expiry[] {
  const all: Expiry[] = [];
  if (facts.agentExpiresAt !== null) all.push({ subject: 'agent', expiresAt: facts.agentExpiresAt });
  if (facts.delegationExpiresAt !== null) all.push({ subject: 'delegation', expiresAt: facts.delegationExpiresAt });
  return all;
}

/**
 * The expiry that ends the agent's rights at `now`, or null. The agent's own expiry wins over its
 * delegation's, in the order the entitlement computation checks them (so the audit names the same reason
 * the new version does).
 */
export function expiredAt(facts: ExpiryFacts, now: Date): Expiry | null {
  return expiries(facts).find((expiry) => expiry.expiresAt.getTime() <= now.getTime()) ?? null;
}

/**
 * Expiries inside the notice window: still in the future, at most `windowMs` away. A window of 0 means
 * no notices.
 */
export function expiriesWithinNotice(facts: ExpiryFacts, now: Date, windowMs: number): Expiry[] {
  if (windowMs <= 0) return [];
  const from = now.getTime();
  return expiries(facts).filter((expiry) => expiry.expiresAt.getTime() > from && expiry.expiresAt.getTime() <= from + windowMs);
}

/** What a recorded notice says: the expiry is near, or it has passed and the rights are being taken away. */
export type ExpiryNoticeKind = 'expiring' | 'expired';

/**
 * The id of the event a recorded notice becomes: a function of the notice's unique key only, so a
 * re-enqueue after a crash, a retry and every receiver see the same id (their idempotency key). BullMQ job
 * ids may not contain ':', so the date is in epoch milliseconds.
 */
export function expiryEventId(notice: { readonly agentId: string; readonly subject: ExpiringSubject; readonly kind: ExpiryNoticeKind; readonly expiresAt: Date }): string {
  return `evt_${notice.agentId}_${notice.subject}.${notice.kind}_${notice.expiresAt.getTime()}`;
}
