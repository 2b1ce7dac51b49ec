import type { DeliveryView } from '../app/pipeline/deliver.js';
import type { PendingWork } from '../app/pipeline/outbox-relay.js';
import type { AuditEntry, ChangeEventWrite, OutboxRow } from '../app/records.js';
import { AUDIT_COLUMNS, auditColumns } from './audit.js';
import type { Queryable } from './db.js';
import { hot } from './prepared.js';

const RECORD_CHANGES_SQL = hot('record_changes', `with event as (
       insert into change_events (id, source_id, origin, kind, subject_type, subject_id, detail, source_time, received_at, committed_at)
       select id, source_id, origin, kind, subject_type, subject_id, detail::jsonb, source_time, received_at, committed_at
         from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::uuid[], $7::text[], $8::timestamptz[], $9::timestamptz[], $10::timestamptz[])
           as e(id, source_id, origin, kind, subject_type, subject_id, detail, source_time, received_at, committed_at)
     ), audit as (
       insert into audit_log ${AUDIT_COLUMNS}
       select at, actor, action, subject_type, subject_id, detail::jsonb
         from unnest($11::timestamptz[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[])
           as a(at, actor, action, subject_type, subject_id, detail)
     ), sponsors as (
       select p.event_id, p.person_id from unnest($17::uuid[], $18::uuid[]) as p(event_id, person_id)
        where exists (select 1 from agents a where a.state <> 'retired' and a.sponsor_id = p.person_id)
           -- @> (not = any) so the GIN index on backup_sponsor_ids answers.
           or exists (select 1 from agents a where a.state <> 'retired' and a.backup_sponsor_ids @> array[p.person_id])
     )
     insert into outbox (kind, person_id, change_event_id, created_at)
     select 'recompute', person_id, event_id, now() from sponsors
     returning person_id, change_event_id`);

/** One change event with its audit entry and the people whose sponsored agents it may affect. */
export interface RecordedChangeWrite {
  readonly event: ChangeEventWrite;
  readonly audit: AuditEntry;
  readonly affectedPersonIds: readonly string[];
}

/**
 * Inserts the events, their audit entries, and one recompute outbox row per affected person that sponsors
 * (primary or backup) an agent that is not retired, in one statement of data-modifying CTEs, whatever the
 * number of changes (a group commit records a whole batch at once). Returns each change's sponsors, in order.
 */
async function recordChanges(q: Queryable, changes: readonly RecordedChangeWrite[]): Promise<string[][]> {
  if (changes.length === 0) return [];
  const pairs = changes.flatMap(({ event, affectedPersonIds }) => [...new Set(affectedPersonIds)].map((personId) => [event.id, personId] as const));
  const column = <V>(pick: (change: RecordedChangeWrite) => V) => changes.map(pick);
  const json = (value: unknown) => JSON.stringify(value);
  const result = await q.query<{ person_id: string; change_event_id: string }>(
    RECORD_CHANGES_SQL,
    [
      column((c) => c.event.id), column((c) => c.event.sourceId), column((c) => c.event.origin), column((c) => c.event.kind),
      column((c) => c.event.subjectType), column((c) => c.event.subjectId), column((c) => json(c.event.detail)),
      column((c) => c.event.sourceTime), column((c) => c.event.receivedAt), column((c) => c.event.committedAt),
      ...auditColumns(changes.map((change) => change.audit)),
      pairs.map(([eventId]) => eventId), pairs.map(([, personId]) => personId),
    ],
  );
  const sponsorsByEvent = new Map<string, string[]>();
  for (const row of result.rows) {
    const list = sponsorsByEvent.get(row.change_event_id);
    if (list === undefined) sponsorsByEvent.set(row.change_event_id, [row.person_id]);
    else list.push(row.person_id);
  }
  return changes.map((change) => sponsorsByEvent.get(change.event.id) ?? []);
}

/** Change events, outbox rows and per-target applied state: the bookkeeping of the pipeline. */
export function pipelineOps(q: Queryable) {
  return {
    async insertChangeEvent(event: ChangeEventWrite): Promise<void> {
      await q.query(
        `insert into change_events (id, source_id, origin, kind, subject_type, subject_id, detail, source_time, received_at, committed_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [event.id, event.sourceId, event.origin, event.kind, event.subjectType, event.subjectId, event.detail, event.sourceTime,
          event.receivedAt, event.committedAt],
      );
    },

    async recordChange(event: ChangeEventWrite, audit: AuditEntry, affectedPersonIds: readonly string[]): Promise<string[]> {
      const [sponsors] = await recordChanges(q, [{ event, audit, affectedPersonIds }]);
      return sponsors ?? [];
    },

    recordChanges: (changes: readonly RecordedChangeWrite[]) => recordChanges(q, changes),

    async insertOutbox(rows: readonly OutboxRow[]): Promise<void> {
      if (rows.length === 0) return;
      await q.query(
        `insert into outbox (kind, person_id, agent_id, version, target_id, change_event_id, created_at)
         select kind, person_id, agent_id, version, target_id, change_event_id, now()
           from unnest($1::text[], $2::uuid[], $3::uuid[], $4::int[], $5::text[], $6::uuid[])
             as r(kind, person_id, agent_id, version, target_id, change_event_id)`,
        [
          rows.map((row) => row.kind),
          rows.map((row) => (row.kind === 'recompute' ? row.personId : null)),
          rows.map((row) => (row.kind === 'push' ? row.agentId : null)),
          rows.map((row) => (row.kind === 'push' ? row.version : null)),
          rows.map((row) => (row.kind === 'push' ? row.targetId : null)),
          rows.map((row) => row.changeEventId),
        ],
      );
    },

    async completePushes(agentId: string, targetId: string, uptoVersion: number, now: Date): Promise<void> {
      await q.query(
        `update outbox set done_at = $4 where kind = 'push' and agent_id = $1 and target_id = $2 and version <= $3 and done_at is null`,
        [agentId, targetId, uptoVersion, now],
      );
    },

    async pendingWork(createdBefore: Date, limit: number): Promise<PendingWork[]> {
      const result = await q.query<{ kind: 'recompute' | 'push'; person_id: string | null; agent_id: string | null; version: number | null; target_id: string | null }>(
        `select kind, person_id, agent_id, version, target_id from outbox
          where done_at is null and created_at < $1 order by id limit $2`,
        [createdBefore, limit],
      );
      return result.rows.map((row) =>
        row.kind === 'recompute'
          ? { kind: 'recompute', personId: row.person_id as string }
          : { kind: 'push', agentId: row.agent_id as string, version: row.version as number, targetId: row.target_id as string },
      );
    },

    async deliveryView(agentId: string, targetId: string): Promise<DeliveryView | null> {
      const result = await q.query<{ name: string; current_version: number; applied_version: number | null }>(
        `select a.name, a.current_version, t.applied_version from agents a
           left join target_states t on t.agent_id = a.id and t.target_id = $2 where a.id = $1`,
        [agentId, targetId],
      );
      const row = result.rows[0];
      return row === undefined ? null : { agentName: row.name, currentVersion: row.current_version, appliedVersion: row.applied_version ?? 0 };
    },
  };
}
