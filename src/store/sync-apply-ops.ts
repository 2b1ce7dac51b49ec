/**
 * The set-based statements of a directory run's apply path (src/app/directory/ldap-*-batch.ts): many
 * entries per statement — people and groups created with their sync objects, pending references taken with
 * the memberships they resolve to, membership deltas of many groups, the planner statistics of the mirror.
 */
import { normalizeDn } from '../app/directory/ldap-tx.js';
import type { NewSyncedGroup, NewSyncedPerson } from '../app/directory/ldap-batch-tx.js';
import type { ObjectType } from '../app/directory/sync-ports.js';
import type { GroupMember, PersonRecord } from '../app/records.js';
import { AppError } from '../domain/errors.js';
import type { Queryable } from './db.js';
import { isUniqueViolation, toPerson, type PersonRow } from './rows.js';

export interface PendingTaken {
  readonly taken: { groupId: string; ref: string }[];
  readonly added: { groupId: string; memberId: string }[];
}

const PERSON_RETURNING = 'id, source_id, external_id, user_name, display_name, active, attributes, resource, version, created_at, updated_at';

/** groups + sync_objects for a batch of new groups (see insertSyncedGroups). */
const INSERT_SYNCED_GROUPS = `with inserted as (
       insert into groups (id, source_id, external_id, display_name, resource, version, created_at, updated_at)
       select g.id, $1, g.external_id, g.display_name, g.resource::jsonb, 1, $2, $2
         from unnest($3::uuid[], $4::text[], $5::text[], $6::text[]) as g(id, external_id, display_name, resource)
     )
     insert into sync_objects (source_id, object_type, source_key, object_id, dn, dn_norm, facts_hash, seen_run)
     select $1, 'group', s.key, s.id, s.dn, s.dn_norm, null, $7
       from unnest($3::uuid[], $8::text[], $9::text[], $10::text[]) as s(id, key, dn, dn_norm)
     on conflict (source_id, object_type, source_key) do update
       set object_id = excluded.object_id, dn = excluded.dn, dn_norm = excluded.dn_norm, facts_hash = excluded.facts_hash,
           seen_run = greatest(sync_objects.seen_run, excluded.seen_run)`;

/** persons + sync_objects + sync_pending_members for a batch of new people (see insertSyncedPeople). */
const INSERT_SYNCED_PEOPLE = `with person as (
       insert into persons (id, source_id, external_id, user_name, display_name, active, attributes, resource, version, created_at, updated_at)
       select p.id, $1, p.external_id, p.user_name, p.display_name, p.active, p.attributes::jsonb, p.resource::jsonb, 1, $2, $2
         from unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::boolean[], $8::text[], $9::text[])
           as p(id, external_id, user_name, display_name, active, attributes, resource)
       returning ${PERSON_RETURNING}
     ), synced as (
       insert into sync_objects (source_id, object_type, source_key, object_id, dn, dn_norm, facts_hash, seen_run)
       select $1, 'person', s.key, s.id, s.dn, s.dn_norm, s.hash, $10
         from unnest($3::uuid[], $11::text[], $12::text[], $13::text[], $14::text[]) as s(id, key, dn, dn_norm, hash)
       on conflict (source_id, object_type, source_key) do update
         set object_id = excluded.object_id, dn = excluded.dn, dn_norm = excluded.dn_norm, facts_hash = excluded.facts_hash,
             seen_run = greatest(sync_objects.seen_run, excluded.seen_run)
     ), pending as (
       insert into sync_pending_members (source_id, group_id, ref)
       select $1, r.holder, r.ref from unnest($15::uuid[], $16::text[]) as r(holder, ref)
       on conflict do nothing
     )
     select ${PERSON_RETURNING} from person`;

/**
 * Takes pending references and adds the memberships they resolve to (see takePendingMemberships). The
 * version bump counts the members added per group, so a group's version moves as it did one member at a time.
 */
const TAKE_PENDING_MEMBERSHIPS = `with taken as (
       delete from sync_pending_members where source_id = $1 and ref = any($2::text[]) returning group_id, ref
     ), resolved as (
       select r.ref, r.member_id from unnest($2::text[], $3::uuid[]) as r(ref, member_id) where r.member_id is not null
     ), added as (
       insert into memberships (group_id, member_id, member_type, display, added_at)
       select distinct t.group_id, r.member_id, 'User', null::text, $4::timestamptz from taken t join resolved r on r.ref = t.ref
       on conflict do nothing
       returning group_id, member_id
     ), bumped as (
       update groups g set version = g.version + a.n, updated_at = $4
         from (select group_id, count(*)::int as n from added group by group_id) a where g.id = a.group_id
     )
     select 'taken' as what, group_id, ref as value from taken
     union all
     select 'added', group_id, member_id::text from added`;

