/**
 * Expiry and reconfirmation (issue 5, scope 5). The recompute denies an expired agent or delegation, but
 * nothing recomputes at the moment of expiry; this sweep does. It finds agents that still hold rights past
 * an expiry and queues their sponsor's recompute through the outbox (the normal pipeline: a new, empty
 * version pushed to every target), and it sends `*.expiring` notices ahead of time, once per agent and
 * expiry date. Idempotent and safe to run from any number of workers: every agent is re-read under a row
 * lock and each notice is recorded under a unique key before it is acted on. Recorded notices and expiries
 * then go out as webhook events to `notifications.webhooks` (notices.ts).
 */
import { expiredAt, expiriesWithinNotice, type Expiry, type ExpiryFacts, type ExpiringSubject, type ExpiryNoticeKind } from '../../domain/expiry.js';
import type { AgentState } from '../../domain/types.js';
import { enqueueAfterCommit } from '../directory/people.js';
import type { Clock, Logger, WorkQueue } from '../ports.js';
import type { AuditEntry, OutboxRow } from '../records.js';
import { relayExpiryEvents, type NotificationDeps } from './notices.js';
import type { GovernancePolicy } from './policy.js';

/** An agent as the sweep sees it, read under a row lock. */
export interface ExpiryState {
  readonly agentId: string;
  readonly state: AgentState;
  readonly sponsorId: string;
  readonly delegationId: string | null;
  readonly facts: ExpiryFacts;
  /** Whether the agent's current entitlement version grants anything, or it has open grants to withdraw. */
  readonly holdsRights: boolean;
}

export interface ExpiryNotice {
  readonly agentId: string;
  readonly sponsorId: string;
  readonly subject: ExpiringSubject;
  readonly expiresAt: Date;
  readonly kind: ExpiryNoticeKind;
  readonly delegationId: string | null;
}

export interface ExpiryTx {
  lockExpiryState(agentId: string): Promise<ExpiryState | null>;
  /** false when this notice was recorded before (by this worker or another). */
  recordExpiryNotice(notice: ExpiryNotice, now: Date): Promise<boolean>;
  insertOutbox(rows: readonly OutboxRow[]): Promise<void>;
  appendAudit(entry: AuditEntry): Promise<void>;
}

export interface ExpiryDeps {
  readonly store: {
    dueExpiries(now: Date, limit: number): Promise<string[]>;
    dueExpiryNotices(now: Date, until: Date, limit: number): Promise<string[]>;
    transaction<T>(work: (tx: ExpiryTx) => Promise<T>): Promise<T>;
  };
  readonly queue: WorkQueue;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly governance: () => GovernancePolicy;
  /** Counts what the sweep did (metrics); called after commit. */
  readonly observe?: (event: 'expired' | 'expiring', subject: ExpiringSubject) => void;
  /** Notification webhooks (notices.ts); without them notices are audited, logged and counted only. */
  readonly notifications?: Omit<NotificationDeps, 'clock' | 'logger'>;
}

export interface ExpirySweepResult {
  /** Agents whose rights the sweep queued for revocation. */
  readonly expired: number;
  readonly notices: number;
}

const ACTOR = 'system:expiry';

export async function sweepExpiries(deps: ExpiryDeps, batchSize = 200): Promise<ExpirySweepResult> {
  const expired = await revokeExpired(deps, batchSize);
  const notices = await sendNotices(deps, batchSize);
  await relayNotifications(deps, batchSize);
  return { expired, notices };
}

/**
 * Hands what this sweep (or an earlier one that crashed or found Redis down) recorded to the notification
 * webhooks. The revocations above are committed whatever happens here, so a failure only waits for the
 * next sweep.
 */
async function relayNotifications(deps: ExpiryDeps, batchSize: number): Promise<void> {
  if (deps.notifications === undefined) return;
  try {
    await relayExpiryEvents({ ...deps.notifications, clock: deps.clock, logger: deps.logger }, batchSize);
  } catch (error) {
    deps.logger.warn({ err: error }, 'queueing expiry notifications failed; the next sweep retries');
  }
}

