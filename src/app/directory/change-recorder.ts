import type { ChangeEventKind, ChangeEventWrite, AuditEntry } from '../records.js';

/** What recording a change needs from the transaction it commits in. */
export interface ChangeRecorderTx {
  /**
   * Inserts the change event and its audit entry, and one recompute outbox row for each of
   * `affectedPersonIds` that sponsors (primary or backup) an agent that is not retired; returns those
   * sponsors. One round trip: this runs on every directory write, inside its transaction.
   */
  recordChange(event: ChangeEventWrite, audit: AuditEntry, affectedPersonIds: readonly string[]): Promise<string[]>;
}

export interface ChangeContext {
  readonly actor: string;
  readonly sourceId: string;
  readonly origin: 'scim' | 'ldap';
  readonly receivedAt: Date;
  readonly sourceTime: Date | null;
}

export interface RecordedChange {
  readonly eventId: string;
  /** Sponsors whose agents must be recomputed: enqueue them once the transaction has committed. */
  readonly recomputePersonIds: readonly string[];
}

/**
 * Commits the change event, the audit entry and one recompute outbox row per affected sponsor, inside the
 * caller's transaction with the mirror write: the three commit together or not at all (design.md §3).
 */
export async function recordDirectoryChange(
  tx: ChangeRecorderTx,
  context: ChangeContext,
  change: {
    readonly kind: ChangeEventKind;
    readonly subjectType: 'person' | 'group';
    readonly subjectId: string;
    readonly action: string;
    readonly detail: Readonly<Record<string, unknown>>;
    readonly affectedPersonIds: readonly string[];
    readonly now: Date;
  },
): Promise<RecordedChange> {
  const eventId = crypto.randomUUID();
  const event: ChangeEventWrite = {
    id: eventId,
    sourceId: context.sourceId,
    origin: context.origin,
    kind: change.kind,
    subjectType: change.subjectType,
    subjectId: change.subjectId,
    detail: { ...change.detail, affectedPeople: change.affectedPersonIds.length },
    sourceTime: context.sourceTime,
    receivedAt: context.receivedAt,
    committedAt: change.now,
  };
  const audit: AuditEntry = {
    at: change.now,
    actor: context.actor,
    action: change.action,
    subjectType: change.subjectType,
    subjectId: change.subjectId,
    detail: { changeEventId: eventId, kind: change.kind, ...change.detail },
  };
  // A noop changed nothing a grant rule reads (active, groups, rule attributes): no entitlement can move,
  // so no recompute. Most IdP traffic is of this kind (phone numbers, display names, re-sent profiles).
  const sponsors = await tx.recordChange(event, audit, change.kind === 'noop' ? [] : change.affectedPersonIds);
  return { eventId, recomputePersonIds: sponsors };
}
