import { AppError } from '../domain/errors.js';
import type { SponsorSnapshot } from '../domain/types.js';
import type { DirectoryQuery, Page, UserGroup } from '../app/directory/directory-query.js';
import type { SponsorRef } from '../app/agents/register-agent.js';
import type { GroupMember, GroupRecord, GroupWrite, PersonRecord, PersonWrite } from '../app/records.js';
import type { Queryable } from './db.js';
import { filterToSql, orderBySql, SqlParams } from './filter-sql.js';
import { GROUP_MAPPING, USER_MAPPING } from './directory-mappings.js';
import { isUniqueViolation, toGroup, toPerson, type GroupRow, type PersonRow } from './rows.js';
import { isUuid } from './ids.js';
import { hot } from './prepared.js';

const PERSON_COLUMNS = 'id, source_id, external_id, user_name, display_name, active, attributes, resource, version, created_at, updated_at';
const GROUP_COLUMNS = 'id, source_id, external_id, display_name, resource, version, created_at, updated_at';

/** Person ids reachable from the given member ids through nested groups; UNION makes cycles terminate. */
const PERSONS_UNDER_SQL = `
  with recursive reach(id, kind) as (
    select p.id, 'User' from persons p where p.id = any($1::uuid[]) and p.deleted_at is null
    union
    select g.id, 'Group' from groups g where g.id = any($1::uuid[]) and g.deleted_at is null
    union
    select m.member_id, m.member_type from memberships m join reach r on r.kind = 'Group' and m.group_id = r.id
  )
  select distinct id from reach where kind = 'User'`;

/** Every group a person is in, directly or through nesting. */
const GROUPS_OF_SQL = hot('groups_of', `
  with recursive up(id) as (
    select m.group_id from memberships m where m.member_id = $1
    union
    select m.group_id from memberships m join up on m.member_id = up.id
  )
  select g.id, g.display_name from up join groups g on g.id = up.id and g.deleted_at is null`);

/** GROUPS_OF_SQL for many people at once, each group tagged with the person it was reached from. */
const GROUPS_OF_MANY_SQL = hot('groups_of_many', `
  with recursive up(person_id, group_id) as (
    select m.member_id, m.group_id from memberships m where m.member_id = any($1::uuid[])
    union
    select up.person_id, m.group_id from memberships m join up on m.member_id = up.group_id
  )
  select up.person_id, up.group_id from up join groups g on g.id = up.group_id and g.deleted_at is null`);

/** What changeMembers did. */
export interface MemberChange {
  readonly added: string[];
  readonly removed: string[];
  /** The ids asked to be added that exist in the source (the others are ignored). */
  readonly known: string[];
  readonly affectedPersonIds: string[];
  /** The group's version after the bump (its `updated_at` is `now`); null when nothing changed. */
  version: number | null;
}

const LOCK_PEOPLE_SQL = hot('lock_people', `select ${PERSON_COLUMNS} from persons where id = any($1::uuid[]) and deleted_at is null order by id for update`);

/** LOCK_PEOPLE_SQL with each person's groups (GROUPS_OF_SQL per row): one round trip instead of two. */
const LOCK_PEOPLE_WITH_GROUPS_SQL = hot('lock_people_with_groups', `
  select ${PERSON_COLUMNS.split(', ').map((name) => `p.${name}`).join(', ')},
         array(
           with recursive up(id) as (
             select m.group_id from memberships m where m.member_id = p.id
             union
             select m.group_id from memberships m join up on m.member_id = up.id
           )
           select up.id from up join groups g on g.id = up.id and g.deleted_at is null
         )::text[] as group_ids
    from persons p where p.id = any($1::uuid[]) and p.deleted_at is null order by p.id for update of p`);

const UPDATE_PEOPLE_SQL = hot('update_people', `update persons p set external_id = w.external_id, user_name = w.user_name, display_name = w.display_name, active = w.active,
           attributes = w.attributes::jsonb, resource = w.resource::jsonb, version = p.version + 1, updated_at = $8
           from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::text[], $7::text[])
             as w(id, external_id, user_name, display_name, active, attributes, resource)
          where p.id = w.id
          returning ${PERSON_COLUMNS.split(', ').map((name) => `p.${name}`).join(', ')}`);

