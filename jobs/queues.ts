import { z } from 'zod';
import { EXPIRY_EVENT_TYPES } from '../src/app/governance/notices.js';

/** Queue names and job payloads. Payloads carry ids only, never personal data or secrets. */
export const RECOMPUTE_QUEUE = 'recompute';

/** One queue per target, so a slow or failing target never delays the others. */
export function pushQueueName(targetId: string): string {
  return `push.${targetId}`;
}

/**
 * Most sponsors one recompute job carries. BullMQ's cost is per job (an addJob script at enqueue, then
 * moveToActive and moveToFinished in the worker), not per id, so a change touching many sponsors should be
 * few jobs; 64 matches the default recompute batch (TETHER_WORKER_CONCURRENCY 8 × 8 sponsors per
 * transaction), so one full job is one full transaction, a 2,000-member group change is still about thirty
 * jobs that several worker processes share, and the payload stays about 2.5 KB.
 */
export const MAX_RECOMPUTE_IDS = 64;

const recomputeBatchJobSchema = z.strictObject({ personIds: z.array(z.uuid()).min(1).max(MAX_RECOMPUTE_IDS) });
/** The shape Tether queued before jobs carried several sponsors; still read, so jobs left in Redis across an upgrade run. */
const legacyRecomputeJobSchema = z.strictObject({ personId: z.uuid() });

/** A recompute job: the sponsors of one enqueue (at most MAX_RECOMPUTE_IDS); the legacy `{ personId }` reads as one id. */
export const recomputeJobSchema = z.union([
  recomputeBatchJobSchema,
  legacyRecomputeJobSchema.transform(({ personId }) => ({ personIds: [personId] })),
]);
export type RecomputeJob = z.output<typeof recomputeJobSchema>;

export const pushJobSchema = z.strictObject({ agentId: z.uuid(), version: z.number().int().positive() });
export type PushJob = z.infer<typeof pushJobSchema>;

/** BullMQ custom job ids may not contain ':'; this one is stable per (agent, version) within a target's queue. */
export function pushJobId(job: PushJob): string {
  return `${job.agentId}.v${job.version}`;
}

/** LDAP delta polls and full reconciliations, one job per run; schedulers per source (jobs/bullmq.ts). */
export const DIRECTORY_SYNC_QUEUE = 'directory-sync';

export const directorySyncJobSchema = z.strictObject({
  sourceId: z.string().min(1).max(63),
  mode: z.enum(['delta', 'full']),
  trigger: z.string().min(1).max(200),
  confirmedRunId: z.number().int().positive().optional(),
});
export type DirectorySyncJob = z.infer<typeof directorySyncJobSchema>;

/** Scheduler ids per source; BullMQ ids may not contain ':'. */
export function directorySchedulerId(kind: 'poll' | 'reconcile', sourceId: string): string {
  return `${kind}.${sourceId}`;
}

/** Drift checks: one run reads a target back and repairs it (src/app/pipeline/drift.ts). */
export const DRIFT_QUEUE = 'drift';

export const driftJobSchema = z.strictObject({
  targetId: z.string().min(1).max(63),
  trigger: z.string().min(1).max(200),
  agentId: z.uuid().optional(),
});
export type DriftJob = z.infer<typeof driftJobSchema>;

export function driftSchedulerId(targetId: string): string {
  return `drift.${targetId}`;
}

/** A push that failed for good (permanent error or attempts exhausted), as the admin API lists it. */
export interface DeadLetter {
  readonly jobId: string;
  readonly agentId: string;
  readonly version: number;
  readonly attempts: number;
  readonly lastError: string;
  readonly failedAt: Date | null;
}

/** Governance sweeps (expiry of agents and delegations, notices before it), driven by a job scheduler. */
export const GOVERNANCE_QUEUE = 'governance';

export const governanceJobSchema = z.strictObject({
  task: z.enum(['expiry-sweep']),
  trigger: z.string().min(1).max(200),
});
export type GovernanceJob = z.infer<typeof governanceJobSchema>;

export function governanceSchedulerId(task: GovernanceJob['task']): string {
  return `governance.${task}`;
}

/**
 * Expiry notifications (src/app/governance/notices.ts): one queue per notification webhook, so a failing
 * receiver never delays the others; the job id is the event id. Unlike other payloads the job carries the
 * whole event (the agent's name included, which targets receive anyway), so every retry sends the same bytes.
 */
export function notifyQueueName(webhookId: string): string {
  return `notify.${webhookId}`;
}

export const expiryEventSchema = z.strictObject({
  id: z.string().regex(/^evt_[0-9a-f-]+_(agent|delegation)\.(expiring|expired)_\d+$/),
  type: z.enum(EXPIRY_EVENT_TYPES),
  occurredAt: z.iso.datetime(),
  agentId: z.uuid(),
  agentName: z.string(),
  sponsorId: z.uuid(),
  expiresAt: z.iso.datetime(),
  delegationId: z.uuid().optional(),
});

export const notificationJobSchema = z.strictObject({ event: expiryEventSchema });
export type NotificationJobData = z.infer<typeof notificationJobSchema>;
