import { TETHER_AGENT_URN } from '../app/agents/agent-write.js';
import type { FilterValue } from '../app/directory/directory-query.js';
import type { ResourceMapping, SqlParams } from './filter-sql.js';
import { isUuid } from './ids.js';

const EXT = TETHER_AGENT_URN.toLowerCase();

/** `owners.value eq "<id>"`: the primary sponsor or one of the backup sponsors. */
function ownerMatches(params: SqlParams, alias: string, value: FilterValue, op: string): string {
  if (op === 'pr') return 'true';
  if (op !== 'eq' || !isUuid(value)) return 'false';
  const param = params.add(value);
  return `(${alias}.sponsor_id = ${param}::uuid or ${alias}.backup_sponsor_ids @> array[${param}::uuid])`;
}

/** `requestedTools eq "crm.contacts.read"` (or co / sw): any requested tool matches. */
function requestedToolMatches(params: SqlParams, alias: string, value: FilterValue, op: string): string {
  if (op === 'pr') return `cardinality(${alias}.requested_tools) > 0`;
  if (typeof value !== 'string') return 'false';
  const param = params.add(value);
  const condition = op === 'eq' ? `t = ${param}` : op === 'co' ? `strpos(t, ${param}) > 0` : op === 'sw' ? `starts_with(t, ${param})` : null;
  return condition === null ? 'false' : `exists (select 1 from unnest(${alias}.requested_tools) t where ${condition})`;
}

/** `entitlements.value eq "<tool>"`: the agent holds the tool in its current effective version. */
function entitlementMatches(params: SqlParams, alias: string, value: FilterValue, op: string): string {
  const entitlements = `(select v.entitlements from entitlement_versions v where v.agent_id = ${alias}.id and v.version = ${alias}.current_version)`;
  if (op === 'pr') return `coalesce(jsonb_array_length(${entitlements}), 0) > 0`;
  if (op !== 'eq' || typeof value !== 'string') return 'false';
  return `coalesce(${entitlements} @> ${params.add(JSON.stringify([{ toolId: value }]))}::jsonb, false)`;
}

const CANONICAL = new Map<string, string>(
  ['parent', 'parent.value', 'parent.display', 'roles', 'roles.value', 'protocols', 'protocols.type', 'subject', 'value', 'display', 'type']
    .flatMap((name) => [[name.toLowerCase(), name], [name.split('.').at(-1)!.toLowerCase(), name.split('.').at(-1)!]] as [string, string][]),
);

/**
 * SCIM filter paths of the Agent resource → SQL on `agents a`. `agentUserName` (draft-wzdk) and `name`
 * (draft-abbey) both address the agent's name; `active` is "not suspended", as the resource shows it.
 */
export const AGENT_MAPPING: ResourceMapping = {
  alias: 'a',
  columns: {
    id: { sql: 'a.id', type: 'uuid' },
    agentusername: { sql: 'a.name', type: 'citext' },
    name: { sql: 'a.name', type: 'citext' },
    displayname: { sql: 'a.display_name', type: 'citext' },
    description: { sql: 'a.description', type: 'citext' },
    agenttype: { sql: 'a.agent_type', type: 'citext' },
    externalid: { sql: 'a.external_id', type: 'text' },
    active: { sql: `(a.state <> 'suspended')`, type: 'boolean' },
    'meta.created': { sql: 'a.created_at', type: 'timestamp' },
    'meta.lastmodified': { sql: 'a.updated_at', type: 'timestamp' },
    'meta.resourcetype': { sql: `'Agent'`, type: 'citext' },
    [`${EXT}:purpose`]: { sql: 'a.purpose', type: 'citext' },
    [`${EXT}:environment`]: { sql: 'a.environment', type: 'citext' },
    [`${EXT}:state`]: { sql: 'a.state', type: 'citext' },
    [`${EXT}:expiresat`]: { sql: 'a.expires_at', type: 'timestamp' },
  },
  relations: {
    'owners.value': ownerMatches,
    'entitlements.value': entitlementMatches,
    [`${EXT}:requestedtools`]: requestedToolMatches,
  },
  canonical: CANONICAL,
  caseExact: new Set(['externalid']),
};