const CHANGE_MEMBERSHIPS = `with removed as (
       delete from memberships m using unnest($5::uuid[], $6::uuid[]) as r(group_id, member_id)
        where m.group_id = r.group_id and m.member_id = r.member_id
       returning m.group_id, m.member_id
     ), added as (
       insert into memberships (group_id, member_id, member_type, display, added_at)
       select a.group_id, a.member_id, a.member_type, a.display, $7 from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[]) as a(group_id, member_id, member_type, display)
       on conflict do nothing
       returning group_id, member_id
     ), touched as (
       update groups set version = version + 1, updated_at = $7
        where id in (select group_id from removed union select group_id from added)
     )
     select 'removed' as what, group_id, member_id from removed
     union all
     select 'added', group_id, member_id from added`;

/** Keeps the holders' references that are still wanted, drops the others, adds the new ones. */
const REPLACE_PENDING = `with dropped as (
       delete from sync_pending_members p
        where p.source_id = $1 and p.group_id = any($2::uuid[])
          and not exists (select 1 from unnest($3::uuid[], $4::text[]) as w(holder, ref) where w.holder = p.group_id and w.ref = p.ref)
     )
     insert into sync_pending_members (source_id, group_id, ref)
     select $1, w.holder, w.ref from unnest($3::uuid[], $4::text[]) as w(holder, ref)
     on conflict do nothing`;

const UPSERT_SYNCED_OBJECTS = `insert into sync_objects (source_id, object_type, source_key, object_id, dn, dn_norm, facts_hash, seen_run)
     select $1, $2, o.key, o.object_id, o.dn, o.dn_norm, o.hash, $8
       from unnest($3::text[], $4::uuid[], $5::text[], $6::text[], $7::text[]) as o(key, object_id, dn, dn_norm, hash)
     on conflict (source_id, object_type, source_key) do update
       set object_id = excluded.object_id, dn = excluded.dn, dn_norm = excluded.dn_norm, facts_hash = excluded.facts_hash,
           seen_run = greatest(sync_objects.seen_run, excluded.seen_run)`;

/** PERSONS_UNDER_SQL (directory-ops) for many member sets, each walked under its own tag; UNION ends cycles. */
const PERSONS_UNDER_MANY = `with recursive start(tag, id) as (
       select tag, id from unnest($1::text[], $2::uuid[]) as s(tag, id)
     ), reach(tag, id, kind) as (
       select s.tag, p.id, 'User' from start s join persons p on p.id = s.id and p.deleted_at is null
       union
       select s.tag, g.id, 'Group' from start s join groups g on g.id = s.id and g.deleted_at is null
       union
       select r.tag, m.member_id, m.member_type from memberships m join reach r on r.kind = 'Group' and m.group_id = r.id
     )
     select distinct tag, id from reach where kind = 'User'`;

