import type { ExpiryEvent, NotificationSender } from '../../src/app/governance/notices.js';
import { AppError } from '../../src/domain/errors.js';
import { statusError, targetFetch } from '../shared/http.js';
import type { NotificationWebhookConfig } from './notification-config.js';
import { webhookSigner } from './sign.js';

/**
 * POSTs expiry events to the notification webhooks, signed as Standard Webhooks with the event id as
 * webhook-id. 2xx = delivered; 408, 425, 429, 5xx or a network failure = retry; any other status = permanent.
 */
export function createWebhookNotifier(webhooks: readonly NotificationWebhookConfig[], deps: { readonly fetch: typeof fetch; readonly clock: () => Date }): NotificationSender {
  const byId = new Map(webhooks.map((config) => [config.id, {
    config,
    settings: { ...config, kind: 'notification webhook' },
    sign: webhookSigner([config.secret, ...(config.nextSecret === undefined ? [] : [config.nextSecret])]),
  }]));
  return {
    async send(webhookId: string, event: ExpiryEvent): Promise<void> {
      const webhook = byId.get(webhookId);
      if (webhook === undefined) throw new AppError('not_found', `notification webhook ${webhookId} is not configured`);
      const body = JSON.stringify(event);
      const response = await targetFetch(deps.fetch, webhook.settings, webhook.config.url, { method: 'POST', headers: webhook.sign(event.id, deps.clock(), body), body });
      if (response.status >= 200 && response.status < 300) return;
      throw statusError(webhook.settings, response.status, response.headers, deps.clock());
    },
  };
}
