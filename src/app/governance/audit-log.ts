/**
 * The audit log as admins read it (issue 5, scope 8): search with filters, export as JSON lines, and
 * verification of the hash chain. Searches are reads like any other admin read and are not audited; an
 * export hands the trail itself out of Tether, so it leaves an `audit.exported` entry first.
 */
import { AppError } from '../../domain/errors.js';
import type { Clock } from '../ports.js';
import type { AuditEntry } from '../records.js';

export interface AuditFilter {
  readonly actor?: string;
  /** An action, or a prefix ending in `*` (`grant.*`). */
  readonly action?: string;
  readonly subjectType?: string;
  readonly subjectId?: string;
  /** Inclusive. */
  readonly from?: Date;
  /** Exclusive. */
  readonly to?: Date;
}

/** One entry as stored: `seq` orders entries by insertion; `chainSeq`/`hash` are set once the sealer chained it. */
export interface AuditRecord extends AuditEntry {
  readonly seq: number;
  readonly chainSeq: number | null;
  readonly hash: string | null;
}

export interface AuditVerificationReport {
  /** False when an entry of the chain does not follow from its predecessor (edited, deleted, reordered). */
  readonly ok: boolean;
  readonly checkedAt: Date;
  /** Sealed (chained) entries checked. */
  readonly entries: number;
  /** Committed entries the sealer has not chained yet (normally the last second's). */
  readonly unsealed: number;
  /** The first entry whose hash does not follow, when any; null fields when the row itself is gone. */
  readonly firstBroken: { readonly seq: number; readonly chainSeq: number | null; readonly at: Date | null; readonly action: string | null } | null;
}

export interface AuditLogDeps {
  readonly store: {
    searchAudit(filter: AuditFilter, before: number | null, limit: number): Promise<AuditRecord[]>;
    auditPage(filter: AuditFilter, after: number, limit: number): Promise<AuditRecord[]>;
    auditEntry(seq: number): Promise<AuditRecord | null>;
    verifyAudit(): Promise<{ entries: number; unsealed: number; firstBrokenSeq: number | null }>;
    /** Appends one entry in its own transaction. */
    appendAuditEntry(entry: AuditEntry): Promise<void>;
  };
  readonly clock: Clock;
}

export interface AuditPage {
  readonly items: readonly AuditRecord[];
  /** Cursor of the next (older) page; null on the last one. */
  readonly next: string | null;
}

function checkRange(filter: AuditFilter): void {
  if (filter.from !== undefined && filter.to !== undefined && filter.from.getTime() > filter.to.getTime()) {
    throw new AppError('invalid_input', 'from is after to', { detail: 'from must not be after to', meta: { field: 'from' } });
  }
}

/** Entries matching the filter, newest first; `cursor` is the `next` of the previous page. */
export async function searchAuditLog(deps: AuditLogDeps, filter: AuditFilter, cursor: string | null, limit: number): Promise<AuditPage> {
  checkRange(filter);
  const before = cursor === null ? null : parseCursor(cursor);
  const items = await deps.store.searchAudit(filter, before, limit);
  const last = items.at(-1);
  return { items, next: items.length === limit && last !== undefined ? String(last.seq) : null };
}

function parseCursor(cursor: string): number {
  const seq = /^[1-9][0-9]{0,17}$/.test(cursor) ? Number(cursor) : Number.NaN;
  if (!Number.isSafeInteger(seq)) throw new AppError('invalid_input', 'invalid cursor', { detail: 'cursor must be the next value of a previous page', meta: { field: 'cursor' } });
  return seq;
}

const EXPORT_PAGE = 1000;

/**
 * Every entry matching the filter, oldest first, a page at a time (constant memory however long the log).
 * The export is audited before the first entry is read, so it appears in the trail it hands out when it
 * matches the filter. Entries of transactions still open while a page is read show up in a later export.
 */
export async function* exportAuditLog(deps: AuditLogDeps, actor: string, filter: AuditFilter): AsyncGenerator<AuditRecord> {
  checkRange(filter);
  await deps.store.appendAuditEntry({
    at: deps.clock(), actor, action: 'audit.exported', subjectType: 'audit_log', subjectId: null,
    detail: { filter: { ...filter, from: filter.from?.toISOString(), to: filter.to?.toISOString() } },
  });
  let after = 0;
  for (;;) {
    const page = await deps.store.auditPage(filter, after, EXPORT_PAGE);
    yield* page;
    const last = page.at(-1);
    if (page.length < EXPORT_PAGE || last === undefined) return;
    after = last.seq;
  }
}

/** Walks the hash chain and names the first entry that does not follow from its predecessor. */
export async function verifyAuditLog(deps: AuditLogDeps): Promise<AuditVerificationReport> {
  const checkedAt = deps.clock();
  const result = await deps.store.verifyAudit();
  if (result.firstBrokenSeq === null) return { ok: true, checkedAt, entries: result.entries, unsealed: result.unsealed, firstBroken: null };
  const entry = await deps.store.auditEntry(result.firstBrokenSeq);
  return {
    ok: false, checkedAt, entries: result.entries, unsealed: result.unsealed,
    firstBroken: { seq: result.firstBrokenSeq, chainSeq: entry?.chainSeq ?? null, at: entry?.at ?? null, action: entry?.action ?? null },
  };
}
