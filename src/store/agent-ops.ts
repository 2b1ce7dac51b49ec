import type { AgentProfile, ProvisionedAgent } from '../app/agents/agent-write.js';
import type { AgentRowChange } from '../app/agents/update-agent.js';
import type { DirectoryQuery, Page } from '../app/directory/directory-query.js';
import type { SponsoredAgent } from '../app/pipeline/recompute-sponsor.js';
import type { AgentRecord, DelegationRecord, EntitlementVersionRecord } from '../app/records.js';
import type { Denial } from '../domain/entitlements.js';
import type { SuccessionState } from '../domain/succession.js';
import type { Entitlement } from '../domain/types.js';
import { AGENT_MAPPING } from './agent-mapping.js';
import type { Queryable } from './db.js';
import { filterToSql, orderBySql, SqlParams } from './filter-sql.js';
import { toAgent, type AgentRow } from './rows.js';
import { isUuid } from './ids.js';


interface ProvisionedRow extends AgentRow {
  external_id: string | null; display_name: string | null; description: string | null; agent_type: string | null;
  resource: Record<string, unknown>; revision: number; entitlements: Entitlement[] | null; owners: { id: string; display: string | null }[];
}

/** The agent with its profile, owners (sponsor first) and current effective entitlements. */
const PROVISIONED_SELECT = `
  select a.*, v.entitlements,
         (select coalesce(json_agg(json_build_object('id', o.id, 'display', coalesce(p.display_name, p.user_name)) order by o.n), '[]'::json)
            from unnest(array[a.sponsor_id] || a.backup_sponsor_ids) with ordinality as o(id, n)
            left join persons p on p.id = o.id) as owners
    from agents a left join entitlement_versions v on v.agent_id = a.id and v.version = a.current_version`;

function toProvisioned(row: ProvisionedRow): ProvisionedAgent {
  const profile: AgentProfile = {
    externalId: row.external_id, displayName: row.display_name, description: row.description, agentType: row.agent_type, resource: row.resource,
  };
  return { ...toAgent(row), profile, revision: row.revision, owners: row.owners, effective: row.entitlements ?? [] };
}

export interface VersionRow {
  agent_id: string; version: number; sponsor_id: string; entitlements: Entitlement[]; denied: Denial[]; reason: string;
  change_event_ids: string[]; computed_at: Date;
}

export function toVersion(row: VersionRow): EntitlementVersionRecord {
  return {
    agentId: row.agent_id, version: row.version, sponsorId: row.sponsor_id, entitlements: row.entitlements, denied: row.denied,
    reason: row.reason, changeEventIds: row.change_event_ids, computedAt: row.computed_at,
  };
}

