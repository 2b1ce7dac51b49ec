import { z } from 'zod';
import type { Denial } from '../../domain/entitlements.js';
import { AppError } from '../../domain/errors.js';
import type { RouteSpec } from './route-spec.js';

export interface VersionView {
  readonly version: number;
  readonly sponsorId: string;
  readonly computedAt: Date;
  readonly reason: string;
  readonly tools: readonly string[];
  readonly denied: readonly Denial[];
  readonly changeEventIds: readonly string[];
}

/** Past entitlement versions of an agent, newest first; null for an unknown agent. Wired in src/main. */
export interface AgentHistoryApi {
  versions(agentId: string, limit: number): Promise<VersionView[] | null>;
}

export const versionListSchema = z
  .object({
    items: z.array(z.object({
      version: z.number().int(),
      sponsorId: z.uuid(),
      computedAt: z.iso.datetime({ offset: true }),
      reason: z.string(),
      tools: z.array(z.string()).describe('The effective tools of this version'),
      denied: z.array(z.object({ toolId: z.string(), reason: z.string() })),
      changeEventIds: z.array(z.uuid()).describe('The inbound changes this version answers'),
    })),
  })
  .meta({ id: 'AgentVersionList' });

const idParams = z.strictObject({ id: z.uuid() });
const versionsQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(100).default(20) });

export function historyRoutes(api: AgentHistoryApi): RouteSpec[] {
  return [
    {
      method: 'get', path: '/agents/:id/versions', operationId: 'listAgentVersions', tag: 'agents', role: 'viewer',
      summary: "The agent's entitlement versions, newest first: what it held after each change and why",
      params: idParams,
      query: versionsQuery,
      responses: { 200: { description: 'Versions', schema: versionListSchema } },
      async handle({ params, query }) {
        const { id } = params as z.output<typeof idParams>;
        const items = await api.versions(id, (query as z.output<typeof versionsQuery>).limit);
        if (items === null) throw new AppError('not_found', 'agent not found', { detail: `Agent ${id} not found` });
        return { status: 200, body: versionListSchema.parse(JSON.parse(JSON.stringify({ items }))) };
      },
    },
  ];
}
