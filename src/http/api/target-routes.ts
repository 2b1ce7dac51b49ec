import { z } from 'zod';
import { AppError } from '../../domain/errors.js';
import { actorOf, type RouteSpec } from './route-spec.js';

const timestamp = z.iso.datetime({ offset: true });
const percentiles = z.object({ count: z.number().int(), p50: z.number().nullable(), p95: z.number().nullable(), p99: z.number().nullable() });

export const driftRunSchema = z.object({
  id: z.number().int(), targetId: z.string(), trigger: z.string(), agentId: z.uuid().nullable(), startedAt: timestamp, finishedAt: timestamp.nullable(),
  checked: z.number().int(), repaired: z.number().int(), removed: z.number().int(), restored: z.number().int(), error: z.string().nullable(),
});

export const targetSchema = z.object({
  id: z.string(),
  kind: z.string(),
  canRead: z.boolean().describe('whether the target can be read back (verification and drift checks)'),
  agents: z.number().int().describe('agents with a version applied here'),
  verified: z.number().int().describe('agents whose applied version was read back and found equal'),
  behind: z.number().int().describe('agents with a push not yet done'),
  deadLetters: z.number().int(),
  lastAppliedAt: timestamp.nullable(),
  lastVerifiedAt: timestamp.nullable(),
  revocationSeconds: z.object({ applied: percentiles, verified: percentiles }).describe('receipt → revocation applied / verified, last 24 h'),
  lastDrift: driftRunSchema.nullable(),
});

export const deadLetterSchema = z.object({
  jobId: z.string(), agentId: z.uuid(), version: z.number().int(), attempts: z.number().int(), lastError: z.string(), failedAt: timestamp.nullable(),
});

const driftReportSchema = z.object({
  runId: z.number().int(), targetId: z.string(), checked: z.number().int(), repaired: z.number().int(), removed: z.number().int(),
  restored: z.number().int(), failed: z.number().int(),
  repairs: z.array(z.object({ agentId: z.uuid(), version: z.number().int(), removed: z.array(z.string()), restored: z.array(z.string()) })),
});

export type TargetView = z.output<typeof targetSchema>;
export type DeadLetterView = z.output<typeof deadLetterSchema>;

/** Targets as the admin API needs them; wired in src/main from the delivery and drift use cases. */
export interface TargetApi {
  list(): Promise<unknown[]>;
  deadLetters(targetId: string, offset: number, limit: number): Promise<{ items: unknown[]; total: number }>;
  retry(targetId: string, jobId: string, actor: string): Promise<boolean>;
  retryAll(targetId: string, actor: string): Promise<number>;
  /** With an agent: checks and repairs it now and returns the report; without: queues a run (null). */
  drift(targetId: string, agentId: string | undefined, actor: string): Promise<unknown>;
  driftRuns(targetId: string, limit: number): Promise<unknown[]>;
  check(targetId: string): Promise<{ detail: string }>;
}

const targetParams = z.strictObject({ id: z.string().min(1).max(63) });
const deadLetterParams = z.strictObject({ id: z.string().min(1).max(63), jobId: z.string().min(1).max(200) });
const pageQuery = z.strictObject({ offset: z.coerce.number().int().min(0).default(0), limit: z.coerce.number().int().min(1).max(500).default(50) });
const limitQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(20) });
const driftBody = z.strictObject({ agentId: z.uuid().optional() });

function respond<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  return schema.parse(JSON.parse(JSON.stringify(value)));
}

