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

/** What a directory write changed, as the use case sees it. */
export interface DirectoryChange {
  readonly kind: ChangeEventKind;
  readonly subjectType: 'person' | 'group';
  readonly subjectId: string;
  readonly action: string;
  readonly detail: Readonly<Record<string, unknown>>;
  readonly affectedPersonIds: readonly string[];
  readonly now: Date;
}

/** Records many changes in one round trip (a group commit's batch). */
export interface BatchChangeRecorderTx {
  /** Per change, in order: the sponsors to recompute (see ChangeRecorderTx.recordChange). */
  recordChanges(
    changes: readonly { readonly event: ChangeEventWrite; readonly audit: AuditEntry; readonly affectedPersonIds: readonly string[] }[],
  ): Promise<string[][]>;
}

/** The rows one change writes: its event, its audit entry, and the people whose agents may need recomputing. */
export function changeRows(context: ChangeContext, change: DirectoryChange) {
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
  return { event, audit, affectedPersonIds: change.kind === 'noop' ? [] : change.affectedPersonIds };
}

/**
 * Commits the change event, the audit entry and one recompute outbox row per affected sponsor, inside the
 * caller's transaction with the mirror write: the three commit together or not at all (design.md §3).
 */
export async function recordDirectoryChange(tx: ChangeRecorderTx, context: ChangeContext, change: DirectoryChange): Promise<RecordedChange> {
  const rows = changeRows(context, change);
  const sponsors = await tx.recordChange(rows.event, rows.audit, rows.affectedPersonIds);
  return { eventId: rows.event.id, recomputePersonIds: sponsors };
}
