/** Pure mapping between agent rights and LDAP entries of a write-back target (no I/O). */
import type { LdapTargetConfig } from './config.js';

type Naming = Pick<LdapTargetConfig, 'agentsDn' | 'groupsDn' | 'groupName'>;

/** RFC 4514 escaping of an attribute value inside a DN. */
export function escapeDnValue(value: string): string {
  return value.replace(/[,+"\\<>;=]/g, (char) => `\\${char}`).replace(/^[ #]/, (char) => `\\${char}`).replace(/ $/, '\\ ');
}

/** RFC 4515 escaping of a value inside a search filter. */
export function escapeFilterValue(value: string): string {
  return value.replace(/[\\*()\0]/g, (char) => `\\${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Agents are keyed by Tether's immutable agent id, never by name. */
export function agentDn(naming: Naming, agentId: string): string {
  return `cn=${escapeDnValue(agentId)},${naming.agentsDn}`;
}

export function groupCn(naming: Naming, toolId: string): string {
  return naming.groupName.replace('{tool}', toolId);
}

export function groupDn(naming: Naming, toolId: string): string {
  return `cn=${escapeDnValue(groupCn(naming, toolId))},${naming.groupsDn}`;
}

/** The tool a group cn stands for, or null for groups this mapping did not name. */
export function toolOfGroupCn(naming: Naming, cn: string): string | null {
  const [prefix = '', suffix = ''] = naming.groupName.split('{tool}');
  if (!cn.startsWith(prefix) || !cn.endsWith(suffix) || cn.length <= prefix.length + suffix.length) return null;
  return cn.slice(prefix.length, cn.length - suffix.length);
}
