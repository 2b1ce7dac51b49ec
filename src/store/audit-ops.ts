import type { AuditFilter, AuditRecord } from '../app/governance/audit-log.js';
import type { Queryable } from './db.js';

interface Row {
  seq: string; at: Date; actor: string; action: string; subject_type: string; subject_id: string | null;
  detail: Record<string, unknown>; chain_seq: string | null; hash: string | null;
}

function toRecord(row: Row): AuditRecord {
  return {
    seq: Number(row.seq), at: row.at, actor: row.actor, action: row.action, subjectType: row.subject_type, subjectId: row.subject_id,
    detail: row.detail, chainSeq: row.chain_seq === null ? null : Number(row.chain_seq), hash: row.hash,
  };
}

/** `like` pattern of a literal prefix: % and _ in it match themselves. */
function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}

/** WHERE clauses and parameters for a filter; `action` ending in `*` is a prefix (`grant.*`). */
function where(filter: AuditFilter, params: unknown[]): string[] {
  const clauses: string[] = [];
  const add = (sql: (placeholder: string) => string, value: unknown) => {
    params.push(value);
    clauses.push(sql(`$${params.length}`));
  };
  if (filter.actor !== undefined) add((p) => `actor = ${p}`, filter.actor);
  if (filter.action !== undefined) {
    if (filter.action.endsWith('*')) add((p) => `action like ${p}`, likePrefix(filter.action.slice(0, -1)));
    else add((p) => `action = ${p}`, filter.action);
  }
  if (filter.subjectType !== undefined) add((p) => `subject_type = ${p}`, filter.subjectType);
  if (filter.subjectId !== undefined) add((p) => `subject_id = ${p}`, filter.subjectId);
  if (filter.from !== undefined) add((p) => `at >= ${p}`, filter.from);
  if (filter.to !== undefined) add((p) => `at < ${p}`, filter.to);
  return clauses;
}

const COLUMNS = 'seq, at, actor, action, subject_type, subject_id, detail, chain_seq, hash';

/** Audit log reads: search (newest first) and export pages (oldest first), keyset-paginated on seq. */
export function auditOps(q: Queryable) {
  return {
    /** Entries matching the filter, newest first, older than `before` (a seq) when given. */
    async searchAudit(filter: AuditFilter, before: number | null, limit: number): Promise<AuditRecord[]> {
      const params: unknown[] = [];
      const clauses = where(filter, params);
      if (before !== null) {
        params.push(before);
        clauses.push(`seq < $${params.length}`);
      }
      params.push(limit);
      const result = await q.query<Row>(
        `select ${COLUMNS} from audit_log ${clauses.length === 0 ? '' : `where ${clauses.join(' and ')}`} order by seq desc limit $${params.length}`,
        params,
      );
      return result.rows.map(toRecord);
    },

    /** Entries matching the filter, oldest first, after `after` (a seq). */
    async auditPage(filter: AuditFilter, after: number, limit: number): Promise<AuditRecord[]> {
      const params: unknown[] = [after];
      const clauses = ['seq > $1', ...where(filter, params)];
      params.push(limit);
      const result = await q.query<Row>(`select ${COLUMNS} from audit_log where ${clauses.join(' and ')} order by seq limit $${params.length}`, params);
      return result.rows.map(toRecord);
    },

    async auditEntry(seq: number): Promise<AuditRecord | null> {
      const result = await q.query<Row>(`select ${COLUMNS} from audit_log where seq = $1`, [seq]);
      return result.rows[0] === undefined ? null : toRecord(result.rows[0]);
    },
  };
}
