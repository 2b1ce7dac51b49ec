import type { RecomputeInputs, RecomputeWrite, SponsorInputs } from '../app/pipeline/recompute-sponsor.js';
import type { Denial } from '../domain/entitlements.js';
import type { OpenGrant } from '../domain/growth.js';
import type { Entitlement, SponsorSnapshot } from '../domain/types.js';
import { toVersion } from './agent-ops.js';
import { auditColumns } from './audit.js';
import type { Queryable } from './db.js';
import { fromStoredSuccession, type StoredSuccession } from './governance-ops.js';
import { hot } from './prepared.js';
import type { AgentRow } from './rows.js';

/**
 * Set-based reads and writes of a recompute batch: whatever the number of sponsors, two statements read
 * everything and at most three write everything, so a batch of N sponsors costs about what one does.
 */

/** Per sponsor: its pending recompute outbox rows, the person, and the groups it belongs to (transitively). */
const SPONSORS_SQL = hot('recompute_sponsors', `
  with recursive pending as (
    select o.person_id,
           json_agg(json_build_object('id', o.id, 'eventId', o.change_event_id, 'kind', e.kind, 'subjectId', e.subject_id) order by o.id) as rows
      from outbox o left join change_events e on e.id = o.change_event_id
     where o.kind = 'recompute' and o.person_id = any($1::uuid[]) and o.done_at is null
     group by o.person_id
  ), up(person_id, group_id) as (
    select m.member_id, m.group_id from memberships m where m.member_id = any($1::uuid[])
    union
    select up.person_id, m.group_id from memberships m join up on m.member_id = up.group_id
  )
  select s.id as person_id, pending.rows as pending, p.id is not null as found, p.active, p.deleted_at is not null as deleted, p.attributes,
         (select json_agg(json_build_object('id', g.id, 'name', g.display_name))
            from up join groups g on g.id = up.group_id and g.deleted_at is null
           where up.person_id = s.id and p.deleted_at is null) as groups
    from unnest($1::uuid[]) as s(id)
    left join persons p on p.id = s.id
    left join pending on pending.person_id = s.id`);

/**
 * Every agent the sponsors sponsor, with its delegation, latest version and open pending grants. A retired
 * agent stays in its sponsor's recompute until a version has revoked what it held.
 */
const AGENTS_SQL = hot('recompute_agents', `
  select a.id, a.sponsor_id, a.state, a.environment, a.requested_tools, a.expires_at, a.current_version, a.backup_sponsor_ids, a.succession,
         d.id as d_id, d.tools as d_tools, d.not_before as d_not_before, d.expires_at as d_expires_at,
         v.agent_id as v_agent_id, v.version as v_version, v.sponsor_id as v_sponsor_id, v.entitlements as v_entitlements, v.denied as v_denied,
         v.reason as v_reason, v.change_event_ids as v_change_event_ids, v.computed_at as v_computed_at,
         (select json_agg(json_build_object('id', g.id, 'toolId', g.tool_id, 'sponsorId', g.sponsor_id, 'status', g.status))
            from pending_grants g where g.agent_id = a.id and g.status in ('pending', 'confirmed', 'rejected')) as grants
    from agents a
    left join delegations d on d.id = a.delegation_id
    left join lateral (
      select agent_id, version, sponsor_id, entitlements, denied, reason, change_event_ids, computed_at
        from entitlement_versions where agent_id = a.id order by version desc limit 1
    ) v on true
   where a.sponsor_id = any($1::uuid[])
     and (a.state <> 'retired'
          or exists (select 1 from entitlement_versions cv where cv.agent_id = a.id and cv.version = a.current_version and cv.entitlements <> '[]'::jsonb))
   order by a.sponsor_id, a.id`);

/**
 * Compare-and-set of every agent's current_version, then (only for the agents that advanced) their
 * versions and push outbox rows, plus the batch's audit entries, the outbox rows it answered and the change
 * events it computed. The caller rolls the whole transaction back unless every agent advanced, so the
 * unconditional parts never outlive a failed compare-and-set.
 */
