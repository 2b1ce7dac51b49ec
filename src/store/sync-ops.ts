import type { ChangedEntry, ObjectType, RunCounts, StagedRow, SyncCursor, SyncedObject, SyncRunRecord, SyncStateRecord, SyncStatusRow, UnseenCounts } from '../app/directory/sync-ports.js';
import { normalizeDn } from '../app/directory/ldap-apply.js';
import type { Db, Queryable } from './db.js';
import { hot } from './prepared.js';

interface RunRow {
  id: string; source_id: string; mode: 'delta' | 'full'; trigger: string; status: SyncRunRecord['status']; started_at: Date;
  finished_at: Date | null; seen: number; changed: number; deleted: number; deactivated: number; population: number | null;
  held_reason: string | null; confirmed_removals: number | null; decided_by: string | null; decided_at: Date | null; error: string | null;
}

function toRun(row: RunRow): SyncRunRecord {
  return {
    id: Number(row.id), sourceId: row.source_id, mode: row.mode, trigger: row.trigger, status: row.status, startedAt: row.started_at,
    finishedAt: row.finished_at, seen: row.seen, changed: row.changed, deleted: row.deleted, deactivated: row.deactivated,
    population: row.population, heldReason: row.held_reason, confirmedRemovals: row.confirmed_removals, decidedBy: row.decided_by,
    decidedAt: row.decided_at, error: row.error,
  };
}

interface SyncedObjectRow { source_key: string; object_id: string; dn: string; facts_hash: string | null; active: boolean | null }

const SYNCED_OBJECTS = `select o.source_key, o.object_id, o.dn, o.facts_hash, p.active
   from sync_objects o left join persons p on o.object_type = 'person' and p.id = o.object_id and p.deleted_at is null
  where o.source_id = $1 and o.object_type = $2 and o.source_key = any($3::text[])`;

const CHANGED_ENTRIES = `select r.key, o.source_key is not null as mirrored, p.active,
        coalesce(split_part(o.facts_hash, '~', 1) = split_part(r.hash, '~', 1), false) as same_facts
   from unnest($3::text[], $4::text[]) as r(key, hash)
   left join sync_objects o on o.source_id = $1 and o.object_type = $2 and o.source_key = r.key
   left join persons p on o.object_type = 'person' and p.id = o.object_id and p.deleted_at is null
  where o.facts_hash is distinct from r.hash`;
const CHANGED_ENTRIES_SQL = hot('changed_entries', CHANGED_ENTRIES);
const CHANGED_ENTRIES_SEEN_SQL = hot('changed_entries_seen', `
  with seen as (insert into sync_seen (run_id, object_type, source_key) select $5, $2, unnest($3::text[]))
  ${CHANGED_ENTRIES}`);

const START_RUN_SQL = hot('start_sync_run', `
  with run as (select nextval(pg_get_serial_sequence('sync_runs', 'id')) as id),
  leased as (
    update sync_state set lease_owner = (select id from run), lease_until = $5, last_attempt_at = $4
     where source_id = $1 and (lease_until is null or lease_until < $4)
     returning lease_owner)
  insert into sync_runs (id, source_id, mode, trigger, status, started_at)
  select lease_owner, $1, $2, $3, 'running', $4 from leased
  returning id`);

interface ChangedEntryRow {
  key: string;
  mirrored: boolean;
  active: boolean | null;
  same_facts: boolean;
}

function toSyncedObject(row: SyncedObjectRow): SyncedObject {
  return { key: row.source_key, objectId: row.object_id, dn: row.dn, factsHash: row.facts_hash, active: row.active };
}