export function targetRoutes(api: TargetApi): RouteSpec[] {
  const find = async (id: string) => {
    const target = (await api.list()).find((item) => (item as { id: string }).id === id);
    if (target === undefined) throw new AppError('not_found', 'target not found', { detail: `Target ${id} not found` });
    return target;
  };
  const listSchema = z.object({ items: z.array(targetSchema) });
  return [
    {
      method: 'get', path: '/targets', operationId: 'listTargets', tag: 'targets', role: 'viewer',
      summary: 'Targets with delivery status: agents applied and verified, backlog, dead letters, revocation timing, last drift check',
      responses: { 200: { description: 'Targets', schema: listSchema } },
      async handle() {
        return { status: 200, body: respond(listSchema, { items: await api.list() }) };
      },
    },
    {
      method: 'get', path: '/targets/:id', operationId: 'getTarget', tag: 'targets', role: 'viewer',
      summary: 'One target and its delivery status',
      params: targetParams,
      responses: { 200: { description: 'The target', schema: targetSchema } },
      async handle({ params }) {
        return { status: 200, body: respond(targetSchema, await find((params as z.output<typeof targetParams>).id)) };
      },
    },
    {
      method: 'get', path: '/targets/:id/dead-letters', operationId: 'listDeadLetters', tag: 'targets', role: 'viewer',
      summary: 'Pushes that failed for good (rejected by the target, or out of attempts), newest first, with the last error',
      params: targetParams,
      query: pageQuery,
      responses: { 200: { description: 'Dead letters', schema: z.object({ items: z.array(deadLetterSchema), total: z.number().int() }) } },
      async handle({ params, query }) {
        const { offset, limit } = query as z.output<typeof pageQuery>;
        const page = await api.deadLetters((params as z.output<typeof targetParams>).id, offset, limit);
        return { status: 200, body: respond(z.object({ items: z.array(deadLetterSchema), total: z.number().int() }), page) };
      },
    },
    {
      method: 'post', path: '/targets/:id/dead-letters/retry-all', operationId: 'retryAllDeadLetters', tag: 'targets', role: 'operator',
      summary: 'Queue every dead-lettered push of the target again, with fresh attempts',
      params: targetParams,
      responses: { 200: { description: 'Queued again', schema: z.object({ retried: z.number().int() }) } },
      async handle({ params, request }) {
        return { status: 200, body: { retried: await api.retryAll((params as z.output<typeof targetParams>).id, actorOf(request)) } };
      },
    },
    {
      method: 'post', path: '/targets/:id/dead-letters/:jobId/retry', operationId: 'retryDeadLetter', tag: 'targets', role: 'operator',
      summary: 'Queue one dead-lettered push again, with fresh attempts',
      params: deadLetterParams,
      responses: { 202: { description: 'Queued again' } },
      async handle({ params, request }) {
        const { id, jobId } = params as z.output<typeof deadLetterParams>;
        if (!(await api.retry(id, jobId, actorOf(request)))) throw new AppError('not_found', 'dead letter not found', { detail: `No failed push ${jobId} on target ${id}` });
        return { status: 202 };
      },
    },
    {
      method: 'post', path: '/targets/:id/drift', operationId: 'checkDrift', tag: 'targets', role: 'operator',
      summary: 'Drift check and repair: for one agent now (200 with the report), or for the whole target queued (202)',
      params: targetParams,
      body: driftBody.optional(),
      responses: { 200: { description: 'Checked and repaired', schema: driftReportSchema }, 202: { description: 'Queued' } },
      async handle({ params, body, request }) {
        const { agentId } = (body ?? {}) as z.output<typeof driftBody>;
        const report = await api.drift((params as z.output<typeof targetParams>).id, agentId, actorOf(request));
        return report === null ? { status: 202 } : { status: 200, body: respond(driftReportSchema, report) };
      },
    },
    {
      method: 'get', path: '/targets/:id/drift-runs', operationId: 'listDriftRuns', tag: 'targets', role: 'viewer',
      summary: 'Recent drift checks of a target, newest first',
      params: targetParams,
      query: limitQuery,
      responses: { 200: { description: 'Runs', schema: z.object({ items: z.array(driftRunSchema) }) } },
      async handle({ params, query }) {
        const { id } = params as z.output<typeof targetParams>;
        await find(id);
        return { status: 200, body: respond(z.object({ items: z.array(driftRunSchema) }), { items: await api.driftRuns(id, (query as z.output<typeof limitQuery>).limit) }) };
      },
    },
    {
      method: 'post', path: '/targets/:id/check', operationId: 'checkTarget', tag: 'targets', role: 'operator',
      summary: 'Check reachability and credentials of a target now',
      params: targetParams,
      responses: { 200: { description: 'Reachable', schema: z.object({ detail: z.string() }) } },
      async handle({ params }) {
        return { status: 200, body: await api.check((params as z.output<typeof targetParams>).id) };
      },
    },
  ];
}