const CHANGE_MEMBERS_SQL = hot('change_members', `with recursive wanted as (
           select w.id, w.display from unnest($3::uuid[], $4::text[]) as w(id, display)
         ), known as (
           select p.id, 'User' as type from persons p join wanted w on w.id = p.id where p.source_id = $1 and p.deleted_at is null
           union all
           select g.id, 'Group' from groups g join wanted w on w.id = g.id where g.source_id = $1 and g.deleted_at is null and g.id <> $2
         ), removed as (
           delete from memberships where group_id = $2 and member_id = any($5::uuid[]) returning member_id, member_type
         ), added as (
           insert into memberships (group_id, member_id, member_type, display, added_at)
           select $2, k.id, k.type, w.display, $6 from known k join wanted w on w.id = k.id
           on conflict do nothing returning member_id, member_type
         ), changed as (
           select member_id, member_type from removed union all select member_id, member_type from added
         ), reach(id, kind) as (
           select member_id, member_type from changed
           union
           select m.member_id, m.member_type from memberships m join reach r on r.kind = 'Group' and m.group_id = r.id
         ), touched as (
           -- $7: false when the caller already bumped the version in this request (attributes changed too).
           update groups set version = version + 1, updated_at = $6 where id = $2 and $7 and exists (select 1 from changed)
           returning version
         ), people_touched as (
           -- A User's groups (direct and through nesting) are part of it: each person reached gets a new
           -- version ($8: unless the caller does it). Locked in id order, so overlapping writers wait instead of
           -- deadlocking, and FOR NO KEY UPDATE, which the membership rows' foreign-key checks (KEY SHARE on
           -- the same people, by this and by concurrent requests) do not conflict with.
           update persons set version = version + 1, updated_at = $6
            where $8 and id in (select p.id from reach r join persons p on p.id = r.id and p.deleted_at is null where r.kind = 'User' order by p.id for no key update of p)
         )
         select 'added' as what, member_id::text as id from added
         union all select 'removed', member_id::text from removed
         union all select 'known', id::text from known
         union all select 'affected', r.id::text from reach r join persons p on p.id = r.id and p.deleted_at is null where r.kind = 'User'
         union all select 'version', version::text from touched`);

/**
 * GROUPS_OF_MANY_SQL as SCIM shows it (User `groups`): with each group's name, and whether it is direct
 * (depth 1) or indirect. Depth is capped at 2, so `union` sees repeated rows and a cycle of groups ends the
 * walk; a group reached both ways is direct.
 */
const USER_GROUPS_SQL = `with recursive up(member_id, group_id, depth) as (
    select m.member_id, m.group_id, 1 from memberships m where m.member_id = any($1::uuid[])
    union
    select up.member_id, m.group_id, 2 from up join memberships m on m.member_id = up.group_id
  )
  select up.member_id, g.id, g.display_name, min(up.depth) = 1 as direct
    from up join groups g on g.id = up.group_id and g.deleted_at is null
   group by up.member_id, g.id, g.display_name
   order by g.display_name, g.id`;

/**
 * Version bumps in id order (see lockPeople), so overlapping writers wait for each other instead of
 * deadlocking; FOR NO KEY UPDATE (what the UPDATE takes anyway) does not conflict with the KEY SHARE locks
 * that foreign-key checks of membership rows hold on the same people.
 */
const TOUCH_PEOPLE_SQL = `update persons set version = version + 1, updated_at = $2
  where id in (select id from persons where id = any($1::uuid[]) and deleted_at is null order by id for no key update)`;

const LOCK_GROUP_SQL = hot('lock_group', `select ${GROUP_COLUMNS} from groups where id = $1 and source_id = $2 and deleted_at is null for update`);

function uniqueness(error: unknown, detail: string): unknown {
  return isUniqueViolation(error) ? new AppError('uniqueness', detail, { detail, cause: error }) : error;
}

