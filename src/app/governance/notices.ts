/**
 * Expiry notifications (issue 5, scope 5): the notices and expiries the expiry sweep records, delivered as
 * signed JSON events to the webhooks under `notifications.webhooks`. Targets only ever receive whole
 * entitlement versions, so these events travel on a channel of their own.
 *
 * Durability: the sweep records each notice (expiry_notices) in the transaction that audits it; that row is
 * the outbox of its event. This relay hands unqueued rows to the per-webhook queues and only then marks them
 * queued, in one transaction holding their row locks, so a crash at any point means "hand over again" (the
 * job id is the event id, so BullMQ and receivers both dedupe) and never "lost".
 */
import { expiryEventId, type ExpiringSubject, type ExpiryNoticeKind } from '../../domain/expiry.js';
import type { Clock, Logger } from '../ports.js';

export const EXPIRY_EVENT_TYPES = ['agent.expiring', 'agent.expired', 'delegation.expiring', 'delegation.expired'] as const;
export type ExpiryEventType = (typeof EXPIRY_EVENT_TYPES)[number];

/** The event body: ids plus the agent's name, which targets receive anyway; no personal data. */
export interface ExpiryEvent {
  /** Stable per notice: the receiver's idempotency key. */
  readonly id: string;
  readonly type: ExpiryEventType;
  readonly occurredAt: string;
  readonly agentId: string;
  readonly agentName: string;
  readonly sponsorId: string;
  readonly expiresAt: string;
  readonly delegationId?: string | undefined;
}

/** A recorded notice not yet handed to the notification queues, read under its row lock. */
export interface PendingExpiryEvent {
  readonly agentId: string;
  readonly agentName: string;
  readonly sponsorId: string;
  readonly subject: ExpiringSubject;
  readonly kind: ExpiryNoticeKind;
  readonly expiresAt: Date;
  readonly delegationId: string | null;
  readonly recordedAt: Date;
}

export interface NotificationWebhook {
  readonly id: string;
  /** The event types this webhook receives. */
  readonly events: readonly ExpiryEventType[];
}

export interface NotificationJob {
  readonly webhookId: string;
  readonly event: ExpiryEvent;
}

/** The queue side: one queue per notification webhook, job id = event id. */
export interface NotificationQueue {
  enqueueNotifications(jobs: readonly NotificationJob[]): Promise<void>;
}

export interface NotificationTx {
  /** Recorded notices with no queued_at yet, oldest first, locked (skip locked: concurrent relays split the work). */
  lockUnqueuedExpiryEvents(limit: number): Promise<PendingExpiryEvent[]>;
  markExpiryEventsQueued(events: readonly PendingExpiryEvent[], now: Date): Promise<void>;
}

export interface NotificationDeps {
  readonly store: { transaction<T>(work: (tx: NotificationTx) => Promise<T>): Promise<T> };
  readonly queue: NotificationQueue;
  readonly webhooks: () => readonly NotificationWebhook[];
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Sends one event to one webhook; throws a retryable AppError on 5xx / timeouts, a permanent one on 4xx. */
export interface NotificationSender {
  send(webhookId: string, event: ExpiryEvent): Promise<void>;
}

export function expiryEvent(pending: PendingExpiryEvent): ExpiryEvent {
  return {
    id: expiryEventId(pending),
    type: `${pending.subject}.${pending.kind}`,
    occurredAt: pending.recordedAt.toISOString(),
    agentId: pending.agentId,
    agentName: pending.agentName,
    sponsorId: pending.sponsorId,
    expiresAt: pending.expiresAt.toISOString(),
    ...(pending.delegationId === null ? {} : { delegationId: pending.delegationId }),
  };
}

/**
 * Hands every unqueued notice to the webhooks subscribed to its type; returns how many events were handed
 * over. With no webhooks configured the rows are simply marked, so enabling a webhook later does not flood
 * it with stale notices.
 */
export async function relayExpiryEvents(deps: NotificationDeps, batchSize = 200): Promise<number> {
  let total = 0;
  for (;;) {
    const handed = await deps.store.transaction(async (tx) => {
      const pending = await tx.lockUnqueuedExpiryEvents(batchSize);
      if (pending.length === 0) return 0;
      const webhooks = deps.webhooks();
      const jobs = pending.flatMap((row) => {
        const event = expiryEvent(row);
        return webhooks.filter((webhook) => webhook.events.includes(event.type)).map((webhook) => ({ webhookId: webhook.id, event }));
      });
      // Enqueue before marking: if Redis fails the transaction rolls back and the next sweep tries again.
      await deps.queue.enqueueNotifications(jobs);
      await tx.markExpiryEventsQueued(pending, deps.clock());
      total += jobs.length;
      return pending.length;
    });
    if (handed < batchSize) break;
  }
  if (total > 0) deps.logger.info({ notifications: total }, 'queued expiry notifications');
  return total;
}

/** The notification queue's processor: one POST; the queue retries what the sender says is retryable. */
export async function deliverExpiryEvent(deps: { sender: NotificationSender; logger: Logger }, job: NotificationJob): Promise<void> {
  await deps.sender.send(job.webhookId, job.event);
  deps.logger.info({ webhookId: job.webhookId, eventId: job.event.id, type: job.event.type }, 'expiry notification delivered');
}
