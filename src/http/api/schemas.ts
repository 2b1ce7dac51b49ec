/**
 * The admin API contract as zod schemas: they validate requests and responses, and the OpenAPI document
 * is generated from them, so the three cannot drift apart.
 */
import { z } from 'zod';
import { AGENT_STATES, ENVIRONMENTS, RISK_CLASSES } from '../../domain/types.js';

const uuid = z.uuid();
const timestamp = z.iso.datetime({ offset: true });
const toolRef = z.string().min(1).max(200);

export const sponsorRefSchema = z
  .union([
    z.strictObject({ id: uuid }),
    z.strictObject({ sourceId: z.string().min(1), userName: z.string().min(1) }),
    z.strictObject({ sourceId: z.string().min(1), externalId: z.string().min(1) }),
  ])
  .meta({ id: 'SponsorRef', description: 'A person: Tether id, or userName / externalId within a source' });

export const registerAgentSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    purpose: z.string().trim().min(1, 'purpose is required').max(2000),
    environment: z.enum(ENVIRONMENTS),
    sponsor: sponsorRefSchema,
    backupSponsors: z.array(sponsorRefSchema).max(10).default([]),
    owner: z.string().max(200).nullable().default(null),
    requestedTools: z.array(toolRef).min(1).max(500),
    expiresAt: timestamp.nullable().default(null),
    delegation: z.strictObject({
      approver: z.string().trim().min(1).max(200),
      justification: z.string().trim().min(1).max(4000),
      tools: z.array(toolRef).max(500).nullable().default(null),
      targetSystems: z.array(z.string().min(1)).max(100).default([]),
      notBefore: timestamp.nullable().default(null),
      expiresAt: timestamp.nullable().default(null),
    }),
  })
  .meta({ id: 'RegisterAgent' });

const viaSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('group'), groupId: z.string(), groupName: z.string() }),
  z.object({ kind: z.literal('attribute'), attribute: z.string(), value: z.string() }),
]);

export const entitlementSchema = z
  .object({
    toolId: z.string(),
    system: z.string(),
    risk: z.enum(RISK_CLASSES),
    provenance: z.object({ ruleId: z.string(), ruleVersion: z.number().int(), via: viaSchema, delegationId: z.string() }),
  })
  .meta({ id: 'Entitlement', description: 'An effective right and why the agent holds it' });

export const agentSchema = z
  .object({
    id: uuid,
    name: z.string(),
    purpose: z.string(),
    environment: z.enum(ENVIRONMENTS),
    state: z.enum(AGENT_STATES),
    sponsor: z.object({ id: uuid, sourceId: z.string(), userName: z.string(), active: z.boolean(), deleted: z.boolean() }),
    backupSponsorIds: z.array(uuid),
    owner: z.string().nullable(),
    requestedTools: z.array(z.string()),
    expiresAt: timestamp.nullable(),
    delegation: z
      .object({
        id: uuid, approver: z.string(), justification: z.string(), tools: z.array(z.string()), targetSystems: z.array(z.string()),
        notBefore: timestamp.nullable(), expiresAt: timestamp.nullable(),
      })
      .nullable(),
    version: z.number().int(),
    computedAt: timestamp.nullable(),
    reason: z.string().nullable(),
    effective: z.array(entitlementSchema),
    denied: z.array(z.object({ toolId: z.string(), reason: z.string() })),
    targets: z.array(z.object({ targetId: z.string(), appliedVersion: z.number().int(), appliedAt: timestamp })),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Agent' });

export const agentListQuerySchema = z.strictObject({
  sponsorId: uuid.optional(),
  state: z.enum(AGENT_STATES).optional(),
  environment: z.enum(ENVIRONMENTS).optional(),
  tool: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  after: uuid.optional(),
});

export const agentListSchema = z
  .object({
    items: z.array(
      z.object({
        id: uuid, name: z.string(), environment: z.enum(ENVIRONMENTS), state: z.enum(AGENT_STATES), sponsorId: uuid,
        version: z.number().int(), effectiveTools: z.array(z.string()), createdAt: timestamp,
      }),
    ),
    next: z.string().nullable().describe('Pass as `after` to get the next page; null on the last page'),
  })
  .meta({ id: 'AgentList' });

export const changeEventQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: uuid.optional(),
  subjectId: uuid.optional(),
});

