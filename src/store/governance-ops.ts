import type { GrantView } from '../app/governance/grants.js';
import type { SponsorshipChange } from '../app/governance/sponsorship.js';
import type { GrantStatus, OpenGrant } from '../domain/growth.js';
import type { PersonNode, SuccessionState } from '../domain/succession.js';
import type { AgentState, Entitlement } from '../domain/types.js';
import type { EntitlementVersionRecord } from '../app/records.js';
import type { Queryable } from './db.js';
import { toVersion, type VersionRow } from './agent-ops.js';
import { isUuid } from './ids.js';

/** SuccessionState as JSON (dates as ISO strings). */
export interface StoredSuccession {
  leaverId: string;
  proposal: SuccessionState['proposal'];
  since: string;
  suspendAt: string;
}

export function toStoredSuccession(state: SuccessionState | null): StoredSuccession | null {
  return state === null ? null : { leaverId: state.leaverId, proposal: state.proposal, since: state.since.toISOString(), suspendAt: state.suspendAt.toISOString() };
}

export function fromStoredSuccession(stored: StoredSuccession | null): SuccessionState | null {
  return stored === null ? null : { leaverId: stored.leaverId, proposal: stored.proposal, since: new Date(stored.since), suspendAt: new Date(stored.suspendAt) };
}

/** SQL NULL (not JSON null) when there is no succession. */
function storedJson(state: SuccessionState | null): string | null {
  return state === null ? null : JSON.stringify(toStoredSuccession(state));
}

interface GrantRow {
  id: string; agent_id: string; tool_id: string; risk: Entitlement['risk']; sponsor_id: string; entitlement: Entitlement; status: GrantStatus;
  created_at: Date; decided_by: string | null; decided_at: Date | null; closed_at: Date | null;
}

function toGrantView(row: GrantRow): GrantView {
  return {
    id: row.id, agentId: row.agent_id, toolId: row.tool_id, risk: row.risk, sponsorId: row.sponsor_id, entitlement: row.entitlement, status: row.status,
    createdAt: row.created_at, decidedBy: row.decided_by, decidedAt: row.decided_at, closedAt: row.closed_at,
  };
}

