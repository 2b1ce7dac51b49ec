/** Admin API contract of delegation governance: pending grants, reassignment, explain, what-if. */
import { z } from 'zod';
import { RISK_CLASSES } from '../../domain/types.js';
import { entitlementSchema, sponsorRefSchema } from './schemas.js';

const uuid = z.uuid();
const timestamp = z.iso.datetime({ offset: true });
const GRANT_STATUSES = ['pending', 'confirmed', 'rejected', 'applied', 'withdrawn'] as const;

export const grantSchema = z
  .object({
    id: uuid,
    agentId: uuid,
    toolId: z.string(),
    risk: z.enum(RISK_CLASSES),
    sponsorId: uuid,
    entitlement: entitlementSchema,
    status: z.enum(GRANT_STATUSES),
    createdAt: timestamp,
    decidedBy: z.string().nullable(),
    decidedAt: timestamp.nullable(),
    closedAt: timestamp.nullable(),
  })
  .meta({ id: 'PendingGrant', description: 'Growth waiting for confirmation, with the provenance that would grant it' });

export const grantListSchema = z.object({ items: z.array(grantSchema) }).meta({ id: 'PendingGrantList' });

export const grantListQuerySchema = z.strictObject({
  status: z.enum(GRANT_STATUSES).optional().describe('Only grants in this status (default: pending and confirmed-not-yet-applied)'),
});

export const grantParams = z.strictObject({ id: uuid, grantId: uuid });

export const reassignSchema = z.strictObject({ sponsor: sponsorRefSchema }).meta({ id: 'Reassign' });

export const explainQuerySchema = z.strictObject({
  tool: z.string().min(1).max(200),
  at: timestamp.optional().describe('Answer for this past instant, from versioned data (default: now)'),
});

const linkSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('directory_change'), changeEventId: uuid, changeKind: z.string(), origin: z.string(), receivedAt: timestamp }),
  z.object({ kind: z.literal('sponsor_group'), sponsorId: uuid, groupId: z.string(), groupName: z.string(), since: timestamp.nullable(), direct: z.boolean() }),
  z.object({ kind: z.literal('sponsor_attribute'), sponsorId: uuid, attribute: z.string(), value: z.string() }),
  z.object({ kind: z.literal('grant_rule'), ruleId: z.string(), ruleVersion: z.number().int(), ruleSince: timestamp.nullable() }),
  z.object({ kind: z.literal('delegation'), delegationId: uuid, approver: z.string(), notBefore: timestamp.nullable(), expiresAt: timestamp.nullable() }),
  z.object({ kind: z.literal('confirmation'), grantId: uuid, decidedBy: z.string().nullable(), decidedAt: timestamp.nullable() }),
  z.object({ kind: z.literal('version'), version: z.number().int(), computedAt: timestamp }),
  z.object({ kind: z.literal('target'), targetId: z.string(), version: z.number().int(), appliedAt: timestamp }),
]);

export const explanationSchema = z
  .object({
    agentId: uuid,
    toolId: z.string(),
    at: timestamp,
    granted: z.boolean(),
    version: z.number().int().nullable(),
    chain: z.array(linkSchema).describe('directory change → sponsor coverage → grant rule → delegation → (confirmation) → version → targets'),
    denial: z.object({ reason: z.string(), detail: z.string() }).nullable().describe('For a denied tool: the first link that failed'),
    notYetApplied: z.array(z.string()),
  })
  .meta({ id: 'Explanation' });

const ruleConditionSchema = z.union([
  z.strictObject({ group: z.string().min(1) }),
  z.strictObject({ attribute: z.string().min(1), in: z.array(z.string()).min(1) }),
]);

export const whatIfSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('sponsor_leaves'), personId: uuid }),
    z.strictObject({ kind: z.literal('sponsor_moves'), personId: uuid, from: z.array(z.string().min(1)).max(50).default([]), to: z.array(z.string().min(1)).max(50).default([]) }),
    z.strictObject({
      kind: z.literal('rule_edited'),
      rule: z.strictObject({ id: z.string().min(1).max(63), when: z.array(ruleConditionSchema).max(50), tools: z.array(z.string().min(1)).max(500) }),
    }),
  ])
  .meta({ id: 'WhatIf', description: 'A hypothetical change: a sponsor leaves, moves between groups, or a grant rule is edited (or added)' });

export const whatIfReportSchema = z
  .object({
    at: timestamp,
    agents: z.array(z.object({
      agentId: uuid,
      sponsorId: uuid,
      lose: z.array(z.string()),
      gain: z.array(z.string()),
      pending: z.array(z.string()),
      reassignment: z.union([
        z.object({ kind: z.literal('backup'), sponsorId: uuid }),
        z.object({
          kind: z.literal('pending_reassignment'),
          proposal: z.object({ sponsorId: uuid.nullable(), path: z.array(z.string()), outcome: z.string() }),
          suspendAt: timestamp,
        }),
      ]).nullable(),
    })),
  })
  .meta({ id: 'WhatIfReport', description: 'What would change; nothing was changed' });
