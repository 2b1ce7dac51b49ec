import type { FilterValue } from '../app/directory/directory-query.js';
import { textCompare, type ResourceMapping, type SqlParams } from './filter-sql.js';
import { isUuid } from './ids.js';

export const ENTERPRISE_URN = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

const USER_ATTRIBUTES = [
  'name', 'name.formatted', 'name.familyName', 'name.givenName', 'name.middleName', 'name.honorificPrefix',
  'name.honorificSuffix', 'nickName', 'profileUrl', 'title', 'userType', 'preferredLanguage', 'locale', 'timezone',
  'emails', 'emails.value', 'emails.type', 'emails.primary', 'emails.display', 'phoneNumbers', 'phoneNumbers.value',
  'phoneNumbers.type', 'ims', 'photos', 'addresses', 'addresses.type', 'addresses.streetAddress', 'addresses.locality',
  'addresses.region', 'addresses.postalCode', 'addresses.country', 'addresses.formatted', 'roles', 'entitlements',
  'x509Certificates', 'value', 'type', 'primary', 'display',
];
const ENTERPRISE_ATTRIBUTES = ['employeeNumber', 'costCenter', 'organization', 'division', 'department', 'manager', 'manager.value', 'manager.displayName'];

function canonicalMap(): Map<string, string> {
  const map = new Map<string, string>();
  for (const attribute of USER_ATTRIBUTES) {
    map.set(attribute.toLowerCase(), attribute);
    map.set(attribute.split('.').at(-1)!.toLowerCase(), attribute.split('.').at(-1)!);
  }
  map.set(ENTERPRISE_URN.toLowerCase(), ENTERPRISE_URN);
  for (const attribute of ENTERPRISE_ATTRIBUTES) {
    map.set(`${ENTERPRISE_URN}:${attribute}`.toLowerCase(), `${ENTERPRISE_URN}:${attribute}`);
    map.set(attribute.split('.').at(-1)!.toLowerCase(), attribute.split('.').at(-1)!);
  }
  return map;
}

const CANONICAL = canonicalMap();

function membershipExists(params: SqlParams, memberSql: string, groupSql: string, value: FilterValue, op: string, which: 'member' | 'group'): string {
  if (op === 'pr') return `exists (select 1 from memberships m where m.${which === 'member' ? 'group_id' : 'member_id'} = ${which === 'member' ? groupSql : memberSql})`;
  if (op !== 'eq') return 'false';
  if (!isUuid(value)) return 'false';
  const param = params.add(value);
  return which === 'member'
    ? `exists (select 1 from memberships m where m.group_id = ${groupSql} and m.member_id = ${param}::uuid)`
    : `${memberSql} in (${usersUnder(`m.group_id = ${param}::uuid`)})`;
}

/**
 * The users in the groups `where` selects (on `memberships m` joined to live `groups g`), directly or through
 * nesting: what User `groups` shows (direct and indirect). One walk down from the matching groups, not one
 * per candidate row; `union` ends it on a cycle of groups.
 */
function usersUnder(where: string): string {
  return `with recursive down(id, kind) as (
      select m.member_id, m.member_type from memberships m join groups g on g.id = m.group_id and g.deleted_at is null where ${where}
      union
      select m.member_id, m.member_type from memberships m join down d on d.kind = 'Group' and m.group_id = d.id
    ) select id from down where kind = 'User'`;
}

/** `groups.display eq "Sales"`: the display name of a group the user is in (directly or not), case-insensitive as the schema says. */
function groupDisplayMatches(params: SqlParams, alias: string, value: FilterValue, op: string): string {
  if (op === 'pr') return `exists (select 1 from memberships m join groups g on g.id = m.group_id and g.deleted_at is null where m.member_id = ${alias}.id and coalesce(g.display_name, '') <> '')`;
  return `${alias}.id in (${usersUnder(textCompare('g.display_name', op, value, false, params))})`;
}

export const USER_MAPPING: ResourceMapping = {
  alias: 'p',
  columns: {
    id: { sql: 'p.id', type: 'uuid' },
    username: { sql: 'p.user_name', type: 'citext' },
    externalid: { sql: 'p.external_id', type: 'text' },
    displayname: { sql: 'p.display_name', type: 'citext' },
    active: { sql: 'p.active', type: 'boolean' },
    'meta.created': { sql: 'p.created_at', type: 'timestamp' },
    'meta.lastmodified': { sql: 'p.updated_at', type: 'timestamp' },
    // Not stored: every row of the table is of the one type, so `meta.resourceType eq "User"` is a constant.
    'meta.resourcetype': { sql: `'User'`, type: 'citext' },
  },
  relations: {
    'groups.value': (params, alias, value, op) => membershipExists(params, `${alias}.id`, '', value, op, 'group'),
    'groups.display': groupDisplayMatches,
  },
  canonical: CANONICAL,
  caseExact: new Set(['x509certificates.value', 'externalid']),
};

export const GROUP_MAPPING: ResourceMapping = {
  alias: 'g',
  columns: {
    id: { sql: 'g.id', type: 'uuid' },
    displayname: { sql: 'g.display_name', type: 'citext' },
    externalid: { sql: 'g.external_id', type: 'text' },
    'meta.created': { sql: 'g.created_at', type: 'timestamp' },
    'meta.lastmodified': { sql: 'g.updated_at', type: 'timestamp' },
    'meta.resourcetype': { sql: `'Group'`, type: 'citext' },
  },
  relations: {
    'members.value': (params, alias, value, op) => membershipExists(params, '', `${alias}.id`, value, op, 'member'),
  },
  canonical: CANONICAL,
  caseExact: new Set(['externalid']),
};
