import type { SyncCursor, SyncRunRecord, SyncStatusRow } from './sync-ports.js';

/** Sync status of one directory source, as the admin API and CLI show it. */
export interface SourceSyncView {
  readonly running: boolean;
  readonly lastAttemptAt: Date | null;
  readonly lastSuccessAt: Date | null;
  readonly lastFullAt: Date | null;
  readonly cursor: SyncCursor | null;
  /** Seconds between now and the point the mirror is known to be current to (the cursor's high-water mark). */
  readonly lagSeconds: number | null;
  readonly lastError: string | null;
  readonly lastErrorAt: Date | null;
  readonly lastRun: RunView | null;
  /** A run the mass-change circuit breaker holds for an admin; null when none. */
  readonly held: RunView | null;
}

export interface RunView {
  readonly id: number;
  readonly mode: 'delta' | 'full';
  readonly trigger: string;
  readonly status: string;
  readonly startedAt: Date;
  readonly finishedAt: Date | null;
  readonly counts: { readonly seen: number; readonly changed: number; readonly deleted: number; readonly deactivated: number; readonly population: number | null };
  readonly heldReason: string | null;
  readonly decidedBy: string | null;
  readonly error: string | null;
}

export function runView(run: SyncRunRecord): RunView {
  return {
    id: run.id, mode: run.mode, trigger: run.trigger, status: run.status, startedAt: run.startedAt, finishedAt: run.finishedAt,
    counts: { seen: run.seen, changed: run.changed, deleted: run.deleted, deactivated: run.deactivated, population: run.population },
    heldReason: run.heldReason, decidedBy: run.decidedBy, error: run.error,
  };
}

export function syncView(row: SyncStatusRow, now: Date): SourceSyncView {
  return {
    running: row.running,
    lastAttemptAt: row.lastAttemptAt,
    lastSuccessAt: row.lastSuccessAt,
    lastFullAt: row.lastFullAt,
    cursor: row.cursor,
    lagSeconds: row.cursorAt === null ? null : Math.max(0, Math.round((now.getTime() - row.cursorAt.getTime()) / 1000)),
    lastError: row.lastError,
    lastErrorAt: row.lastErrorAt,
    lastRun: row.lastRun === null ? null : runView(row.lastRun),
    held: row.heldRun === null ? null : runView(row.heldRun),
  };
}