const COMMIT_SQL = hot('recompute_commit', `
  with w as (
    select * from unnest($2::uuid[], $3::int[], $4::int[], $5::uuid[], $6::text[], $7::text[], $8::text[], $9::text[], $10::uuid[], $20::boolean[])
      as w(agent_id, expected, version, sponsor_id, entitlements, denied, reason, change_event_ids, change_event_id, shown_changed)
  ), advanced as (
    update agents a set current_version = w.version, updated_at = $1::timestamptz,
           -- revision is the SCIM ETag: it moves only when what SCIM shows of the rights does (VersionWrite.shownChanged).
           revision = a.revision + case when w.shown_changed then 1 else 0 end
      from w where a.id = w.agent_id and a.current_version = w.expected
    returning a.id
  ), ver as (
    insert into entitlement_versions (agent_id, version, sponsor_id, entitlements, denied, reason, change_event_ids, computed_at)
    select w.agent_id, w.version, w.sponsor_id, w.entitlements::jsonb, w.denied::jsonb, w.reason,
           string_to_array(w.change_event_ids, ',')::uuid[], $1::timestamptz
      from w join advanced on advanced.id = w.agent_id
  ), pushes as (
    insert into outbox (kind, agent_id, version, target_id, change_event_id, created_at)
    select 'push', w.agent_id, w.version, t.target_id, w.change_event_id, now()
      from w join advanced on advanced.id = w.agent_id cross join unnest($11::text[]) as t(target_id)
  ), audit as (
    insert into audit_log (at, actor, action, subject_type, subject_id, detail)
    select at, actor, action, subject_type, subject_id, detail::jsonb
      from unnest($12::timestamptz[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[])
        as e(at, actor, action, subject_type, subject_id, detail)
  ), done as (
    update outbox set done_at = $1::timestamptz where id = any($18::bigint[]) and done_at is null
  ), computed as (
    update change_events set computed_at = $1::timestamptz where id = any($19::uuid[]) and computed_at is null
  )
  select coalesce(array_agg(id), '{}') as advanced from advanced`);

const INSERT_GRANTS_SQL = hot('recompute_insert_grants', `
  insert into pending_grants (id, agent_id, tool_id, risk, sponsor_id, entitlement, status, created_at)
  select gen_random_uuid(), g.agent_id, e ->> 'toolId', e ->> 'risk', g.sponsor_id, e, 'pending', $4::timestamptz
    from unnest($1::uuid[], $2::uuid[], $3::text[]) as g(agent_id, sponsor_id, entitlement), lateral (select g.entitlement::jsonb as e) as x
  on conflict (agent_id, tool_id) where status in ('pending', 'confirmed', 'rejected') do nothing`);

const CLOSE_GRANTS_SQL = hot('recompute_close_grants', `
  update pending_grants p set status = c.status, closed_at = $3::timestamptz
    from unnest($1::uuid[], $2::text[]) as c(id, status)
   where p.id = c.id and p.status in ('pending', 'confirmed', 'rejected')`);

interface PendingJson { id: number; eventId: string | null; kind: string | null; subjectId: string | null }

interface SponsorRow {
  person_id: string; pending: PendingJson[] | null; found: boolean; active: boolean | null; deleted: boolean; attributes: Record<string, string> | null;
  groups: { id: string; name: string }[] | null;
}

interface AgentBatchRow extends Pick<AgentRow, 'id' | 'sponsor_id' | 'state' | 'environment' | 'requested_tools' | 'expires_at' | 'current_version' | 'backup_sponsor_ids'> {
  succession: StoredSuccession | null;
  d_id: string | null; d_tools: string[] | null; d_not_before: Date | null; d_expires_at: Date | null;
  v_agent_id: string | null; v_version: number; v_sponsor_id: string; v_entitlements: Entitlement[]; v_denied: Denial[]; v_reason: string;
  v_change_event_ids: string[]; v_computed_at: Date;
  grants: OpenGrant[] | null;
}

function toPending(rows: readonly PendingJson[]): SponsorInputs['pending'] {
  const unique = <T>(values: readonly T[]) => [...new Set(values)];
  return {
    outboxIds: rows.map((row) => row.id),
    changeEventIds: unique(rows.flatMap((row) => (row.eventId === null ? [] : [row.eventId]))),
    changeKinds: rows.flatMap((row) => (row.kind === null ? [] : [row.kind])),
    leaverIds: unique(rows.flatMap((row) => (row.kind === 'leaver' && row.subjectId !== null ? [row.subjectId] : []))),
  };
}