export function agentOps(q: Queryable) {
  return {
    async insertAgent(agent: AgentRecord): Promise<void> {
      await q.query(
        `insert into agents (id, name, purpose, environment, state, sponsor_id, backup_sponsor_ids, owner, requested_tools, expires_at,
                             delegation_id, current_version, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7::uuid[], $8, $9::text[], $10, $11, $12, $13, $14)`,
        [agent.id, agent.name, agent.purpose, agent.environment, agent.state, agent.sponsorId, agent.backupSponsorIds, agent.owner,
          agent.requestedTools, agent.expiresAt, agent.delegationId, agent.currentVersion, agent.createdAt, agent.updatedAt],
      );
    },

    async insertDelegation(delegation: DelegationRecord): Promise<void> {
      await q.query(
        `insert into delegations (id, agent_id, approver, justification, tools, target_systems, not_before, expires_at, created_at)
         values ($1, $2, $3, $4, $5::text[], $6::text[], $7, $8, $9)`,
        [delegation.id, delegation.agentId, delegation.approver, delegation.justification, delegation.tools, delegation.targetSystems,
          delegation.notBefore, delegation.expiresAt, delegation.createdAt],
      );
    },

    async setAgentProfile(agentId: string, profile: AgentProfile, state: 'active' | 'suspended'): Promise<void> {
      await q.query(
        `update agents set external_id = $2, display_name = $3, description = $4, agent_type = $5, resource = $6, state = $7 where id = $1`,
        [agentId, profile.externalId, profile.displayName, profile.description, profile.agentType, profile.resource, state],
      );
    },

    async updateAgentRow(id: string, change: AgentRowChange, now: Date): Promise<void> {
      const { profile } = change;
      await q.query(
        `update agents set name = $2, purpose = $3, environment = $4, state = $5, sponsor_id = $6, backup_sponsor_ids = $7::uuid[],
                requested_tools = $8::text[], expires_at = $9, delegation_id = $10, external_id = $11, display_name = $12, description = $13,
                agent_type = $14, resource = $15, revision = revision + 1, updated_at = $16
          where id = $1`,
        [id, change.name, change.purpose, change.environment, change.state, change.sponsorId, change.backupSponsorIds, change.requestedTools,
          change.expiresAt, change.delegationId, profile.externalId, profile.displayName, profile.description, profile.agentType, profile.resource, now],
      );
    },

    /** Live (not retired) agents only: a retired agent is history, not a resource. */
    async getProvisionedAgent(id: string): Promise<ProvisionedAgent | null> {
      if (!isUuid(id)) return null;
      const result = await q.query<ProvisionedRow>(`${PROVISIONED_SELECT} where a.id = $1 and a.state <> 'retired'`, [id]);
      return result.rows[0] === undefined ? null : toProvisioned(result.rows[0]);
    },

    async lockProvisionedAgent(id: string): Promise<ProvisionedAgent | null> {
      if (!isUuid(id)) return null;
      const result = await q.query<ProvisionedRow>(`${PROVISIONED_SELECT} where a.id = $1 and a.state <> 'retired' for update of a`, [id]);
      return result.rows[0] === undefined ? null : toProvisioned(result.rows[0]);
    },

    async listProvisionedAgents(query: DirectoryQuery): Promise<Page<ProvisionedAgent>> {
      const params = new SqlParams();
      const where = [`a.state <> 'retired'`];
      if (query.filter !== null) where.push(filterToSql(query.filter, AGENT_MAPPING, params));
      const order = orderBySql(query.sortBy, query.sortOrder, AGENT_MAPPING);
      const whereSql = where.join(' and ');
      const total = await q.query<{ n: number }>(`select count(*)::int as n from agents a where ${whereSql}`, params.values);
      const totalResults = total.rows[0]?.n ?? 0;
      if (query.count === 0) return { totalResults, items: [] };
      const limit = params.add(query.count);
      const offset = params.add(Math.max(0, query.startIndex - 1));
      const rows = await q.query<ProvisionedRow>(`${PROVISIONED_SELECT} where ${whereSql} order by ${order} limit ${limit} offset ${offset}`, params.values);
      return { totalResults, items: rows.rows.map(toProvisioned) };
    },

    async personsInSource(sourceId: string, ids: readonly string[]): Promise<{ id: string; active: boolean }[]> {
      const valid = ids.filter(isUuid);
      if (valid.length === 0) return [];
      const result = await q.query<{ id: string; active: boolean }>(
        'select id, active from persons where id = any($1::uuid[]) and source_id = $2 and deleted_at is null',
        [valid, sourceId],
      );
      return result.rows;
    },

    async agentIdentityTaken(name: string, externalId: string | null, exceptId: string | null): Promise<'name' | 'externalId' | null> {
      const result = await q.query<{ by_name: boolean }>(
        `select lower(name) = lower($1) as by_name from agents
          where state <> 'retired' and ($3::uuid is null or id <> $3::uuid) and (lower(name) = lower($1) or ($2::text is not null and external_id = $2))
          order by 1 desc limit 1`,
        [name, externalId, exceptId],
      );
      const row = result.rows[0];
      return row === undefined ? null : row.by_name ? 'name' : 'externalId';
    },

    async liveAgentExists(id: string): Promise<boolean> {
      if (!isUuid(id)) return false;
      const result = await q.query(`select 1 from agents where id = $1 and state <> 'retired'`, [id]);
      return result.rowCount > 0;
    },

    async getAgentRecord(id: string): Promise<AgentRecord | null> {
      if (!isUuid(id)) return null;
      const result = await q.query<AgentRow>('select * from agents where id = $1', [id]);
      return result.rows[0] === undefined ? null : toAgent(result.rows[0]);
    },

    async agentsSponsoredBy(personId: string): Promise<SponsoredAgent[]> {
      const result = await q.query<AgentRow & {
        d_id: string | null; d_tools: string[] | null; d_not_before: Date | null; d_expires_at: Date | null; succession: { leaverId: string; proposal: SuccessionState['proposal']; since: string; suspendAt: string } | null;
      }>(
        `select a.*, d.id as d_id, d.tools as d_tools, d.not_before as d_not_before, d.expires_at as d_expires_at
           from agents a left join delegations d on d.id = a.delegation_id
          where a.sponsor_id = $1
            and (a.state <> 'retired'
                 -- A retired agent stays in its sponsor's recompute until a version has revoked what it held.
                 or exists (select 1 from entitlement_versions v where v.agent_id = a.id and v.version = a.current_version and v.entitlements <> '[]'::jsonb))
          order by a.id`,
        [personId],
      );
      return result.rows.map((row) => ({
        currentVersion: row.current_version,
        backupSponsorIds: row.backup_sponsor_ids,
        succession: row.succession === null ? null : { ...row.succession, since: new Date(row.succession.since), suspendAt: new Date(row.succession.suspendAt) },
        snapshot: {
          id: row.id, state: row.state, environment: row.environment, requestedTools: row.requested_tools, expiresAt: row.expires_at,
          delegation: row.d_id === null ? null : { id: row.d_id, tools: row.d_tools ?? [], notBefore: row.d_not_before, expiresAt: row.d_expires_at },
        },
      }));
    },

    async latestVersion(agentId: string): Promise<EntitlementVersionRecord | null> {
      const result = await q.query<VersionRow>(
        'select * from entitlement_versions where agent_id = $1 order by version desc limit 1',
        [agentId],
      );
      return result.rows[0] === undefined ? null : toVersion(result.rows[0]);
    },

    async version(agentId: string, version: number): Promise<EntitlementVersionRecord | null> {
      const result = await q.query<VersionRow>('select * from entitlement_versions where agent_id = $1 and version = $2', [agentId, version]);
      return result.rows[0] === undefined ? null : toVersion(result.rows[0]);
    },
  };
}
