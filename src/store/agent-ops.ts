import type { SponsoredAgent } from '../app/pipeline/recompute-sponsor.js';
import type { AgentRecord, DelegationRecord, EntitlementVersionRecord } from '../app/records.js';
import type { Denial } from '../domain/entitlements.js';
import type { Entitlement } from '../domain/types.js';
import type { Queryable } from './db.js';
import { toAgent, type AgentRow } from './rows.js';

interface VersionRow {
  agent_id: string; version: number; sponsor_id: string; entitlements: Entitlement[]; denied: Denial[]; reason: string;
  change_event_ids: string[]; computed_at: Date;
}

function toVersion(row: VersionRow): EntitlementVersionRecord {
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

    async getAgentRecord(id: string): Promise<AgentRecord | null> {
      if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
      const result = await q.query<AgentRow>('select * from agents where id = $1', [id]);
      return result.rows[0] === undefined ? null : toAgent(result.rows[0]);
    },

    async sponsorsAmong(personIds: readonly string[]): Promise<string[]> {
      if (personIds.length === 0) return [];
      const result = await q.query<{ id: string }>(
        `select distinct s.id from unnest($1::uuid[]) as s(id)
          where exists (select 1 from agents a where a.state <> 'retired' and (a.sponsor_id = s.id or s.id = any(a.backup_sponsor_ids)))`,
        [personIds],
      );
      return result.rows.map((row) => row.id);
    },

    async agentsSponsoredBy(personId: string): Promise<SponsoredAgent[]> {
      const result = await q.query<AgentRow & {
        d_id: string | null; d_tools: string[] | null; d_not_before: Date | null; d_expires_at: Date | null;
      }>(
        `select a.*, d.id as d_id, d.tools as d_tools, d.not_before as d_not_before, d.expires_at as d_expires_at
           from agents a left join delegations d on d.id = a.delegation_id
          where a.sponsor_id = $1 and a.state <> 'retired' order by a.id`,
        [personId],
      );
      return result.rows.map((row) => ({
        currentVersion: row.current_version,
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

    async advanceVersion(agentId: string, expected: number, next: number, now: Date): Promise<boolean> {
      const result = await q.query(
        'update agents set current_version = $3, updated_at = $4 where id = $1 and current_version = $2',
        [agentId, expected, next, now],
      );
      return result.rowCount === 1;
    },

    async insertVersion(version: EntitlementVersionRecord): Promise<void> {
      await q.query(
        `insert into entitlement_versions (agent_id, version, sponsor_id, entitlements, denied, reason, change_event_ids, computed_at)
         values ($1, $2, $3, $4, $5, $6, $7::uuid[], $8)`,
        [version.agentId, version.version, version.sponsorId, JSON.stringify(version.entitlements), JSON.stringify(version.denied),
          version.reason, version.changeEventIds, version.computedAt],
      );
    },
  };
}