/** Mirror bookkeeping of directory sync, usable inside a transaction (see SyncTx). */
export function syncObjectOps(q: Queryable) {
  return {
    async syncedObjects(sourceId: string, type: ObjectType, keys: readonly string[]): Promise<SyncedObject[]> {
      if (keys.length === 0) return [];
      const result = await q.query<SyncedObjectRow>(SYNCED_OBJECTS, [sourceId, type, keys]);
      return result.rows.map(toSyncedObject);
    },

    async upsertSyncedObject(sourceId: string, type: ObjectType, object: { key: string; objectId: string; dn: string; factsHash: string | null }, runId: number): Promise<void> {
      await q.query(
        `insert into sync_objects (source_id, object_type, source_key, object_id, dn, dn_norm, facts_hash, seen_run)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         on conflict (source_id, object_type, source_key) do update
           set object_id = excluded.object_id, dn = excluded.dn, dn_norm = excluded.dn_norm, facts_hash = excluded.facts_hash,
               seen_run = greatest(sync_objects.seen_run, excluded.seen_run)`,
        [sourceId, type, object.key, object.objectId, object.dn, normalizeDn(object.dn), object.factsHash, runId],
      );
    },

    async deleteSyncedObject(sourceId: string, type: ObjectType, key: string): Promise<void> {
      await q.query('delete from sync_objects where source_id = $1 and object_type = $2 and source_key = $3', [sourceId, type, key]);
    },

    async objectsByDn(sourceId: string, dnNorms: readonly string[]): Promise<{ dnNorm: string; objectId: string; type: ObjectType }[]> {
      if (dnNorms.length === 0) return [];
      const result = await q.query<{ dn_norm: string; object_id: string; object_type: ObjectType }>(
        'select dn_norm, object_id, object_type from sync_objects where source_id = $1 and dn_norm = any($2::text[])',
        [sourceId, dnNorms],
      );
      return result.rows.map((row) => ({ dnNorm: row.dn_norm, objectId: row.object_id, type: row.object_type }));
    },

    async personsByUserName(sourceId: string, userNames: readonly string[]): Promise<{ userName: string; id: string }[]> {
      if (userNames.length === 0) return [];
      const result = await q.query<{ user_name: string; id: string }>(
        'select lower(user_name) as user_name, id from persons where source_id = $1 and deleted_at is null and lower(user_name) = any($2::text[])',
        [sourceId, userNames.map((name) => name.toLowerCase())],
      );
      return result.rows.map((row) => ({ userName: row.user_name, id: row.id }));
    },

    async setPendingMembers(sourceId: string, groupId: string, refs: readonly string[]): Promise<void> {
      await q.query('delete from sync_pending_members where source_id = $1 and group_id = $2', [sourceId, groupId]);
      if (refs.length === 0) return;
      await q.query(
        'insert into sync_pending_members (source_id, group_id, ref) select $1, $2, unnest($3::text[]) on conflict do nothing',
        [sourceId, groupId, [...new Set(refs)]],
      );
    },

    async takePendingMembers(sourceId: string, refs: readonly string[]): Promise<{ groupId: string; ref: string }[]> {
      const result = await q.query<{ group_id: string; ref: string }>(
        'delete from sync_pending_members where source_id = $1 and ref = any($2::text[]) returning group_id, ref',
        [sourceId, refs],
      );
      return result.rows.map((row) => ({ groupId: row.group_id, ref: row.ref }));
    },

    async finishRun(runId: number, counts: RunCounts & { population: number }, cursor: SyncCursor, mode: 'delta' | 'full', now: Date): Promise<void> {
      const run = await q.query<{ source_id: string }>(
        `update sync_runs set status = 'succeeded', finished_at = $2, seen = $3, changed = $4, deleted = $5, deactivated = $6, population = $7, mode = $8
          where id = $1 returning source_id`,
        [runId, now, counts.seen, counts.changed, counts.deleted, counts.deactivated, counts.population, mode],
      );
      const sourceId = run.rows[0]?.source_id;
      await q.query(
        `update sync_state set cursor = $2, cursor_at = $3, last_success_at = $4, last_error = null, last_error_at = null,
           last_full_at = case when $5 = 'full' then $4 else last_full_at end, lease_owner = null, lease_until = null
          where source_id = $1`,
        [sourceId, cursor, cursorTime(cursor, now), now, mode],
      );
      // A run that passes the breaker makes an older held run moot: the directory looks different now.
      await q.query(`update sync_runs set status = 'superseded', decided_at = $2, decided_by = 'system' where source_id = $1 and status = 'held'`, [sourceId, now]);
      await q.query('delete from sync_staging where run_id = $1', [runId]);
      await q.query(DELETE_DEAD_SEEN, [now]);
    },
  };
}