/** Usable inside a transaction (see SyncTx). */
export function syncApplyOps(q: Queryable) {
  return {
    /**
     * Takes the pending references to any of `refs` and adds, in the same statement, each entry a taken
     * reference resolves to (`memberId`; null for references that are not memberships, e.g. `manager:`) to the
     * group holding it, bumping the group's version once per member added (as one addMembers + touchGroup
     * per member would). Returns what it took and the memberships it added.
     */
    async takePendingMemberships(sourceId: string, refs: readonly { ref: string; memberId: string | null }[], now: Date): Promise<PendingTaken> {
      if (refs.length === 0) return { taken: [], added: [] };
      const result = await q.query<{ what: 'taken' | 'added'; group_id: string; value: string }>(
        TAKE_PENDING_MEMBERSHIPS, [sourceId, refs.map((row) => row.ref), refs.map((row) => row.memberId), now],
      );
      const taken = result.rows.filter((row) => row.what === 'taken').map((row) => ({ groupId: row.group_id, ref: row.value }));
      const added = result.rows.filter((row) => row.what === 'added').map((row) => ({ groupId: row.group_id, memberId: row.value }));
      return { taken, added };
    },

    /** The planner's row estimate of the mirror's sync objects; null when the table was never analyzed. */
    async mirrorRowEstimate(): Promise<number | null> {
      const result = await q.query<{ reltuples: number }>(`select reltuples::float8 as reltuples from pg_class where oid = 'sync_objects'::regclass`);
      const estimate = Number(result.rows[0]?.reltuples ?? -1);
      return estimate < 0 ? null : estimate;
    },

    /** Refreshes the planner statistics of the tables a directory run fills and reads by key (ANALYZE, sampled; readers and writers go on). */
    async analyzeMirror(): Promise<void> {
      await q.query('analyze persons, groups, memberships, sync_objects, sync_pending_members, sync_staging');
    },

    /** Creates many groups with their sync objects (hash null: pass 2 sets it once the members are applied), in one statement. */
    async insertSyncedGroups(sourceId: string, groups: readonly NewSyncedGroup[], runId: number, now: Date): Promise<void> {
      if (groups.length === 0) return;
      await q.query(INSERT_SYNCED_GROUPS, [
        sourceId, now, groups.map((g) => g.id), groups.map((g) => g.write.externalId), groups.map((g) => g.write.displayName),
        groups.map((g) => JSON.stringify(g.write.resource)), runId, groups.map((g) => g.key), groups.map((g) => g.dn), groups.map((g) => normalizeDn(g.dn)),
      ]);
    },

    /** Direct members of each group (groups without members are absent). */
    async membersOfGroups(groupIds: readonly string[]): Promise<Map<string, string[]>> {
      const byGroup = new Map<string, string[]>();
      if (groupIds.length === 0) return byGroup;
      const result = await q.query<{ group_id: string; member_id: string }>('select group_id, member_id from memberships where group_id = any($1::uuid[])', [groupIds]);
      for (const row of result.rows) {
        const list = byGroup.get(row.group_id);
        if (list === undefined) byGroup.set(row.group_id, [row.member_id]);
        else list.push(row.member_id);
      }
      return byGroup;
    },

    /**
     * Membership deltas of many groups in one statement: removes and adds the given pairs, and bumps once the
     * version of every group whose members changed. Returns the pairs actually removed and added.
     */
    async changeMemberships(
      adds: readonly { groupId: string; member: GroupMember }[], removes: readonly { groupId: string; memberId: string }[], now: Date,
    ): Promise<{ added: { groupId: string; memberId: string }[]; removed: { groupId: string; memberId: string }[] }> {
      if (adds.length === 0 && removes.length === 0) return { added: [], removed: [] };
      const result = await q.query<{ what: 'added' | 'removed'; group_id: string; member_id: string }>(CHANGE_MEMBERSHIPS, [
        adds.map((row) => row.groupId), adds.map((row) => row.member.id), adds.map((row) => row.member.type), adds.map((row) => row.member.display),
        removes.map((row) => row.groupId), removes.map((row) => row.memberId), now,
      ]);
      const pairs = (what: 'added' | 'removed') => result.rows.filter((row) => row.what === what).map((row) => ({ groupId: row.group_id, memberId: row.member_id }));
      return { added: pairs('added'), removed: pairs('removed') };
    },

    /** setPendingMembers for many holders in one statement: each holder's references become exactly `refs`' ones. */
    async replacePendingMembers(sourceId: string, holderIds: readonly string[], refs: readonly { holderId: string; ref: string }[]): Promise<void> {
      if (holderIds.length === 0) return;
      const unique = [...new Map(refs.map((row) => [`${row.holderId}\n${row.ref}`, row])).values()];
      await q.query(REPLACE_PENDING, [sourceId, holderIds, unique.map((row) => row.holderId), unique.map((row) => row.ref)]);
    },

    /** upsertSyncedObject for many entries of one type (distinct keys) in one statement. */
    async upsertSyncedObjects(
      sourceId: string, type: ObjectType, objects: readonly { key: string; objectId: string; dn: string; factsHash: string | null }[], runId: number,
    ): Promise<void> {
      if (objects.length === 0) return;
      await q.query(UPSERT_SYNCED_OBJECTS, [
        sourceId, type, objects.map((o) => o.key), objects.map((o) => o.objectId), objects.map((o) => o.dn), objects.map((o) => normalizeDn(o.dn)),
        objects.map((o) => o.factsHash), runId,
      ]);
    },

    /** personsUnder for many sets at once: per tag, the live people reachable from its member ids through nesting. */
    async personsUnderMany(sets: readonly { tag: string; memberIds: readonly string[] }[]): Promise<Map<string, string[]>> {
      const byTag = new Map<string, string[]>();
      const pairs = sets.flatMap((set) => set.memberIds.map((id) => [set.tag, id] as const));
      if (pairs.length === 0) return byTag;
      const result = await q.query<{ tag: string; id: string }>(PERSONS_UNDER_MANY, [pairs.map(([tag]) => tag), pairs.map(([, id]) => id)]);
      for (const row of result.rows) {
        const list = byTag.get(row.tag);
        if (list === undefined) byTag.set(row.tag, [row.id]);
        else list.push(row.id);
      }
      return byTag;
    },

    /**
     * Creates many people with their sync objects and the pending references they hold (a manager not
     * mirrored yet), in one statement. Throws AppError('uniqueness') when a user name is taken (by a live
     * person or by another row of the batch): the whole statement fails, nothing is written.
     */
    async insertSyncedPeople(sourceId: string, people: readonly NewSyncedPerson[], runId: number, now: Date): Promise<PersonRecord[]> {
      if (people.length === 0) return [];
      const column = <V>(pick: (person: NewSyncedPerson) => V) => people.map(pick);
      const holders = people.flatMap((person) => person.pendingRefs.map((ref) => [person.id, ref] as const));
      try {
        const result = await q.query<PersonRow>(INSERT_SYNCED_PEOPLE, [
          sourceId, now, column((p) => p.id), column((p) => p.write.externalId), column((p) => p.write.userName), column((p) => p.write.displayName),
          column((p) => p.write.active), column((p) => JSON.stringify(p.write.attributes)), column((p) => JSON.stringify(p.write.resource)),
          runId, column((p) => p.key), column((p) => p.dn), column((p) => normalizeDn(p.dn)), column((p) => p.factsHash),
          holders.map(([id]) => id), holders.map(([, ref]) => ref),
        ]);
        const byId = new Map(result.rows.map((row) => [row.id, toPerson(row)]));
        return people.map((person) => byId.get(person.id) as PersonRecord);
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        throw new AppError('uniqueness', 'a userName is already in use', { detail: 'a userName is already in use', cause: error });
      }
    },
  };
}
