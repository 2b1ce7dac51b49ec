import { z } from 'zod';
import { EXPIRY_EVENT_TYPES } from '../../src/app/governance/notices.js';
import type { Secret } from '../../src/config/secrets.js';
import { deliverySettings, httpSettings, targetId } from '../shared/config.js';

/**
 * A notification webhook (`notifications.webhooks[]`): receives expiry events, signed exactly like a webhook
 * target (secret / nextSecret as env: or file: references, resolved at load). The id names its queue.
 */
export function notificationWebhookSchema(secret: z.ZodType<Secret>) {
  return z.strictObject({
    id: targetId,
    url: z.url({ protocol: /^https?$/ }),
    secret,
    nextSecret: secret.optional(),
    /** Event types to send; all of them when omitted. */
    events: z.array(z.enum(EXPIRY_EVENT_TYPES)).min(1).default([...EXPIRY_EVENT_TYPES]),
    ...httpSettings,
    maxResponseBytes: httpSettings.maxResponseBytes.default(65_536),
    maxAttempts: deliverySettings.maxAttempts,
    backoffMs: deliverySettings.backoffMs,
    concurrency: z.number().int().min(1).max(64).default(4),
  });
}

export type NotificationWebhookConfig = z.infer<ReturnType<typeof notificationWebhookSchema>>;