function toSponsor(row: SponsorRow): SponsorSnapshot | null {
  if (!row.found) return null;
  return {
    id: row.person_id,
    active: row.active === true,
    deleted: row.deleted,
    attributes: row.attributes ?? {},
    groups: (row.groups ?? []).slice().sort((a, b) => a.name.localeCompare(b.name)),
  };
}

function toAgentInputs(row: AgentBatchRow): SponsorInputs['agents'][number] {
  return {
    currentVersion: row.current_version,
    backupSponsorIds: row.backup_sponsor_ids,
    succession: fromStoredSuccession(row.succession),
    snapshot: {
      id: row.id, state: row.state, environment: row.environment, requestedTools: row.requested_tools, expiresAt: row.expires_at,
      delegation: row.d_id === null ? null : { id: row.d_id, tools: row.d_tools ?? [], notBefore: row.d_not_before, expiresAt: row.d_expires_at },
    },
    latest: row.v_agent_id === null
      ? null
      : toVersion({
        agent_id: row.v_agent_id, version: row.v_version, sponsor_id: row.v_sponsor_id, entitlements: row.v_entitlements, denied: row.v_denied,
        reason: row.v_reason, change_event_ids: row.v_change_event_ids, computed_at: row.v_computed_at,
      }),
    grants: row.grants ?? [],
  };
}

export function recomputeOps(q: Queryable) {
  return {
    async recomputeInputs(personIds: readonly string[]): Promise<RecomputeInputs> {
      const ids = [...new Set(personIds)];
      if (ids.length === 0) return new Map();
      // The outbox rows and the sponsor come from one statement (one snapshot), the agents from the next: a
      // change an outbox row stands for committed with it, so it is visible to both reads. Both are sent at
      // once (PostgreSQL still runs them in order): one round trip.
      const [sponsors, agents] = await Promise.all([q.query<SponsorRow>(SPONSORS_SQL, [ids]), q.query<AgentBatchRow>(AGENTS_SQL, [ids])]);
      const inputs: RecomputeInputs = new Map();
      for (const row of sponsors.rows) {
        inputs.set(row.person_id, { personId: row.person_id, pending: toPending(row.pending ?? []), sponsor: toSponsor(row), agents: [] });
      }
      for (const row of agents.rows) inputs.get(row.sponsor_id)?.agents.push(toAgentInputs(row));
      return inputs;
    },

    async commitRecompute(write: RecomputeWrite): Promise<Set<string>> {
      const grants = write.newGrants.flatMap((grant) => grant.entitlements.map((entitlement) => ({ ...grant, entitlement })));
      // The statements go out together and PostgreSQL runs them in order (grants first, as the compare-and-
      // set below expects); if one fails, those behind it fail too and the transaction rolls back.
      const grantWrites: Promise<unknown>[] = [];
      if (grants.length > 0) {
        grantWrites.push(q.query(INSERT_GRANTS_SQL, [
          grants.map((grant) => grant.agentId), grants.map((grant) => grant.sponsorId), grants.map((grant) => JSON.stringify(grant.entitlement)), write.now,
        ]));
      }
      if (write.closedGrants.length > 0) {
        grantWrites.push(q.query(CLOSE_GRANTS_SQL, [write.closedGrants.map((grant) => grant.id), write.closedGrants.map((grant) => grant.status), write.now]));
      }
      const versions = write.versions;
      const committing = q.query<{ advanced: string[] }>(COMMIT_SQL, [
        write.now,
        versions.map((v) => v.record.agentId), versions.map((v) => v.expected), versions.map((v) => v.record.version),
        versions.map((v) => v.record.sponsorId), versions.map((v) => JSON.stringify(v.record.entitlements)), versions.map((v) => JSON.stringify(v.record.denied)),
        versions.map((v) => v.record.reason), versions.map((v) => v.record.changeEventIds.join(',')), versions.map((v) => v.changeEventId),
        write.pushTargetIds,
        ...auditColumns(write.audit),
        write.outboxIds, write.changeEventIds,
        versions.map((v) => v.shownChanged),
      ]);
      const [result] = await Promise.all([committing, ...grantWrites]);
      return new Set(result.rows[0]?.advanced ?? []);
    },
  };
}
