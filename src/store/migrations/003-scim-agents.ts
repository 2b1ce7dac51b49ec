/**
 * Agents pushed over SCIM (`/Agents`, draft-wzdk-scim-agent-resource): the identifiers and labels an identity
 * provider sends (externalId, displayName, description, agentType), the client-writable rest of its SCIM
 * representation, and `revision`, the version of the agent's representation that SCIM serves as its ETag.
 */
export const name = 'scim-agents';

export const sql = `
alter table agents add column external_id text;
alter table agents add column display_name text;
alter table agents add column description text;
alter table agents add column agent_type text;
-- The client-writable SCIM representation besides the columns (parent, roles, protocols, ...).
alter table agents add column resource jsonb not null default '{}';
-- Bumped by every change to the row (recomputes included): the SCIM ETag and If-Match guard.
alter table agents add column revision integer not null default 1;
create index agents_external_id_idx on agents (external_id) where state <> 'retired';
create index agents_name_idx on agents (lower(name)) where state <> 'retired';
`;
