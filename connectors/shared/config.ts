import { z } from 'zod';

/** Target ids name queues and metric labels: short, lower-case. */
export const targetId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes');

/** Delivery settings every target kind shares: its queue, retries, rate limit and drift schedule. */
export const deliverySettings = {
  maxAttempts: z.number().int().min(1).max(100).default(12),
  /** First retry delay; later ones double (exponential backoff with jitter, never sooner than Retry-After). */
  backoffMs: z.number().int().min(10).max(3_600_000).default(1000),
  concurrency: z.number().int().min(1).max(256).default(16),
  /** At most `max` calls per `perMs` to this target, across all workers (BullMQ limiter). */
  rateLimit: z.strictObject({ max: z.number().int().min(1).max(100_000), perMs: z.number().int().min(1).max(3_600_000) }).optional(),
  /** How often the drift job reads the target back and repairs it; 0 turns scheduled drift checks off. */
  driftIntervalSeconds: z.number().int().min(0).max(604_800).default(3600),
};

/** HTTP settings of HTTP targets. */
export const httpSettings = {
  timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
  /** Maximum response body read, so a misbehaving target cannot exhaust memory. */
  maxResponseBytes: z.number().int().min(0).max(10_485_760).default(1_048_576),
  /** Loopback, link-local and private addresses are refused unless this is true. */
  allowPrivateNetwork: z.boolean().default(false),
};
