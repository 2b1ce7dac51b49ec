import { createHash } from 'node:crypto';
import type { AuditEntry } from '../app/records.js';
import type { Db, Queryable } from './db.js';

const GENESIS = '0'.repeat(64);
/** One sealer at a time across every process (transaction-scoped, tried rather than waited for). */
const SEALER_LOCK = 7406094;
const SEAL_BATCH = 1000;

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

/**
 * Appends an unsealed entry. No lock: audited transactions commit concurrently, and the sealer chains
 * the entry once it is committed. Entries of a transaction that rolls back never exist.
 */
export async function appendAudit(tx: Queryable, entry: AuditEntry): Promise<void> {
  await tx.query(`insert into audit_log ${AUDIT_COLUMNS} values ($1, $2, $3, $4, $5, $6)`, auditValues(entry));
}

/** The insert columns and their values, for statements that append an entry alongside other writes. */
export const AUDIT_COLUMNS = '(at, actor, action, subject_type, subject_id, detail)';

export function auditValues(entry: AuditEntry): unknown[] {
  return [entry.at, entry.actor, entry.action, entry.subjectType, entry.subjectId, entry.detail];
}

/** The same values as parallel arrays (one per column, JSON as text), for set-based inserts of many entries. */
export function auditColumns(entries: readonly AuditEntry[]): unknown[][] {
  return [
    entries.map((entry) => entry.at), entries.map((entry) => entry.actor), entries.map((entry) => entry.action),
    entries.map((entry) => entry.subjectType), entries.map((entry) => entry.subjectId), entries.map((entry) => JSON.stringify(entry.detail)),
  ];
}

interface AuditRow {
  seq: string; at: Date; actor: string; action: string; subject_type: string; subject_id: string | null;
  detail: Record<string, unknown>; chain_seq: string | null; prev_hash: string | null; hash: string | null;
}

function entryOf(row: AuditRow): AuditEntry {
  return { at: row.at, actor: row.actor, action: row.action, subjectType: row.subject_type, subjectId: row.subject_id, detail: row.detail };
}

/**
 * Chains committed, unsealed entries onto the end of the chain and returns how many it sealed.
 * Only entries written by transactions older than every transaction still running are taken
 * (txid < snapshot xmin), so an entry that commits later can never need to go before a sealed one:
 * it is simply sealed by a later run, further down the chain.
 */
export async function sealAudit(db: Db): Promise<number> {
  let total = 0;
  for (;;) {
    const sealed = await db.transaction(async (tx) => {
      const locked = await tx.query<{ ok: boolean }>('select pg_try_advisory_xact_lock($1) as ok', [SEALER_LOCK]);
      if (locked.rows[0]?.ok !== true) return 0;
      const rows = await tx.query<AuditRow>(
        `select * from audit_log
          where chain_seq is null and txid < pg_snapshot_xmin(pg_current_snapshot())
          order by seq limit $1`,
        [SEAL_BATCH],
      );
      if (rows.rowCount === 0) return 0;
      const last = await tx.query<{ chain_seq: string; hash: string }>(
        'select chain_seq, hash from audit_log where chain_seq is not null order by chain_seq desc limit 1',
      );
      let chainSeq = Number(last.rows[0]?.chain_seq ?? 0);
      let prevHash = last.rows[0]?.hash ?? GENESIS;
      const seqs: string[] = [];
      const chainSeqs: number[] = [];
      const prevHashes: string[] = [];
      const hashes: string[] = [];
      for (const row of rows.rows) {
        chainSeq += 1;
        const hash = auditHash(prevHash, entryOf(row));
        seqs.push(row.seq);
        chainSeqs.push(chainSeq);
        prevHashes.push(prevHash);
        hashes.push(hash);
        prevHash = hash;
      }
      await tx.query(
        `update audit_log a set chain_seq = s.chain_seq, prev_hash = s.prev_hash, hash = s.hash
           from unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[]) as s(seq, chain_seq, prev_hash, hash)
          where a.seq = s.seq`,
        [seqs, chainSeqs, prevHashes, hashes],
      );
      return rows.rowCount;
    });
    total += sealed;
    if (sealed < SEAL_BATCH) return total;
  }
}

export interface AuditVerification {
  /** Chained entries verified: the whole chain when intact, those before the first broken one otherwise. */
  readonly entries: number;
  /** Committed entries the sealer has not chained yet (normally only the last second's). */
  readonly unsealed: number;
  readonly firstBrokenSeq: number | null;
}

/** Walks the chain in order and reports the first entry whose hash does not follow from its predecessor. */
export async function verifyAuditChain(db: Queryable): Promise<AuditVerification> {
  const counts = await db.query<{ unsealed: string }>('select count(*) as unsealed from audit_log where chain_seq is null');
  const unsealed = Number(counts.rows[0]?.unsealed ?? 0);
  let prevHash = GENESIS;
  let expectedChainSeq = 1;
  // Keyset pages along the chain: memory stays bounded however long the log grows.
  for (;;) {
    const page = await db.query<AuditRow>(
      'select * from audit_log where chain_seq is not null and chain_seq >= $1 order by chain_seq limit $2',
      [expectedChainSeq, VERIFY_PAGE],
    );
    for (const row of page.rows) {
      if (Number(row.chain_seq) !== expectedChainSeq || row.prev_hash !== prevHash || auditHash(prevHash, entryOf(row)) !== row.hash) {
        return { entries: expectedChainSeq - 1, unsealed, firstBrokenSeq: Number(row.seq) };
      }
      prevHash = row.hash;
      expectedChainSeq += 1;
    }
    if (page.rows.length < VERIFY_PAGE) break;
  }
  // The sealer may chain more entries while this walks: `entries` is what was verified.
  return { entries: expectedChainSeq - 1, unsealed, firstBrokenSeq: null };
}

const VERIFY_PAGE = 5_000;
