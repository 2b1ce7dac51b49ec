import { z } from 'zod';
import type { Secret } from '../../src/config/secrets.js';
import { deliverySettings, httpSettings, targetId } from '../shared/config.js';

/** A webhook target's settings. Signing secrets arrive already resolved from env:/file:. */
export function webhookConfigSchema(secret: z.ZodType<Secret>) {
  return z.strictObject({
    id: targetId,
    kind: z.literal('webhook'),
    url: z.url({ protocol: /^https?$/ }),
    /** Standard Webhooks secret (`whsec_` + base64); messages are signed with it. */
    secret,
    /**
     * A second active secret during rotation: every message carries a signature with each, so receivers
     * holding either verify. Rotate by adding the new one here, updating receivers, then swapping.
     */
    nextSecret: secret.optional(),
    /**
     * Optional read-back: GET `{readUrl}/{agentId}` answers `{ "tools": [...] }` (200) or 404. Without it
     * the target cannot be verified or checked for drift.
     */
    readUrl: z.url({ protocol: /^https?$/ }).optional(),
    ...httpSettings,
    maxResponseBytes: httpSettings.maxResponseBytes.default(65_536),
    ...deliverySettings,
  });
}

export type WebhookConfig = z.infer<ReturnType<typeof webhookConfigSchema>>;