/** Mirror writes and reads for people and groups, on a transaction or the pool. */
export function directoryOps(q: Queryable) {
  /**
   * Locks the live rows among `ids` for the rest of the transaction, in id order: two transactions locking
   * overlapping sets wait for each other instead of deadlocking. Ids that are not UUIDs match nothing.
   */
  async function lockPeople(ids: readonly string[]): Promise<PersonRecord[]> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return [];
    const result = await q.query<PersonRow>(
      LOCK_PEOPLE_SQL,
      [valid],
    );
    return result.rows.map(toPerson);
  }

  /** lockPeople, each person with every group it is in, directly or through nesting. */
  async function lockPeopleWithGroups(ids: readonly string[]): Promise<{ person: PersonRecord; groupIds: string[] }[]> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return [];
    const result = await q.query<PersonRow & { group_ids: string[] }>(LOCK_PEOPLE_WITH_GROUPS_SQL, [valid]);
    return result.rows.map((row) => ({ person: toPerson(row), groupIds: row.group_ids }));
  }

  /** One statement for many rows; each row's version goes up by one. Returns the rows in input order. */
  async function updatePeople(writes: readonly { readonly id: string; readonly write: PersonWrite }[], now: Date): Promise<PersonRecord[]> {
    if (writes.length === 0) return [];
    const column = <V>(pick: (write: PersonWrite) => V) => writes.map((entry) => pick(entry.write));
    try {
      const result = await q.query<PersonRow>(
        UPDATE_PEOPLE_SQL,
        [writes.map((entry) => entry.id), column((w) => w.externalId), column((w) => w.userName), column((w) => w.displayName),
          column((w) => w.active), column((w) => JSON.stringify(w.attributes)), column((w) => JSON.stringify(w.resource)), now],
      );
      const byId = new Map(result.rows.map((row) => [row.id, toPerson(row)]));
      return writes.map((entry) => byId.get(entry.id) as PersonRecord);
    } catch (error) {
      throw uniqueness(error, writes.length === 1 ? `userName "${writes[0]!.write.userName}" is already in use` : 'a userName is already in use');
    }
  }

  /** For each person, every group it belongs to, directly or through nesting (people in no group are absent). */
  async function groupIdsOfMany(personIds: readonly string[]): Promise<Map<string, string[]>> {
    const byPerson = new Map<string, string[]>();
    if (personIds.length === 0) return byPerson;
    const result = await q.query<{ person_id: string; group_id: string }>(GROUPS_OF_MANY_SQL, [personIds]);
    for (const row of result.rows) {
      const list = byPerson.get(row.person_id);
      if (list === undefined) byPerson.set(row.person_id, [row.group_id]);
      else list.push(row.group_id);
    }
    return byPerson;
  }

  return {
    lockPeople,
    lockPeopleWithGroups,
    updatePeople,
    groupIdsOfMany,

    async lockPerson(sourceId: string, id: string): Promise<PersonRecord | null> {
      const [person] = await lockPeople([id]);
      return person !== undefined && person.sourceId === sourceId ? person : null;
    },

    async insertPerson(sourceId: string, id: string, write: PersonWrite, now: Date): Promise<PersonRecord> {
      try {
        const result = await q.query<PersonRow>(
          `insert into persons (id, source_id, external_id, user_name, display_name, active, attributes, resource, version, created_at, updated_at)
           values ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9) returning ${PERSON_COLUMNS}`,
          [id, sourceId, write.externalId, write.userName, write.displayName, write.active, write.attributes, write.resource, now],
        );
        return toPerson(result.rows[0] as PersonRow);
      } catch (error) {
        throw uniqueness(error, `userName "${write.userName}" is already in use`);
      }
    },

    async updatePerson(id: string, write: PersonWrite, now: Date): Promise<PersonRecord> {
      const [updated] = await updatePeople([{ id, write }], now);
      return updated as PersonRecord;
    },

    async lockGroupsOf(personId: string): Promise<void> {
      if (!isUuid(personId)) return;
      await q.query(
        `select g.id from groups g where g.id in (select m.group_id from memberships m where m.member_id = $1) and g.deleted_at is null
          order by g.id for update of g`,
        [personId],
      );
    },

    async softDeletePerson(id: string, now: Date): Promise<void> {
      // The groups it leaves show one member less: their version (the SCIM ETag) moves too.
      await q.query(
        `with gone as (delete from memberships where member_id = $1 returning group_id)
         update groups set version = version + 1, updated_at = $2 where id in (select group_id from gone) and deleted_at is null`,
        [id, now],
      );
      await q.query('update persons set deleted_at = $2, active = false, version = version + 1, updated_at = $2 where id = $1', [id, now]);
    },

    async groupIdsOf(personId: string): Promise<string[]> {
      return (await groupIdsOfMany([personId])).get(personId) ?? [];
    },

    async findPerson(ref: SponsorRef): Promise<{ id: string; active: boolean } | null> {
      const [where, params] =
        'id' in ref
          ? ['id = $1', [ref.id]]
          : 'userName' in ref
            ? ['source_id = $1 and lower(user_name) = lower($2)', [ref.sourceId, ref.userName]]
            : ['source_id = $1 and external_id = $2', [ref.sourceId, ref.externalId]];
      if ('id' in ref && !isUuid(ref.id)) return null;
      const result = await q.query<{ id: string; active: boolean }>(
        `select id, active from persons where ${where} and deleted_at is null limit 1`,
        params,
      );
      return result.rows[0] ?? null;
    },

    async sponsorSnapshot(personId: string): Promise<SponsorSnapshot | null> {
      const person = await q.query<{ id: string; active: boolean; deleted: boolean; attributes: Record<string, string> }>(
        'select id, active, deleted_at is not null as deleted, attributes from persons where id = $1',
        [personId],
      );
      const row = person.rows[0];
      if (row === undefined) return null;
      const groups = row.deleted ? { rows: [] } : await q.query<{ id: string; display_name: string }>(GROUPS_OF_SQL, [personId]);
      return {
        id: row.id,
        active: row.active,
        deleted: row.deleted,
        attributes: row.attributes,
        groups: groups.rows.map((group) => ({ id: group.id, name: group.display_name })).sort((a, b) => a.name.localeCompare(b.name)),
      };
    },

    async lockGroup(sourceId: string, id: string): Promise<GroupRecord | null> {
      if (!isUuid(id)) return null;
      const result = await q.query<GroupRow>(LOCK_GROUP_SQL, [id, sourceId]);
      return result.rows[0] === undefined ? null : toGroup(result.rows[0]);
    },

    async insertGroup(sourceId: string, id: string, write: GroupWrite, now: Date): Promise<GroupRecord> {
      const result = await q.query<GroupRow>(
        `insert into groups (id, source_id, external_id, display_name, resource, version, created_at, updated_at)
         values ($1, $2, $3, $4, $5, 1, $6, $6) returning ${GROUP_COLUMNS}`,
        [id, sourceId, write.externalId, write.displayName, write.resource, now],
      );
      return toGroup(result.rows[0] as GroupRow);
    },

    async updateGroup(id: string, write: GroupWrite, now: Date): Promise<GroupRecord> {
      const result = await q.query<GroupRow>(
        `update groups set external_id = $2, display_name = $3, resource = $4, version = version + 1, updated_at = $5
         where id = $1 returning ${GROUP_COLUMNS}`,
        [id, write.externalId, write.displayName, write.resource, now],
      );
      return toGroup(result.rows[0] as GroupRow);
    },

    /** New versions for people whose representation changed without a write of their own (their groups). */
    async touchPeople(ids: readonly string[], now: Date): Promise<void> {
      const valid = ids.filter(isUuid);
      if (valid.length === 0) return;
      await q.query(TOUCH_PEOPLE_SQL, [valid, now]);
    },

    async touchGroup(id: string, now: Date): Promise<GroupRecord> {
      const result = await q.query<GroupRow>(
        `update groups set version = version + 1, updated_at = $2 where id = $1 returning ${GROUP_COLUMNS}`,
        [id, now],
      );
      return toGroup(result.rows[0] as GroupRow);
    },

    async softDeleteGroup(id: string, now: Date): Promise<void> {
      await q.query('delete from memberships where member_id = $1', [id]);
      await q.query('update groups set deleted_at = $2, version = version + 1, updated_at = $2 where id = $1', [id, now]);
    },

    async resolveMembers(sourceId: string, ids: readonly string[]): Promise<GroupMember[]> {
      const valid = ids.filter((id) => isUuid(id));
      if (valid.length === 0) return [];
      const result = await q.query<{ id: string; type: 'User' | 'Group'; display: string | null }>(
        `select id, 'User' as type, coalesce(display_name, user_name) as display from persons
           where id = any($1::uuid[]) and source_id = $2 and deleted_at is null
         union all
         select id, 'Group', display_name from groups where id = any($1::uuid[]) and source_id = $2 and deleted_at is null`,
        [valid, sourceId],
      );
      return result.rows;
    },

    async addMembers(groupId: string, members: readonly GroupMember[], now: Date): Promise<string[]> {
      if (members.length === 0) return [];
      const result = await q.query<{ member_id: string }>(
        `insert into memberships (group_id, member_id, member_type, display, added_at)
         select $1, m.id, m.type, m.display, $5 from unnest($2::uuid[], $3::text[], $4::text[]) as m(id, type, display)
         on conflict do nothing returning member_id`,
        [groupId, members.map((member) => member.id), members.map((member) => member.type), members.map((member) => member.display), now],
      );
      return result.rows.map((row) => row.member_id);
    },

    async removeMembers(groupId: string, memberIds: readonly string[]): Promise<string[]> {
      const valid = memberIds.filter((id) => isUuid(id));
      if (valid.length === 0) return [];
      const result = await q.query<{ member_id: string }>(
        'delete from memberships where group_id = $1 and member_id = any($2::uuid[]) returning member_id',
        [groupId, valid],
      );
      return result.rows.map((row) => row.member_id);
    },

    async memberIds(groupId: string): Promise<string[]> {
      const result = await q.query<{ member_id: string }>('select member_id from memberships where group_id = $1', [groupId]);
      return result.rows.map((row) => row.member_id);
    },

    /**
     * One statement for a membership delta: removes `removeIds`, adds those of `add` that exist in the source
     * (users or groups, never the group itself), bumps the group's version if anything changed, and returns
     * what changed with the people under the changed members (PERSONS_UNDER_SQL, cycle-safe), whose versions it
     * bumps too unless `touchPeople` is false (their groups changed). The nesting walk
     * reads memberships as they were before this statement, which reaches the same people: it only descends
     * from the changed members, and an edge into this group leads back to members already reached.
     */
    async changeMembers(
      sourceId: string, groupId: string, add: readonly GroupMember[], removeIds: readonly string[], now: Date, bumpVersion = true, touchPeople = true,
    ): Promise<MemberChange> {
      const adds = add.filter((member) => isUuid(member.id) && member.id !== groupId);
      const result = await q.query<{ what: 'added' | 'removed' | 'known' | 'affected' | 'version'; id: string }>(
        CHANGE_MEMBERS_SQL,
        [sourceId, groupId, adds.map((member) => member.id), adds.map((member) => member.display), removeIds.filter(isUuid), now, bumpVersion, touchPeople],
      );
      const change: MemberChange = { added: [], removed: [], known: [], affectedPersonIds: [], version: null };
      for (const row of result.rows) {
        if (row.what === 'version') change.version = Number(row.id);
        else if (row.what === 'affected') change.affectedPersonIds.push(row.id);
        else change[row.what].push(row.id);
      }
      return change;
    },

    async personsUnder(memberIds: readonly string[]): Promise<string[]> {
      if (memberIds.length === 0) return [];
      const result = await q.query<{ id: string }>(PERSONS_UNDER_SQL, [memberIds]);
      return result.rows.map((row) => row.id);
    },
  };
}