/** Agents still holding rights past an expiry: one recompute outbox row for the sponsor, audited. */
async function revokeExpired(deps: ExpiryDeps, batchSize: number): Promise<number> {
  let total = 0;
  for (;;) {
    const due = await deps.store.dueExpiries(deps.clock(), batchSize);
    const sponsors: string[] = [];
    for (const agentId of due) {
      const done = await deps.store.transaction((tx) => expireOne(tx, agentId, deps.clock()));
      if (done === null) continue;
      sponsors.push(done.sponsorId);
      deps.observe?.('expired', done.subject);
    }
    await enqueueAfterCommit(deps, [...new Set(sponsors)]);
    total += sponsors.length;
    // Each handled agent now has its 'expired' record, so the next page never repeats it.
    if (due.length < batchSize) break;
  }
  if (total > 0) deps.logger.info({ expired: total }, 'queued revocation of rights of expired agents and delegations');
  return total;
}

async function expireOne(tx: ExpiryTx, agentId: string, now: Date): Promise<{ sponsorId: string; subject: ExpiringSubject } | null> {
  const agent = await tx.lockExpiryState(agentId);
  if (agent === null || agent.state === 'retired' || !agent.holdsRights) return null;
  const expiry = expiredAt(agent.facts, now);
  if (expiry === null) return null;
  const first = await tx.recordExpiryNotice(noticeOf(agent, expiry, 'expired'), now);
  if (!first) return null;
  await tx.insertOutbox([{ kind: 'recompute', personId: agent.sponsorId, changeEventId: null }]);
  await tx.appendAudit({
    at: now, actor: ACTOR, action: `${expiry.subject}.expired`, subjectType: 'agent', subjectId: agentId,
    detail: { expiresAt: expiry.expiresAt.toISOString(), sponsorId: agent.sponsorId, delegationId: agent.delegationId },
  });
  return { sponsorId: agent.sponsorId, subject: expiry.subject };
}

/**
 * `agent.expiring` / `delegation.expiring`: audited and logged once per agent and expiry date; the recorded
 * notice is also the outbox row of its notification event (notices.ts).
 */
async function sendNotices(deps: ExpiryDeps, batchSize: number): Promise<number> {
  const windowMs = deps.governance().expiryNoticeMs;
  if (windowMs <= 0) return 0;
  let total = 0;
  for (;;) {
    const now = deps.clock();
    const due = await deps.store.dueExpiryNotices(now, new Date(now.getTime() + windowMs), batchSize);
    for (const agentId of due) {
      const sent = await deps.store.transaction((tx) => noticesFor(tx, agentId, deps.clock(), windowMs));
      for (const notice of sent) {
        deps.observe?.('expiring', notice.subject);
        // The structured log is what log-based alerting picks up; ids only, never names.
        deps.logger.info(
          { event: `${notice.subject}.expiring`, agentId, delegationId: notice.delegationId, expiresAt: notice.expiresAt.toISOString() },
          `${notice.subject} expires soon`,
        );
      }
      total += sent.length;
    }
    if (due.length < batchSize) break;
  }
  return total;
}

async function noticesFor(tx: ExpiryTx, agentId: string, now: Date, windowMs: number): Promise<ExpiryNotice[]> {
  const agent = await tx.lockExpiryState(agentId);
  if (agent === null || agent.state === 'retired') return [];
  const sent: ExpiryNotice[] = [];
  for (const expiry of expiriesWithinNotice(agent.facts, now, windowMs)) {
    const notice = noticeOf(agent, expiry, 'expiring');
    if (!(await tx.recordExpiryNotice(notice, now))) continue;
    await tx.appendAudit({
      at: now, actor: ACTOR, action: `${expiry.subject}.expiring`, subjectType: 'agent', subjectId: agentId,
      detail: {
        expiresAt: expiry.expiresAt.toISOString(), sponsorId: agent.sponsorId, delegationId: agent.delegationId,
        inHours: Math.round((expiry.expiresAt.getTime() - now.getTime()) / 36_000) / 100,
      },
    });
    sent.push(notice);
  }
  return sent;
}

function noticeOf(agent: ExpiryState, expiry: Expiry, kind: ExpiryNotice['kind']): ExpiryNotice {
  return { agentId: agent.agentId, sponsorId: agent.sponsorId, subject: expiry.subject, expiresAt: expiry.expiresAt, kind, delegationId: agent.delegationId };
}