/**
 * Drops the seen keys of every run that no longer holds its source's lease: the run ending now (its lease
 * was just released), and runs killed before they could clean up after themselves.
 */
const DELETE_DEAD_SEEN = `delete from sync_seen s
  where not exists (select 1 from sync_state st where st.lease_owner = s.run_id and st.lease_until > $1)`;

/** The mirrored entries of a source the run did not read from the directory (see migration 007). */
const GONE = `select object_type, source_key from sync_objects where source_id = $1
              except select object_type, source_key from sync_seen where run_id = $2`;

/**
 * Runs a statement over GONE with room to hash it. GONE is a set difference of two key lists as large as
 * the source: at PostgreSQL's default work_mem (4 MB) it sorts both through temporary files (about 0.3 s
 * for 101,000 keys on the benchmark machine, on the critical path of every run's sweep); with 64 MB, for
 * this statement only, it hashes them (about 0.12 s). An anti-join would be faster still, but could be
 * planned as a nested loop on stale statistics (see migration 007).
 */
async function withRoomForGone<T>(db: Db, statement: (tx: Queryable) => Promise<T>): Promise<T> {
  // Sent together; if the setting failed, the statement behind it fails too and the transaction rolls back.
  return db.transaction(async (tx) => (await Promise.all([tx.exec('set local work_mem = \'64MB\''), statement(tx)]))[1]);
}

