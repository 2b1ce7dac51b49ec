import { z } from 'zod';
import { registerAgent, type RegisterAgentDeps, type RegisterAgentInput } from '../../app/agents/register-agent.js';
import type { ReadModels, StatusView } from '../../app/queries/views.js';
import { AppError } from '../../domain/errors.js';
import type { RouteSpec } from './route-spec.js';
import { auditRoutes, type AuditApi } from './audit-routes.js';
import { governanceRoutes, type GovernanceApi } from './governance-routes.js';
import { historyRoutes, type AgentHistoryApi } from './history-routes.js';
import { metricsRoutes, type MetricsApi } from './metrics-routes.js';
import { peopleRoutes, type PeopleApi } from './people-routes.js';
import { sourceRoutes, type SourceApi } from './source-routes.js';
import { targetRoutes, type TargetApi } from './target-routes.js';
import {
  agentListQuerySchema, agentListSchema, agentSchema, changeEventListSchema, changeEventQuerySchema, registerAgentSchema, statusSchema,
} from './schemas.js';

export interface ApiDeps {
  readonly agents: RegisterAgentDeps;
  readonly readModels: ReadModels;
  readonly status: () => Promise<StatusView>;
  /** Directory sources and their sync runs (LDAP polls, reconciliations, held runs). */
  readonly sources?: SourceApi;
  /** Targets: delivery status, dead letters and their retry, drift checks (docs/targets.md). */
  readonly targets?: TargetApi;
  /** Pending grants, reassignment, explain and what-if (docs/governance.md). */
  readonly governance?: GovernanceApi;
  /** People and the agents they sponsor (dashboard people pages). */
  readonly people?: PeopleApi;
  /** Entitlement versions of an agent (dashboard timeline). */
  readonly history?: AgentHistoryApi;
  /** Audit log search, export and verification. */
  readonly audit?: AuditApi;
  /** Time series for the dashboard's charts (propagation latency). */
  readonly metrics?: MetricsApi;
}

const idParams = z.strictObject({ id: z.uuid() });

/** Dates → ISO strings, then the response schema: a response that breaks the contract fails loudly here. */
function respond<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  return schema.parse(JSON.parse(JSON.stringify(value)));
}

const toDate = (value: string | null): Date | null => (value === null ? null : new Date(value));

export function apiRoutes(deps: ApiDeps): RouteSpec[] {
  return [
    {
      method: 'post', path: '/agents', operationId: 'registerAgent', tag: 'agents', role: 'operator',
      summary: 'Register an agent with its sponsor, requested tools and delegation; its entitlements are computed at once',
      body: registerAgentSchema,
      responses: { 201: { description: 'Registered', schema: agentSchema } },
      async handle({ body, request }) {
        const input = body as z.output<typeof registerAgentSchema>;
        const command: RegisterAgentInput = {
          ...input,
          expiresAt: toDate(input.expiresAt),
          delegation: { ...input.delegation, notBefore: toDate(input.delegation.notBefore), expiresAt: toDate(input.delegation.expiresAt) },
        };
        const agent = await registerAgent(deps.agents, { type: 'admin_token', id: request.principal?.tokenId ?? 'unknown' }, command);
        const view = await deps.readModels.getAgent(agent.id);
        return { status: 201, body: respond(agentSchema, view), headers: { Location: `/api/v1/agents/${agent.id}` } };
      },
    },
    {
      method: 'get', path: '/agents', operationId: 'listAgents', tag: 'agents', role: 'viewer',
      summary: 'List agents, filtered by sponsor, state, environment or effective tool',
      query: agentListQuerySchema,
      responses: { 200: { description: 'A page of agents', schema: agentListSchema } },
      async handle({ query }) {
        const filter = query as z.output<typeof agentListQuerySchema>;
        const items = await deps.readModels.listAgents(dropUndefined({ ...filter }));
        const next = items.length === filter.limit ? (items.at(-1)?.id ?? null) : null;
        return { status: 200, body: respond(agentListSchema, { items, next }) };
      },
    },
    {
      method: 'get', path: '/agents/:id', operationId: 'getAgent', tag: 'agents', role: 'viewer',
      summary: 'An agent with its effective entitlements, their provenance, denials and per-target applied versions',
      params: idParams,
      responses: { 200: { description: 'The agent', schema: agentSchema } },
      async handle({ params }) {
        const { id } = params as z.output<typeof idParams>;
        const view = await deps.readModels.getAgent(id);
        if (view === null) throw new AppError('not_found', 'agent not found', { detail: `Agent ${id} not found` });
        return { status: 200, body: respond(agentSchema, view) };
      },
    },
    {
      method: 'get', path: '/change-events', operationId: 'listChangeEvents', tag: 'events', role: 'viewer',
      summary: 'Inbound changes, newest first, with the latency of each stage (commit, compute, apply per target)',
      query: changeEventQuerySchema,
      responses: { 200: { description: 'A page of change events', schema: changeEventListSchema } },
      async handle({ query }) {
        const filter = query as z.output<typeof changeEventQuerySchema>;
        const items = await deps.readModels.listChangeEvents(dropUndefined({ ...filter }));
        const next = items.length === filter.limit ? (items.at(-1)?.id ?? null) : null;
        return { status: 200, body: respond(changeEventListSchema, { items, next }) };
      },
    },
    {
      method: 'get', path: '/status', operationId: 'getStatus', tag: 'status', role: 'viewer',
      summary: 'Sync status: sources, agents by state, outbox backlog, targets behind, queue depths',
      responses: { 200: { description: 'Status', schema: statusSchema } },
      async handle() {
        return { status: 200, body: respond(statusSchema, await deps.status()) };
      },
    },
    ...(deps.sources === undefined ? [] : sourceRoutes(deps.sources)),
    ...(deps.targets === undefined ? [] : targetRoutes(deps.targets)),
    ...(deps.governance === undefined ? [] : governanceRoutes(deps.governance)),
    ...(deps.people === undefined ? [] : peopleRoutes(deps.people)),
    ...(deps.history === undefined ? [] : historyRoutes(deps.history)),
    ...(deps.audit === undefined ? [] : auditRoutes(deps.audit)),
    ...(deps.metrics === undefined ? [] : metricsRoutes(deps.metrics)),
  ];
}

/** exactOptionalPropertyTypes: optional query fields must be absent, not undefined. */
function dropUndefined<T extends Record<string, unknown>>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}
