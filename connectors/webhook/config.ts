import { z } from 'zod';
import type { Secret } from '../../src/config/secrets.js';

/** A webhook target's settings. The signing secret arrives already resolved from env:/file:. */
export function webhookConfigSchema(secret: z.ZodType<Secret>) {
  return z.strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes'),
    kind: z.literal('webhook'),
    url: z.url({ protocol: /^https?$/ }),
    /** Standard Webhooks secret (`whsec_` + base64). */
    secret,
    timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    maxAttempts: z.number().int().min(1).max(100).default(12),
    /** First retry delay; later ones double (exponential backoff with jitter). */
    backoffMs: z.number().int().min(10).max(3_600_000).default(1000),
    concurrency: z.number().int().min(1).max(256).default(16),
    /** Maximum response body read, so a misbehaving receiver cannot exhaust memory. */
    maxResponseBytes: z.number().int().min(0).max(10_485_760).default(65_536),
  });
}

export type WebhookConfig = z.infer<ReturnType<typeof webhookConfigSchema>>;