/** Runs, cursor state, leases and staging, on the pool. */
export function syncRunOps(q: Db) {
  return {
    async startRun(sourceId: string, mode: 'delta' | 'full', trigger: string, now: Date, leaseMs: number): Promise<number | null> {
      // One statement (one commit) on the poll's critical path: take the lease and insert the run under the
      // id the lease names. A source's first run finds no sync_state row yet: create it, then try again.
      const params = [sourceId, mode, trigger, now, new Date(now.getTime() + leaseMs)];
      const claimed = await q.query<{ id: string }>(START_RUN_SQL, params);
      if (claimed.rows[0] !== undefined) return Number(claimed.rows[0].id);
      const created = await q.query('insert into sync_state (source_id) values ($1) on conflict do nothing', [sourceId]);
      if (created.rowCount === 0) return null;
      const retried = await q.query<{ id: string }>(START_RUN_SQL, params);
      return retried.rows[0] === undefined ? null : Number(retried.rows[0].id);
    },

    async renewLease(sourceId: string, runId: number, now: Date, leaseMs: number): Promise<void> {
      await q.query('update sync_state set lease_until = $3 where source_id = $1 and lease_owner = $2', [sourceId, runId, new Date(now.getTime() + leaseMs)]);
    },

    async syncState(sourceId: string): Promise<SyncStateRecord | null> {
      const result = await q.query<{
        source_id: string; cursor: SyncCursor | null; cursor_at: Date | null; last_attempt_at: Date | null; last_success_at: Date | null;
        last_full_at: Date | null; last_error: string | null; last_error_at: Date | null;
      }>('select * from sync_state where source_id = $1', [sourceId]);
      const row = result.rows[0];
      if (row === undefined) return null;
      return {
        sourceId: row.source_id, cursor: row.cursor, cursorAt: row.cursor_at, lastAttemptAt: row.last_attempt_at, lastSuccessAt: row.last_success_at,
        lastFullAt: row.last_full_at, lastError: row.last_error, lastErrorAt: row.last_error_at,
      };
    },

    async getRun(sourceId: string, runId: number): Promise<SyncRunRecord | null> {
      const result = await q.query<RunRow>('select * from sync_runs where source_id = $1 and id = $2', [sourceId, runId]);
      return result.rows[0] === undefined ? null : toRun(result.rows[0]);
    },

    async listRuns(sourceId: string, limit: number): Promise<SyncRunRecord[]> {
      const result = await q.query<RunRow>('select * from sync_runs where source_id = $1 order by id desc limit $2', [sourceId, limit]);
      return result.rows.map(toRun);
    },

    async heldRuns(): Promise<SyncRunRecord[]> {
      const result = await q.query<RunRow>(`select * from sync_runs where status = 'held' order by id`);
      return result.rows.map(toRun);
    },

    async stage(runId: number, type: ObjectType, rows: readonly { key: string; facts: Readonly<Record<string, unknown>>; hash: string }[]): Promise<void> {
      if (rows.length === 0) return;
      await q.query(
        `insert into sync_staging (run_id, object_type, source_key, facts, facts_hash)
         select $1, $2, r.key, r.facts, r.hash from unnest($3::text[], $4::jsonb[], $5::text[]) as r(key, facts, hash)`,
        [runId, type, rows.map((row) => row.key), rows.map((row) => JSON.stringify(row.facts)), rows.map((row) => row.hash)],
      );
    },

    async stagedPage(runId: number, type: ObjectType, afterSeq: number, limit: number): Promise<StagedRow[]> {
      const result = await q.query<{ seq: string; source_key: string; facts: Record<string, unknown>; facts_hash: string }>(
        'select seq, source_key, facts, facts_hash from sync_staging where run_id = $1 and object_type = $2 and seq > $3 order by seq limit $4',
        [runId, type, afterSeq, limit],
      );
      return result.rows.map((row) => ({ seq: Number(row.seq), key: row.source_key, facts: row.facts, hash: row.facts_hash }));
    },

    /**
     * The mirrored entries of a type the run did not read, oldest key first. Removing them deletes their
     * sync_objects rows, so calling again returns the next ones.
     */
    async unseen(sourceId: string, type: ObjectType, runId: number, limit: number): Promise<{ key: string; objectId: string }[]> {
      const result = await withRoomForGone(q, (tx) => tx.query<{ source_key: string; object_id: string }>(
        `with gone as (${GONE})
         select o.source_key, o.object_id from gone join sync_objects o on o.source_id = $1 and o.object_type = gone.object_type and o.source_key = gone.source_key
          where gone.object_type = $3 order by o.source_key limit $4`,
        [sourceId, runId, type, limit],
      ));
      return result.rows.map((row) => ({ key: row.source_key, objectId: row.object_id }));
    },

    /** How many mirrored entries the run did not read, per kind: what the sweep would remove. */
    async unseenCounts(sourceId: string, runId: number): Promise<UnseenCounts> {
      const result = await withRoomForGone(q, (tx) => tx.query<{ people: number; active_people: number; groups: number; agents: number; live_agents: number }>(
        `with gone as (${GONE})
         select count(*) filter (where o.object_type = 'person')::int as people,
                count(*) filter (where o.object_type = 'person' and p.active and p.deleted_at is null)::int as active_people,
                count(*) filter (where o.object_type = 'group')::int as groups,
                count(*) filter (where o.object_type = 'agent')::int as agents,
                count(*) filter (where o.object_type = 'agent' and a.state <> 'retired')::int as live_agents
           from gone join sync_objects o on o.source_id = $1 and o.object_type = gone.object_type and o.source_key = gone.source_key
           left join persons p on o.object_type = 'person' and p.id = o.object_id
           left join agents a on o.object_type = 'agent' and a.id = o.object_id`,
        [sourceId, runId],
      ));
      const row = result.rows[0];
      return { people: row?.people ?? 0, activePeople: row?.active_people ?? 0, groups: row?.groups ?? 0, agents: row?.agents ?? 0, liveAgents: row?.live_agents ?? 0 };
    },

    /** Records keys the run read from the directory (deletion detection compares key sets, see `unseen`). */
    async markSeen(runId: number, type: ObjectType, keys: readonly string[]): Promise<void> {
      if (keys.length === 0) return;
      await q.query('insert into sync_seen (run_id, object_type, source_key) select $1, $2, unnest($3::text[])', [runId, type, keys]);
    },

    /**
     * Of a page of entries read from the directory, those whose facts hash differs from the mirrored one (or
     * that are not mirrored yet), with the mirrored person's active flag; records the keys as read by run
     * `seenBy` in the same round trip. PostgreSQL compares: an unchanged page returns no rows, so a full
     * reconciliation of an unchanged directory ships keys and hashes one way only.
     */
    async changedEntries(sourceId: string, type: ObjectType, entries: readonly { key: string; hash: string }[], seenBy: number | null): Promise<ChangedEntry[]> {
      if (entries.length === 0) return [];
      const keys = entries.map((entry) => entry.key);
      const hashes = entries.map((entry) => entry.hash);
      const result = seenBy === null
        ? await q.query<ChangedEntryRow>(CHANGED_ENTRIES_SQL, [sourceId, type, keys, hashes])
        : await q.query<ChangedEntryRow>(CHANGED_ENTRIES_SEEN_SQL, [sourceId, type, keys, hashes, seenBy]);
      return result.rows.map((row) => ({ key: row.key, mirrored: row.mirrored, active: row.active, sameFacts: row.same_facts }));
    },

    /**
     * Of `rows` (directory entries about to be applied), the keys whose user name a live person of the source
     * mirrored from ANOTHER entry holds now: applying them first would break the unique user name.
     */
    async userNameHolders(sourceId: string, rows: readonly { key: string; userName: string }[]): Promise<string[]> {
      if (rows.length === 0) return [];
      // One probe of the unique user name index per row (LATERAL ... LIMIT 1 keeps it a nested loop), so a
      // chunk costs its own size: as a join, the planner (which has no usable statistics for the partial
      // expression index) scanned every live person per chunk, quadratic over a first load.
      const result = await q.query<{ key: string }>(
        `select r.key from unnest($2::text[], $3::text[]) as r(key, name)
          cross join lateral (
            select p.id from persons p where p.source_id = $1 and p.deleted_at is null and lower(p.user_name) = r.name limit 1
          ) h
          where not exists (select 1 from sync_objects o where o.object_id = h.id and o.source_key = r.key)`,
        [sourceId, rows.map((row) => row.key), rows.map((row) => row.userName.toLowerCase())],
      );
      return result.rows.map((row) => row.key);
    },

    async countActivePeople(sourceId: string): Promise<number> {
      const result = await q.query<{ n: number }>('select count(*)::int as n from persons where source_id = $1 and deleted_at is null and active', [sourceId]);
      return result.rows[0]?.n ?? 0;
    },

    async countDirectoryAgents(sourceId: string): Promise<number> {
      const result = await q.query<{ n: number }>(
        `select count(*)::int as n from sync_objects o join agents a on a.id = o.object_id and a.state <> 'retired'
          where o.source_id = $1 and o.object_type = 'agent'`,
        [sourceId],
      );
      return result.rows[0]?.n ?? 0;
    },

    async countDirectoryGroups(sourceId: string): Promise<number> {
      const result = await q.query<{ n: number }>(
        `select count(*)::int as n from sync_objects o join groups g on g.id = o.object_id and g.deleted_at is null
          where o.source_id = $1 and o.object_type = 'group'`,
        [sourceId],
      );
      return result.rows[0]?.n ?? 0;
    },

    async holdRun(runId: number, counts: RunCounts & { population: number }, reason: string, now: Date, mode: 'delta' | 'full'): Promise<void> {
      const run = await q.query<{ source_id: string }>('select source_id from sync_runs where id = $1', [runId]);
      const sourceId = run.rows[0]?.source_id;
      await q.query(`update sync_runs set status = 'superseded', decided_at = $2, decided_by = 'system' where source_id = $1 and status = 'held'`, [sourceId, now]);
      await q.query(
        `update sync_runs set status = 'held', finished_at = $2, seen = $3, changed = $4, deleted = $5, deactivated = $6, population = $7, held_reason = $8,
                mode = $9
          where id = $1`,
        [runId, now, counts.seen, counts.changed, counts.deleted, counts.deactivated, counts.population, reason, mode],
      );
      await q.query('update sync_state set lease_owner = null, lease_until = null, last_error = $3, last_error_at = $2 where source_id = $1 and lease_owner = $4', [sourceId, now, `held: ${reason}`, runId]);
      await q.query('delete from sync_staging where run_id = $1', [runId]);
      await q.query(DELETE_DEAD_SEEN, [now]);
    },

    async failRun(runId: number, error: string, now: Date): Promise<void> {
      const run = await q.query<{ source_id: string }>(`update sync_runs set status = 'failed', finished_at = $2, error = $3 where id = $1 returning source_id`, [runId, now, error]);
      const sourceId = run.rows[0]?.source_id;
      await q.query('update sync_state set lease_owner = null, lease_until = null, last_error = $3, last_error_at = $2 where source_id = $1 and lease_owner = $4', [sourceId, now, error, runId]);
      await q.query('delete from sync_staging where run_id = $1', [runId]);
      await q.query(DELETE_DEAD_SEEN, [now]);
    },

    async decideHeldRun(sourceId: string, runId: number, decision: 'confirmed' | 'discarded', actor: string, now: Date): Promise<SyncRunRecord | null> {
      const result = await q.query<RunRow>(
        `update sync_runs set status = $3, decided_by = $4, decided_at = $5,
           confirmed_removals = case when $3 = 'confirmed' then deleted + deactivated else null end
          where source_id = $1 and id = $2 and status = 'held' returning *`,
        [sourceId, runId, decision, actor, now],
      );
      if (result.rows[0] === undefined) return null;
      if (decision === 'discarded') await q.query(`update sync_state set last_error = null, last_error_at = null where source_id = $1 and last_error like 'held:%'`, [sourceId]);
      return toRun(result.rows[0]);
    },

    /** Per source: state, the last run and the held run, for status views. */
    async syncStatus(): Promise<SyncStatusRow[]> {
      const result = await q.query<{
        source_id: string; cursor: SyncCursor | null; cursor_at: Date | null; last_attempt_at: Date | null; last_success_at: Date | null;
        last_full_at: Date | null; last_error: string | null; last_error_at: Date | null; running: boolean; last_run: RunRow | null; held_run: RunRow | null;
      }>(
        `select s.*, s.lease_until is not null and s.lease_until > now() as running,
                (select to_jsonb(r) from sync_runs r where r.source_id = s.source_id and r.status <> 'running' order by r.id desc limit 1) as last_run,
                (select to_jsonb(r) from sync_runs r where r.source_id = s.source_id and r.status = 'held' limit 1) as held_run
           from sync_state s order by s.source_id`,
      );
      return result.rows.map((row) => ({
        sourceId: row.source_id, cursor: row.cursor, cursorAt: row.cursor_at, lastAttemptAt: row.last_attempt_at, lastSuccessAt: row.last_success_at,
        lastFullAt: row.last_full_at, lastError: row.last_error, lastErrorAt: row.last_error_at, running: row.running,
        lastRun: row.last_run === null ? null : toRun(fromJson(row.last_run)),
        heldRun: row.held_run === null ? null : toRun(fromJson(row.held_run)),
      }));
    },
  };
}

/** to_jsonb turns timestamps into strings. */
function fromJson(row: RunRow): RunRow {
  const date = (value: unknown) => (value === null || value === undefined ? null : new Date(value as string));
  return { ...row, started_at: date(row.started_at) ?? new Date(0), finished_at: date(row.finished_at), decided_at: date(row.decided_at) };
}

function cursorTime(cursor: SyncCursor, now: Date): Date {
  const at = cursor['at'];
  return typeof at === 'string' ? new Date(at) : now;
}
