import { createHash } from 'node:crypto';
import type { AuditEntry } from '../app/records.js';
import type { Queryable } from './db.js';

const GENESIS = '0'.repeat(64);
/** Serialises appends so the hash chain has exactly one successor per entry (transaction-scoped lock). */
const AUDIT_LOCK = 7406094;

/** Canonical JSON: keys sorted at every depth, so the hash does not depend on insertion order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
}

export function auditHash(prevHash: string, entry: AuditEntry): string {
  const body = canonicalJson({ ...entry, at: entry.at.toISOString() });
  return createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');
}

export async function appendAudit(tx: Queryable, entry: AuditEntry): Promise<void> {
  await tx.query('select pg_advisory_xact_lock($1)', [AUDIT_LOCK]);
  const last = await tx.query<{ hash: string }>('select hash from audit_log order by seq desc limit 1');
  const prevHash = last.rows[0]?.hash ?? GENESIS;
  await tx.query(
    `insert into audit_log (at, actor, action, subject_type, subject_id, detail, prev_hash, hash)
     values ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [entry.at, entry.actor, entry.action, entry.subjectType, entry.subjectId, entry.detail, prevHash, auditHash(prevHash, entry)],
  );
}

export interface AuditVerification {
  readonly entries: number;
  readonly firstBrokenSeq: number | null;
}

/** Walks the chain in order and reports the first entry whose hash does not follow from its predecessor. */
export async function verifyAuditChain(db: Queryable): Promise<AuditVerification> {
  const rows = await db.query<{
    seq: number; at: Date; actor: string; action: string; subject_type: string; subject_id: string | null;
    detail: Record<string, unknown>; prev_hash: string; hash: string;
  }>('select * from audit_log order by seq');
  let prevHash = GENESIS;
  for (const row of rows.rows) {
    const entry: AuditEntry = { at: row.at, actor: row.actor, action: row.action, subjectType: row.subject_type, subjectId: row.subject_id, detail: row.detail };
    if (row.prev_hash !== prevHash || auditHash(prevHash, entry) !== row.hash) {
      return { entries: rows.rowCount, firstBrokenSeq: row.seq };
    }
    prevHash = row.hash;
  }
  return { entries: rows.rowCount, firstBrokenSeq: null };
}