/** SCIM reads: filter, sort and page in SQL. */
export function directoryReader(q: Queryable) {
  return {
    async getPerson(sourceId: string, id: string): Promise<PersonRecord | null> {
      if (!isUuid(id)) return null;
      const result = await q.query<PersonRow>(
        `select ${PERSON_COLUMNS} from persons where id = $1 and source_id = $2 and deleted_at is null`,
        [id, sourceId],
      );
      return result.rows[0] === undefined ? null : toPerson(result.rows[0]);
    },

    async listPersons(sourceId: string, query: DirectoryQuery): Promise<Page<PersonRecord>> {
      const page = await listPage<PersonRow>(q, 'persons p', PERSON_COLUMNS.split(', ').map((c) => `p.${c}`).join(', '), USER_MAPPING, sourceId, query);
      return { totalResults: page.totalResults, items: page.rows.map(toPerson) };
    },

    async getGroup(sourceId: string, id: string): Promise<GroupRecord | null> {
      if (!isUuid(id)) return null;
      const result = await q.query<GroupRow>(
        `select ${GROUP_COLUMNS} from groups where id = $1 and source_id = $2 and deleted_at is null`,
        [id, sourceId],
      );
      return result.rows[0] === undefined ? null : toGroup(result.rows[0]);
    },

    async listGroups(sourceId: string, query: DirectoryQuery): Promise<Page<GroupRecord>> {
      const page = await listPage<GroupRow>(q, 'groups g', GROUP_COLUMNS.split(', ').map((c) => `g.${c}`).join(', '), GROUP_MAPPING, sourceId, query);
      return { totalResults: page.totalResults, items: page.rows.map(toGroup) };
    },

    async membersOf(groupIds: readonly string[]): Promise<Map<string, GroupMember[]>> {
      const members = new Map<string, GroupMember[]>(groupIds.map((id) => [id, []]));
      if (groupIds.length === 0) return members;
      const result = await q.query<{ group_id: string; member_id: string; member_type: 'User' | 'Group'; display: string | null }>(
        `select m.group_id, m.member_id, m.member_type,
                coalesce(m.display, p.display_name, p.user_name, g.display_name) as display
           from memberships m
           left join persons p on m.member_type = 'User' and p.id = m.member_id
           left join groups g on m.member_type = 'Group' and g.id = m.member_id
          where m.group_id = any($1::uuid[])
          order by m.added_at, m.member_id`,
        [groupIds],
      );
      for (const row of result.rows) members.get(row.group_id)?.push({ id: row.member_id, type: row.member_type, display: row.display });
      return members;
    },

    async groupsOf(personIds: readonly string[]): Promise<Map<string, UserGroup[]>> {
      const groups = new Map<string, UserGroup[]>(personIds.map((id) => [id, []]));
      if (personIds.length === 0) return groups;
      const result = await q.query<{ member_id: string; id: string; display_name: string; direct: boolean }>(USER_GROUPS_SQL, [personIds]);
      for (const row of result.rows) groups.get(row.member_id)?.push({ id: row.id, display: row.display_name, type: row.direct ? 'direct' : 'indirect' });
      return groups;
    },
  };
}

async function listPage<Row>(
  q: Queryable,
  table: string,
  columns: string,
  mapping: typeof USER_MAPPING,
  sourceId: string,
  query: DirectoryQuery,
): Promise<{ totalResults: number; rows: Row[] }> {
  const params = new SqlParams();
  const source = params.add(sourceId);
  const where = [`${mapping.alias}.source_id = ${source}`, `${mapping.alias}.deleted_at is null`];
  if (query.filter !== null) where.push(filterToSql(query.filter, mapping, params));
  const order = orderBySql(query.sortBy, query.sortOrder, mapping);
  const whereSql = where.join(' and ');
  const total = await q.query<{ n: number }>(`select count(*) as n from ${table} where ${whereSql}`, params.values);
  const totalResults = total.rows[0]?.n ?? 0;
  if (query.count === 0) return { totalResults, rows: [] };
  const limit = params.add(query.count);
  const offset = params.add(Math.max(0, query.startIndex - 1));
  const rows = await q.query<Row>(`select ${columns} from ${table} where ${whereSql} order by ${order} limit ${limit} offset ${offset}`, params.values);
  return { totalResults, rows: rows.rows };
}
