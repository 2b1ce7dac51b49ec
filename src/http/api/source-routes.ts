import { z } from 'zod';
import type { RunView, SourceSyncView } from '../../app/directory/sync-status.js';
import { AppError } from '../../domain/errors.js';
import { actorOf, type RouteSpec } from './route-spec.js';
import { runSchema, sourceListSchema, sourceSchema } from './schemas.js';

export interface SourceView {
  readonly id: string;
  readonly kind: string;
  readonly displayName: string;
  readonly sync: SourceSyncView | null;
}

/** Directory sources as the admin API needs them; wired in src/main from the sync use cases. */
export interface SourceApi {
  list(): Promise<SourceView[]>;
  /** Queues a full reconciliation; not_found for unknown sources, invalid_input for push (SCIM) sources. */
  reconcile(sourceId: string, actor: string): Promise<void>;
  /** Binds and reads the root DSE now; throws the AppError that explains a failure. */
  check(sourceId: string): Promise<{ server: string }>;
  runs(sourceId: string, limit: number): Promise<RunView[]>;
  /** Confirms (and queues the run it allows) or discards a held run. */
  decide(sourceId: string, runId: number, decision: 'confirmed' | 'discarded', actor: string): Promise<RunView>;
}

const sourceParams = z.strictObject({ id: z.string().min(1).max(63) });
const runParams = z.strictObject({ id: z.string().min(1).max(63), runId: z.coerce.number().int().positive() });
const runsQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(20) });

function respond<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  return schema.parse(JSON.parse(JSON.stringify(value)));
}

export function sourceRoutes(api: SourceApi): RouteSpec[] {
  const find = async (id: string) => {
    const source = (await api.list()).find((item) => item.id === id);
    if (source === undefined) throw new AppError('not_found', 'source not found', { detail: `Source ${id} not found` });
    return source;
  };
  return [
    {
      method: 'get', path: '/sources', operationId: 'listSources', tag: 'sources', role: 'viewer',
      summary: 'Directory sources with their sync status: last attempt and success, cursor, lag, counts, held run, last error',
      responses: { 200: { description: 'Sources', schema: sourceListSchema } },
      async handle() {
        return { status: 200, body: respond(sourceListSchema, { items: await api.list() }) };
      },
    },
    {
      method: 'get', path: '/sources/:id', operationId: 'getSource', tag: 'sources', role: 'viewer',
      summary: 'One directory source and its sync status',
      params: sourceParams,
      responses: { 200: { description: 'The source', schema: sourceSchema } },
      async handle({ params }) {
        return { status: 200, body: respond(sourceSchema, await find((params as z.output<typeof sourceParams>).id)) };
      },
    },
    {
      method: 'post', path: '/sources/:id/reconcile', operationId: 'reconcileSource', tag: 'sources', role: 'operator',
      summary: 'Queue a full reconciliation of an LDAP source (mark-and-sweep, guarded by the mass-change circuit breaker)',
      params: sourceParams,
      responses: { 202: { description: 'Queued' } },
      async handle({ params, request }) {
        await api.reconcile((params as z.output<typeof sourceParams>).id, actorOf(request));
        return { status: 202 };
      },
    },
    {
      method: 'post', path: '/sources/:id/check', operationId: 'checkSource', tag: 'sources', role: 'operator',
      summary: 'Check the connection to an LDAP source now (bind, TLS, reachability)',
      params: sourceParams,
      responses: { 200: { description: 'Reachable and bound', schema: z.object({ server: z.string() }) } },
      async handle({ params }) {
        return { status: 200, body: await api.check((params as z.output<typeof sourceParams>).id) };
      },
    },
    {
      method: 'get', path: '/sources/:id/runs', operationId: 'listSourceRuns', tag: 'sources', role: 'viewer',
      summary: 'Recent sync runs of a source, newest first (held, confirmed and discarded runs included)',
      params: sourceParams,
      query: runsQuery,
      responses: { 200: { description: 'Runs', schema: z.object({ items: z.array(runSchema) }) } },
      async handle({ params, query }) {
        const { id } = params as z.output<typeof sourceParams>;
        await find(id);
        return { status: 200, body: respond(z.object({ items: z.array(runSchema) }), { items: await api.runs(id, (query as z.output<typeof runsQuery>).limit) }) };
      },
    },
    ...(['confirm', 'discard'] as const).map((action): RouteSpec => ({
      method: 'post', path: `/sources/:id/held-runs/:runId/${action}`, operationId: `${action}HeldRun`, tag: 'sources', role: 'admin',
      summary: action === 'confirm'
        ? 'Confirm a run held by the mass-change circuit breaker: a full reconciliation is queued that may apply those removals'
        : 'Discard a held run: nothing is applied; the breaker trips again if the directory still looks the same',
      params: runParams,
      responses: { 200: { description: 'The decided run', schema: runSchema } },
      async handle({ params, request }) {
        const { id, runId } = params as z.output<typeof runParams>;
        const run = await api.decide(id, runId, action === 'confirm' ? 'confirmed' : 'discarded', actorOf(request));
        return { status: 200, body: respond(runSchema, run) };
      },
    })),
  ];
}
