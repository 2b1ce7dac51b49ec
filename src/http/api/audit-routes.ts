/** Admin API of the audit log: search, export as JSON lines, verification of the hash chain (docs/governance.md). */
import { z } from 'zod';
import { exportAuditLog, searchAuditLog, verifyAuditLog, type AuditFilter, type AuditLogDeps, type AuditRecord } from '../../app/governance/audit-log.js';
import { actorOf, type RouteSpec } from './route-spec.js';

/** The audit log use cases' dependencies; wired in src/main. */
export type AuditApi = AuditLogDeps;

const timestamp = z.iso.datetime({ offset: true });
export const NDJSON = 'application/x-ndjson';

export const auditEntrySchema = z
  .object({
    seq: z.number().int().describe('Insertion order; also the search cursor'),
    at: timestamp,
    actor: z.string().describe('Who: admin_token:<id>, scim_token:<id>, saml:<nameId>, system:<component>, ldap:<source>'),
    action: z.string(),
    subjectType: z.string(),
    subjectId: z.string().nullable(),
    detail: z.record(z.string(), z.unknown()),
    chainSeq: z.number().int().nullable().describe('Position in the hash chain; null until the sealer chained the entry (about a second)'),
    hash: z.string().nullable(),
  })
  .meta({ id: 'AuditEntry', description: 'One audit log entry' });

export const auditPageSchema = z.object({ items: z.array(auditEntrySchema), next: z.string().nullable() }).meta({ id: 'AuditPage' });

export const auditVerificationSchema = z
  .object({
    ok: z.boolean(),
    checkedAt: timestamp,
    entries: z.number().int().describe('Chained entries checked'),
    unsealed: z.number().int().describe('Committed entries not chained yet'),
    firstBroken: z.object({ seq: z.number().int(), chainSeq: z.number().int().nullable(), at: timestamp.nullable(), action: z.string().nullable() }).nullable(),
  })
  .meta({ id: 'AuditVerification', description: 'Result of walking the hash chain' });

const filterFields = {
  actor: z.string().min(1).max(300).optional(),
  action: z.string().min(1).max(200).optional().describe('An action, or a prefix ending in * (grant.*)'),
  subjectType: z.string().min(1).max(100).optional(),
  subjectId: z.string().min(1).max(300).optional(),
  from: timestamp.optional().describe('Entries at or after this instant'),
  to: timestamp.optional().describe('Entries before this instant'),
};

export const auditQuerySchema = z.strictObject({
  ...filterFields,
  cursor: z.string().max(20).optional().describe('The next value of the previous page'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const auditExportQuerySchema = z.strictObject(filterFields);

type FilterInput = { [K in keyof typeof filterFields]?: z.output<(typeof filterFields)[K]> };

/** exactOptionalPropertyTypes: absent filters stay absent. */
export function toAuditFilter(input: FilterInput): AuditFilter {
  return {
    ...(input.actor === undefined ? {} : { actor: input.actor }),
    ...(input.action === undefined ? {} : { action: input.action }),
    ...(input.subjectType === undefined ? {} : { subjectType: input.subjectType }),
    ...(input.subjectId === undefined ? {} : { subjectId: input.subjectId }),
    ...(input.from === undefined ? {} : { from: new Date(input.from) }),
    ...(input.to === undefined ? {} : { to: new Date(input.to) }),
  };
}

/** One entry as one JSON line, in the same shape the search answers with. */
export function auditJsonLine(entry: AuditRecord): string {
  return `${JSON.stringify({ ...entry, at: entry.at.toISOString() })}\n`;
}

async function* jsonLines(entries: AsyncIterable<AuditRecord>): AsyncGenerator<string> {
  for await (const entry of entries) yield auditJsonLine(entry);
}

export function auditRoutes(api: AuditApi): RouteSpec[] {
  return [
    {
      method: 'get', path: '/audit', operationId: 'searchAudit', tag: 'audit', role: 'viewer',
      summary: 'Search the audit log, newest first: by actor, action (or prefix), subject, time range; cursor-paginated',
      query: auditQuerySchema,
      responses: { 200: { description: 'A page of entries', schema: auditPageSchema } },
      async handle({ query }) {
        const { cursor, limit, ...filter } = query as z.output<typeof auditQuerySchema>;
        const page = await searchAuditLog(api, toAuditFilter(filter), cursor ?? null, limit);
        return { status: 200, body: auditPageSchema.parse(JSON.parse(JSON.stringify(page))) };
      },
    },
    {
      method: 'get', path: '/audit/export', operationId: 'exportAudit', tag: 'audit', role: 'viewer',
      summary: 'Export the audit log as JSON lines, oldest first, with the same filters as the search; streamed; the export itself is audited',
      query: auditExportQuerySchema,
      responses: { 200: { description: 'One AuditEntry per line', schema: auditEntrySchema, contentType: NDJSON } },
      handle({ query, request }) {
        // Lazy: nothing (not even the export's own audit entry) happens until the router pulls the first line.
        const filter = toAuditFilter(query as z.output<typeof auditExportQuerySchema>);
        return Promise.resolve({ status: 200, stream: { contentType: NDJSON, chunks: jsonLines(exportAuditLog(api, actorOf(request), filter)) } });
      },
    },
    {
      method: 'get', path: '/audit/verify', operationId: 'verifyAudit', tag: 'audit', role: 'viewer',
      summary: 'Walk the hash chain and name the first entry that does not follow from its predecessor (edited, deleted or reordered)',
      responses: { 200: { description: 'The verification result (ok false: tampering detected)', schema: auditVerificationSchema } },
      async handle() {
        const report = await verifyAuditLog(api);
        return { status: 200, body: auditVerificationSchema.parse(JSON.parse(JSON.stringify(report))) };
      },
    },
  ];
}
