/** Row → record mapping, in one place so every query returns the same shapes. */
import type { AgentRecord, GroupRecord, PersonRecord } from '../app/records.js';
import type { AgentState, Environment } from '../domain/types.js';

export interface PersonRow {
  id: string; source_id: string; external_id: string | null; user_name: string; display_name: string | null;
  active: boolean; attributes: Record<string, string>; resource: Record<string, unknown>; version: number;
  created_at: Date; updated_at: Date;
}

export function toPerson(row: PersonRow): PersonRecord {
  return {
    id: row.id, sourceId: row.source_id, externalId: row.external_id, userName: row.user_name, displayName: row.display_name,
    active: row.active, attributes: row.attributes, resource: row.resource, version: row.version,
    createdAt: row.created_at, updatedAt: row.updated_at,
  };
}

export interface GroupRow {
  id: string; source_id: string; external_id: string | null; display_name: string; resource: Record<string, unknown>;
  version: number; created_at: Date; updated_at: Date;
}

export function toGroup(row: GroupRow): GroupRecord {
  return {
    id: row.id, sourceId: row.source_id, externalId: row.external_id, displayName: row.display_name, resource: row.resource,
    version: row.version, createdAt: row.created_at, updatedAt: row.updated_at,
  };
}

export interface AgentRow {
  id: string; name: string; purpose: string; environment: Environment; state: AgentState; sponsor_id: string;
  backup_sponsor_ids: string[]; owner: string | null; requested_tools: string[]; expires_at: Date | null;
  delegation_id: string | null; current_version: number; created_at: Date; updated_at: Date;
}

export function toAgent(row: AgentRow): AgentRecord {
  return {
    id: row.id, name: row.name, purpose: row.purpose, environment: row.environment, state: row.state, sponsorId: row.sponsor_id,
    backupSponsorIds: row.backup_sponsor_ids, owner: row.owner, requestedTools: row.requested_tools, expiresAt: row.expires_at,
    delegationId: row.delegation_id, currentVersion: row.current_version, createdAt: row.created_at, updatedAt: row.updated_at,
  };
}

/** PostgreSQL unique_violation. */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown }).code === '23505';
}