/** Pending grants, succession state and the people succession looks at. */
export function governanceOps(q: Queryable) {
  return {
    async openGrants(agentId: string): Promise<OpenGrant[]> {
      const result = await q.query<{ id: string; tool_id: string; sponsor_id: string; status: OpenGrant['status'] }>(
        `select id, tool_id, sponsor_id, status from pending_grants where agent_id = $1 and status in ('pending', 'confirmed', 'rejected')`,
        [agentId],
      );
      return result.rows.map((row) => ({ id: row.id, toolId: row.tool_id, sponsorId: row.sponsor_id, status: row.status }));
    },

    async personNodes(ids: readonly string[]): Promise<PersonNode[]> {
      const valid = [...new Set(ids.filter(isUuid))];
      if (valid.length === 0) return [];
      const result = await q.query<{ id: string; active: boolean; deleted: boolean; manager: string | null }>(
        `select id, active, deleted_at is not null as deleted, nullif(attributes ->> 'manager', '') as manager from persons where id = any($1::uuid[])`,
        [valid],
      );
      return result.rows.map((row) => ({ id: row.id, active: row.active, deleted: row.deleted, managerId: row.manager !== null && isUuid(row.manager) ? row.manager : null }));
    },

    async applySponsorship(agentId: string, expected: { sponsorId: string; state: AgentState; version: number }, change: SponsorshipChange, now: Date): Promise<boolean> {
      const result = await q.query(
        `update agents set sponsor_id = $5, backup_sponsor_ids = $6::uuid[], state = $7, succession = $8::jsonb, revision = revision + 1, updated_at = $9
          where id = $1 and sponsor_id = $2 and state = $3 and current_version = $4`,
        [agentId, expected.sponsorId, expected.state, expected.version, change.sponsorId, change.backupSponsorIds, change.state,
          storedJson(change.succession), now],
      );
      return result.rowCount === 1;
    },

    async listGrants(agentId: string, statuses: readonly GrantStatus[]): Promise<GrantView[]> {
      const result = await q.query<GrantRow>(
        'select * from pending_grants where agent_id = $1 and status = any($2::text[]) order by created_at desc, tool_id',
        [agentId, statuses],
      );
      return result.rows.map(toGrantView);
    },

    async lockGrant(agentId: string, grantId: string): Promise<GrantView | null> {
      if (!isUuid(agentId) || !isUuid(grantId)) return null;
      const result = await q.query<GrantRow>('select * from pending_grants where id = $1 and agent_id = $2 for update', [grantId, agentId]);
      return result.rows[0] === undefined ? null : toGrantView(result.rows[0]);
    },

    async decideGrant(grantId: string, status: 'confirmed' | 'rejected', actor: string, now: Date): Promise<GrantView> {
      const result = await q.query<GrantRow>(
        'update pending_grants set status = $2, decided_by = $3, decided_at = $4 where id = $1 returning *',
        [grantId, status, actor, now],
      );
      return toGrantView(result.rows[0] as GrantRow);
    },

    /** The agent row locked, with its succession state; null when absent. */
    async lockGovernedAgent(id: string): Promise<{ id: string; state: AgentState; sponsorId: string; backupSponsorIds: string[]; succession: SuccessionState | null } | null> {
      if (!isUuid(id)) return null;
      const result = await q.query<{ id: string; state: AgentState; sponsor_id: string; backup_sponsor_ids: string[]; succession: StoredSuccession | null }>(
        'select id, state, sponsor_id, backup_sponsor_ids, succession from agents where id = $1 for update',
        [id],
      );
      const row = result.rows[0];
      return row === undefined ? null : { id: row.id, state: row.state, sponsorId: row.sponsor_id, backupSponsorIds: row.backup_sponsor_ids, succession: fromStoredSuccession(row.succession) };
    },

    async setSponsorship(agentId: string, change: SponsorshipChange, now: Date): Promise<void> {
      await q.query(
        `update agents set sponsor_id = $2, backup_sponsor_ids = $3::uuid[], state = $4, succession = $5::jsonb, revision = revision + 1, updated_at = $6 where id = $1`,
        [agentId, change.sponsorId, change.backupSponsorIds, change.state, storedJson(change.succession), now],
      );
    },

    /** Agents in pending_reassignment whose grace period ended by `now`. */
    async dueReassignments(now: Date, limit: number): Promise<string[]> {
      const result = await q.query<{ id: string }>(
        `select id from agents where state = 'pending_reassignment' and (succession ->> 'suspendAt')::timestamptz <= $1 order by id limit $2`,
        [now, limit],
      );
      return result.rows.map((row) => row.id);
    },

    async versionAt(agentId: string, at: Date): Promise<EntitlementVersionRecord | null> {
      const result = await q.query<VersionRow>(
        'select * from entitlement_versions where agent_id = $1 and computed_at <= $2 order by version desc limit 1',
        [agentId, at],
      );
      return result.rows[0] === undefined ? null : toVersion(result.rows[0]);
    },

    async grantingVersion(agentId: string, toolId: string, upto: number): Promise<EntitlementVersionRecord | null> {
      const result = await q.query<VersionRow>(
        `select * from entitlement_versions
          where agent_id = $1 and version = 1 + coalesce((
            select max(version) from entitlement_versions
             where agent_id = $1 and version <= $3 and not entitlements @> jsonb_build_array(jsonb_build_object('toolId', $2::text))), 0)`,
        [agentId, toolId, upto],
      );
      return result.rows[0] === undefined ? null : toVersion(result.rows[0]);
    },

    async changeEventsById(ids: readonly string[]): Promise<{ id: string; kind: string; origin: string; receivedAt: Date }[]> {
      if (ids.length === 0) return [];
      const result = await q.query<{ id: string; kind: string; origin: string; received_at: Date }>(
        'select id, kind, origin, received_at from change_events where id = any($1::uuid[]) order by received_at, id',
        [ids],
      );
      return result.rows.map((row) => ({ id: row.id, kind: row.kind, origin: row.origin, receivedAt: row.received_at }));
    },

    async membershipAt(groupId: string, memberId: string, at: Date): Promise<{ since: Date } | null> {
      if (!isUuid(groupId) || !isUuid(memberId)) return null;
      const result = await q.query<{ valid_from: Date }>(
        `select valid_from from membership_history where group_id = $1 and member_id = $2 and valid_from <= $3 and (valid_to is null or valid_to > $3)
          order by valid_from desc limit 1`,
        [groupId, memberId, at],
      );
      return result.rows[0] === undefined ? null : { since: result.rows[0].valid_from };
    },

    async ruleVersionCreatedAt(ruleId: string, version: number): Promise<Date | null> {
      const result = await q.query<{ created_at: Date }>('select created_at from grant_rules where id = $1 and version = $2', [ruleId, version]);
      return result.rows[0]?.created_at ?? null;
    },

    async delegationById(id: string): Promise<{ id: string; approver: string; notBefore: Date | null; expiresAt: Date | null } | null> {
      if (!isUuid(id)) return null;
      const result = await q.query<{ id: string; approver: string; not_before: Date | null; expires_at: Date | null }>(
        'select id, approver, not_before, expires_at from delegations where id = $1',
        [id],
      );
      const row = result.rows[0];
      return row === undefined ? null : { id: row.id, approver: row.approver, notBefore: row.not_before, expiresAt: row.expires_at };
    },

    async grantsFor(agentId: string, toolId: string): Promise<GrantView[]> {
      const result = await q.query<GrantRow>('select * from pending_grants where agent_id = $1 and tool_id = $2 order by created_at desc', [agentId, toolId]);
      return result.rows.map(toGrantView);
    },

    async appliedAt(agentId: string, at: Date): Promise<{ targetId: string; version: number; appliedAt: Date }[]> {
      // event_deliveries keeps every delivery that answered a change event; target_states the newest of all.
      const result = await q.query<{ target_id: string; version: number; applied_at: Date }>(
        `select distinct on (target_id) target_id, version, applied_at from (
           select target_id, version, applied_at from event_deliveries where agent_id = $1 and applied_at <= $2
           union all
           select target_id, applied_version, applied_at from target_states where agent_id = $1 and applied_at <= $2
         ) d order by target_id, version desc`,
        [agentId, at],
      );
      return result.rows.map((row) => ({ targetId: row.target_id, version: row.version, appliedAt: row.applied_at }));
    },
  };
}
