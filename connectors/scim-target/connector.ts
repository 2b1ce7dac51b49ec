import type { ApplyRequest, DownstreamConnector, TargetAgentRef, TargetHolding } from '../../src/app/ports.js';
import { AppError } from '../../src/domain/errors.js';
import { createScimClient, type ScimClient, type ScimClientDeps } from './client.js';
import type { ScimTargetConfig } from './config.js';
import { eqFilter, groupNameOf, mappedGroups, newResource, PATCH_SCHEMA, toolsOfResource } from './mapping.js';

export type ScimTargetDeps = ScimClientDeps;

/**
 * Provisions agents into a downstream SCIM 2.0 service provider. The agent's resource is found by
 * `externalId` = Tether's agent id (created when missing); its tools become memberships of mapped groups
 * (groups created when missing) or entitlement values. Apply converges the target to the effective set, so
 * re-applying a version changes nothing and a hand-made change is undone by the next apply.
 */
export function createScimTargetConnector(config: ScimTargetConfig, deps: ScimTargetDeps): DownstreamConnector {
  const client = createScimClient(config, deps);
  const { mapping } = config;
  const resourcePath = `/${mapping.resource}`;

  const findResource = async (agentId: string): Promise<Record<string, unknown> | null> => {
    const found = await client.request('GET', `${resourcePath}?filter=${encodeURIComponent(eqFilter('externalId', agentId))}`);
    const resources = found.body?.['Resources'];
    const first = Array.isArray(resources) ? (resources[0] as Record<string, unknown> | undefined) : undefined;
    return first ?? null;
  };

  return {
    id: config.id,
    kind: 'scim',
    canRead: true,
    async apply(request: ApplyRequest): Promise<void> {
      const tools = [...new Set(request.effective.map((entitlement) => entitlement.toolId))].sort();
      const agent = { agentId: request.agentId, agentName: request.agentName };
      let resource = await findResource(request.agentId);
      if (resource === null) {
        const created = await client.request('POST', resourcePath, newResource(mapping, agent, tools), [201]);
        resource = created.body ?? {};
        if (mapping.tools === 'entitlements') return;
      }
      const resourceId = stringField(resource, 'id', config.id);
      const held = toolsOfResource(mapping, resource);
      if (mapping.tools === 'entitlements') {
        if (sameTools(held, tools)) return;
        await client.request('PATCH', `${resourcePath}/${encodeURIComponent(resourceId)}`, {
          schemas: [PATCH_SCHEMA],
          Operations: [{ op: 'replace', path: 'entitlements', value: tools.map((value) => ({ value })) }],
        });
        return;
      }
      await syncGroups(client, mapping, resourceId, mappedGroups(mapping, resource), tools, config.id);
    },
    async read(agent: TargetAgentRef): Promise<TargetHolding | null> {
      const resource = await findResource(agent.agentId);
      return resource === null ? null : { tools: toolsOfResource(mapping, resource) };
    },
    async check() {
      const response = await client.request('GET', '/ServiceProviderConfig');
      const patch = (response.body?.['patch'] as { supported?: unknown } | undefined)?.supported;
      if (patch === false) throw new AppError('target_rejected', `scim ${config.id}: the service provider does not support PATCH`);
      return { detail: `SCIM service provider at ${new URL(config.baseUrl).host} answered` };
    },
  };
}

async function syncGroups(
  client: ScimClient, mapping: ScimTargetConfig['mapping'], memberId: string, memberOf: readonly { tool: string; groupId: string }[], wanted: readonly string[], targetId: string,
): Promise<void> {
  const held = new Set(memberOf.map((group) => group.tool));
  const toAdd = wanted.filter((tool) => !held.has(tool));
  // Removals first: if anything fails halfway, the agent holds fewer rights, never more. Every group carrying
  // an unwanted tool's name is left, duplicates included.
  for (const group of memberOf.filter((item) => !wanted.includes(item.tool))) {
    await client.request('PATCH', `/Groups/${encodeURIComponent(group.groupId)}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'remove', path: `members[value eq "${memberId}"]` }],
    }, [200, 204, 404]);
  }
  for (const tool of toAdd) {
    const name = groupNameOf(mapping, tool);
    let group = await findGroup(client, name);
    if (group === null) {
      const created = await client.request('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: name, members: [{ value: memberId }] }, [201, 409]);
      if (created.status === 201) continue;
      // Another apply created it a moment ago: join the existing group.
      group = await findGroup(client, name);
      if (group === null) throw new AppError('target_unavailable', `scim ${targetId}: group ${name} conflicts but cannot be found`);
    }
    await client.request('PATCH', `/Groups/${encodeURIComponent(stringField(group, 'id', targetId))}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'add', path: 'members', value: [{ value: memberId }] }],
    });
  }
}

async function findGroup(client: ScimClient, displayName: string): Promise<Record<string, unknown> | null> {
  const found = await client.request('GET', `/Groups?filter=${encodeURIComponent(eqFilter('displayName', displayName))}&excludedAttributes=members`);
  const resources = found.body?.['Resources'];
  return Array.isArray(resources) ? ((resources[0] as Record<string, unknown> | undefined) ?? null) : null;
}

function stringField(resource: Record<string, unknown>, key: string, targetId: string): string {
  const value = resource[key];
  if (typeof value !== 'string' || value === '') throw new AppError('target_rejected', `scim ${targetId}: resource without ${key}`);
  return value;
}

function sameTools(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((tool, index) => tool === b[index]);
}
