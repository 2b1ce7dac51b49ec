/** Pure mapping between Tether's agent rights and SCIM resources of a target (no I/O). */
import type { ScimTargetConfig } from './config.js';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const AGENT_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Agent';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

type Mapping = ScimTargetConfig['mapping'];

export function groupNameOf(mapping: Mapping, toolId: string): string {
  return mapping.groupName.replace('{tool}', toolId);
}

/** The tool a group stands for, or null when the group was not made by this mapping. */
export function toolOfGroup(mapping: Mapping, displayName: string): string | null {
  const [prefix = '', suffix = ''] = mapping.groupName.split('{tool}');
  if (!displayName.startsWith(prefix) || !displayName.endsWith(suffix) || displayName.length <= prefix.length + suffix.length) return null;
  return displayName.slice(prefix.length, displayName.length - suffix.length);
}

export function newResource(mapping: Mapping, agent: { agentId: string; agentName: string }, tools: readonly string[]): Record<string, unknown> {
  const schema = mapping.schema ?? (mapping.resource === 'Agents' ? AGENT_SCHEMA : USER_SCHEMA);
  return {
    schemas: [schema],
    externalId: agent.agentId,
    userName: mapping.userName.replace('{agentId}', agent.agentId).replace('{agentName}', agent.agentName),
    displayName: agent.agentName,
    active: true,
    ...(mapping.tools === 'entitlements' ? { entitlements: tools.map((value) => ({ value })) } : {}),
  };
}

/** The tools a resource holds per the mapping: entitlement values, or memberships of mapped groups. */
export function toolsOfResource(mapping: Mapping, resource: Record<string, unknown>): string[] {
  const tools =
    mapping.tools === 'entitlements'
      ? values(resource['entitlements']).map((item) => item['value'])
      : values(resource['groups']).map((item) => (typeof item['display'] === 'string' ? toolOfGroup(mapping, item['display']) : null));
  return [...new Set(tools.filter((tool): tool is string => typeof tool === 'string'))].sort();
}

function values(list: unknown): Record<string, unknown>[] {
  return Array.isArray(list) ? list.filter((item): item is Record<string, unknown> => item !== null && typeof item === 'object') : [];
}

export function eqFilter(attribute: string, value: string): string {
  return `${attribute} eq "${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The mapped groups a resource is a member of, by id (several groups may carry one tool's name). */
export function mappedGroups(mapping: Mapping, resource: Record<string, unknown>): { tool: string; groupId: string }[] {
  return values(resource['groups']).flatMap((item) => {
    const tool = typeof item['display'] === 'string' ? toolOfGroup(mapping, item['display']) : null;
    return tool !== null && typeof item['value'] === 'string' ? [{ tool, groupId: item['value'] }] : [];
  });
}