export const changeEventSchema = z
  .object({
    id: uuid,
    sourceId: z.string().nullable(),
    origin: z.string(),
    kind: z.string(),
    subjectType: z.string(),
    subjectId: z.string().nullable(),
    detail: z.record(z.string(), z.unknown()),
    sourceTime: timestamp.nullable(),
    receivedAt: timestamp,
    committedAt: timestamp,
    computedAt: timestamp.nullable(),
    deliveries: z.array(z.object({ targetId: z.string(), agentId: uuid, version: z.number().int(), appliedAt: timestamp })),
    latencyMs: z.object({
      commit: z.number(),
      compute: z.number().nullable(),
      firstApplied: z.number().nullable(),
      lastApplied: z.number().nullable(),
    }),
  })
  .meta({ id: 'ChangeEvent', description: 'An inbound change with the time it took to reach each stage' });

export const changeEventListSchema = z.object({ items: z.array(changeEventSchema), next: z.string().nullable() }).meta({ id: 'ChangeEventList' });

export const statusSchema = z
  .object({
    sources: z.array(z.object({
      id: z.string(), kind: z.string(), people: z.number().int(), groups: z.number().int(), lastChangeAt: timestamp.nullable(),
      sync: z.lazy(() => sourceSyncSchema).nullable().optional().describe('LDAP sources: delta poll / reconciliation status'),
    })),
    agents: z.object({ total: z.number().int(), byState: z.record(z.string(), z.number().int()) }),
    outbox: z.object({ pending: z.number().int(), oldestPendingAgeSeconds: z.number().nullable() }),
    targets: z.array(z.object({ id: z.string(), kind: z.string(), behind: z.number().int() })),
    queues: z.array(z.object({ name: z.string(), waiting: z.number().int(), active: z.number().int(), delayed: z.number().int(), failed: z.number().int() })),
  })
  .meta({ id: 'Status' });

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    requestId: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });

export const runSchema = z
  .object({
    id: z.number().int(),
    mode: z.enum(['delta', 'full']),
    trigger: z.string(),
    status: z.string(),
    startedAt: timestamp,
    finishedAt: timestamp.nullable(),
    counts: z.object({ seen: z.number().int(), changed: z.number().int(), deleted: z.number().int(), deactivated: z.number().int(), population: z.number().int().nullable() }),
    heldReason: z.string().nullable(),
    decidedBy: z.string().nullable(),
    error: z.string().nullable(),
  })
  .meta({ id: 'SyncRun', description: 'One delta poll or full reconciliation of a directory source' });

export const sourceSyncSchema = z
  .object({
    running: z.boolean(),
    lastAttemptAt: timestamp.nullable(),
    lastSuccessAt: timestamp.nullable(),
    lastFullAt: timestamp.nullable(),
    cursor: z.record(z.string(), z.string()).nullable(),
    lagSeconds: z.number().nullable(),
    lastError: z.string().nullable(),
    lastErrorAt: timestamp.nullable(),
    lastRun: runSchema.nullable(),
    held: runSchema.nullable().describe('A run held by the mass-change circuit breaker, waiting for an admin'),
  })
  .meta({ id: 'SourceSync' });

export const sourceSchema = z
  .object({ id: z.string(), kind: z.string(), displayName: z.string(), sync: sourceSyncSchema.nullable() })
  .meta({ id: 'Source' });

export const sourceListSchema = z.object({ items: z.array(sourceSchema) }).meta({ id: 'SourceList' });
