import type { AgentChangeContext, ProvisionedAgent } from '../../app/agents/agent-write.js';
import { provisionAgent, type ProvisionAgentTx } from '../../app/agents/provision-agent.js';
import { retireAgent } from '../../app/agents/retire-agent.js';
import { updateAgent, type UpdateAgentTx } from '../../app/agents/update-agent.js';
import type { DirectoryQuery, Page } from '../../app/directory/directory-query.js';
import type { GovernancePolicy } from '../../app/governance/policy.js';
import type { Clock, Logger, Policy, WorkQueue } from '../../app/ports.js';
import { LIST_RESPONSE } from './constants.js';
import { AGENT_PATCH_READ_ONLY, agentLocation, canonicalAgentAttribute, toAgentWrite, toScimAgent, writableAgent } from './agent-resource.js';
import { parseListRequest } from './list-query.js';
import { notFound, type ResourceOperations, type ScimCall, type ScimResult } from './operations.js';
import { applyPatch, parsePatchRequest } from './patch.js';
import { parseProjection, project } from './projection.js';
import { ifMatchVersions, notModified, omitsActive } from './user-resource.js';

/** What SCIM `/Agents` needs: the agent use cases' transaction, two reads, and the policy that validates tools. */
export interface AgentScimDeps {
  readonly store: {
    transaction<T>(work: (tx: ProvisionAgentTx & UpdateAgentTx) => Promise<T>): Promise<T>;
    getProvisionedAgent(id: string): Promise<ProvisionedAgent | null>;
    listProvisionedAgents(query: DirectoryQuery): Promise<Page<ProvisionedAgent>>;
  };
  readonly queue: WorkQueue;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly policy: () => Policy;
  /** Delegation lifetime limits per risk class apply to agents pushed over SCIM too. */
  readonly governance: () => GovernancePolicy;
}


/** The SCIM call's change context, as the agent use cases take it (owners must be users of its source). */
function agentContext(call: ScimCall): AgentChangeContext {
  const context = call.context();
  return { actor: context.actor, sourceId: context.sourceId, origin: 'scim', receivedAt: context.receivedAt };
}

/**
 * `/Agents` operations, independent of HTTP like the Users / Groups ones. Every write is committed (agent,
 * delegation, change event, audit, recompute outbox) before it answers, then read back for the response.
 */
export function agentOperations(deps: AgentScimDeps): ResourceOperations {
  const { store } = deps;
  const read = async (id: string) => {
    const agent = await store.getProvisionedAgent(id);
    if (agent === null) throw notFound(id);
    return agent;
  };
  const body = (agent: ProvisionedAgent, call: ScimCall) =>
    project(toScimAgent(agent, call.baseUrl), parseProjection(call.query['attributes'], call.query['excludedAttributes']));
  const represented = (agent: ProvisionedAgent, call: ScimCall, status: number): ScimResult => ({ status, body: body(agent, call), version: agent.revision });

  return {
    async create(call) {
      const id = await provisionAgent(deps, agentContext(call), toAgentWrite(call.body));
      const agent = await read(id);
      return { ...represented(agent, call, 201), location: agentLocation(call.baseUrl, id) };
    },
    async get(id, call) {
      const agent = await read(id);
      if (notModified(call.ifNoneMatch, agent.revision)) return { status: 304, version: agent.revision };
      return represented(agent, call, 200);
    },
    async list(call, params) {
      const { query, projection } = parseListRequest(params);
      const page = await store.listProvisionedAgents(query);
      const resources = page.items.map((agent) => project(toScimAgent(agent, call.baseUrl), projection));
      return { status: 200, body: { schemas: [LIST_RESPONSE], totalResults: page.totalResults, startIndex: query.startIndex, itemsPerPage: resources.length, Resources: resources } };
    },
    async replace(id, call) {
      const write = toAgentWrite(call.body);
      // An omitted `active` keeps the agent's state (see omitsActive): a PUT does not resume a suspended agent.
      const keepActive = omitsActive(call.body);
      await updateAgent(deps, agentContext(call), id, (current) => (keepActive ? { ...write, active: current.state !== 'suspended' } : write), ifMatchVersions(call.ifMatch));
      return represented(await read(id), call, 200);
    },
    async patch(id, call) {
      const operations = parsePatchRequest(call.body);
      await updateAgent(
        deps,
        agentContext(call),
        id,
        (current) => toAgentWrite(applyPatch(writableAgent(current, call.baseUrl), operations, { readOnly: AGENT_PATCH_READ_ONLY, canonical: canonicalAgentAttribute }), current.name),
        ifMatchVersions(call.ifMatch),
      );
      const agent = await read(id);
      if (!call.wantsRepresentation) return { status: 204, version: agent.revision };
      return represented(agent, call, 200);
    },
    async remove(id, call) {
      await retireAgent(deps, agentContext(call), id, ifMatchVersions(call.ifMatch));
      return { status: 204 };
    },
  };
}
