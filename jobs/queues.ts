import { z } from 'zod';

/** Queue names and job payloads. Payloads carry ids only, never personal data or secrets. */
export const RECOMPUTE_QUEUE = 'recompute';

/** One queue per target, so a slow or failing target never delays the others. */
export function pushQueueName(targetId: string): string {
  return `push.${targetId}`;
}

export const recomputeJobSchema = z.strictObject({ personId: z.uuid() });
export type RecomputeJob = z.infer<typeof recomputeJobSchema>;

export const pushJobSchema = z.strictObject({ agentId: z.uuid(), version: z.number().int().positive() });
export type PushJob = z.infer<typeof pushJobSchema>;

/** BullMQ custom job ids may not contain ':'; this one is stable per (agent, version) within a target's queue. */
export function pushJobId(job: PushJob): string {
  return `${job.agentId}.v${job.version}`;
}
