import { AppError } from '../../src/domain/errors.js';
import type { ApplyRequest, DownstreamConnector, TargetAgentRef, TargetHolding } from '../../src/app/ports.js';
import { assertPublicDestination, statusError, targetFetch } from '../shared/http.js';
import type { WebhookConfig } from './config.js';
import { webhookPayload } from './payload.js';
import { webhookSigner } from './sign.js';

export { parseRetryAfter } from '../shared/http.js';

export interface WebhookDeps {
  readonly fetch: typeof fetch;
  readonly clock: () => Date;
}

/**
 * Delivers entitlement versions as Standard Webhooks. 2xx = applied; 408, 425, 429 and 5xx or a network
 * failure = retry (honouring Retry-After); any other status = permanent rejection (dead letter).
 */
export function createWebhookConnector(config: WebhookConfig, deps: WebhookDeps): DownstreamConnector {
  const sign = webhookSigner([config.secret, ...(config.nextSecret === undefined ? [] : [config.nextSecret])]);
  const settings = { ...config, kind: 'webhook' };
  return {
    id: config.id,
    kind: 'webhook',
    canRead: config.readUrl !== undefined,
    async apply(request: ApplyRequest): Promise<void> {
      const { id, body } = webhookPayload(request);
      const response = await targetFetch(deps.fetch, settings, config.url, { method: 'POST', headers: sign(id, deps.clock(), body), body });
      if (response.status >= 200 && response.status < 300) return;
      throw statusError(settings, response.status, response.headers, deps.clock());
    },
    async read(agent: TargetAgentRef): Promise<TargetHolding | null> {
      if (config.readUrl === undefined) throw new AppError('not_implemented', `webhook ${config.id} has no readUrl`);
      const response = await targetFetch(deps.fetch, settings, `${config.readUrl.replace(/\/$/, '')}/${encodeURIComponent(agent.agentId)}`, {
        method: 'GET',
        headers: { accept: 'application/json', 'user-agent': 'Tether-Webhooks/1' },
      });
      if (response.status === 404) return null;
      if (response.status !== 200) throw statusError(settings, response.status, response.headers, deps.clock(), 'read-back');
      return parseHolding(config.id, response.text);
    },
    async check() {
      // Without readUrl the receiver is not probed: an unsigned request would only be noise in its logs.
      if (config.readUrl === undefined) {
        await assertPublicDestination(new URL(config.url), settings);
        return { detail: `${new URL(config.url).host} is an allowed destination (no readUrl: not probed)` };
      }
      const response = await targetFetch(deps.fetch, settings, config.readUrl, { method: 'HEAD', headers: { 'user-agent': 'Tether-Webhooks/1' } });
      if (response.status >= 500) throw statusError(settings, response.status, response.headers, deps.clock(), 'check');
      return { detail: `HTTP ${response.status} from ${new URL(config.readUrl).host}` };
    },
  };
}

function parseHolding(targetId: string, text: string): TargetHolding {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new AppError('target_rejected', `webhook ${targetId}: read-back is not JSON`);
  }
  const tools = (body as { tools?: unknown } | null)?.tools;
  if (!Array.isArray(tools) || !tools.every((tool) => typeof tool === 'string')) {
    throw new AppError('target_rejected', `webhook ${targetId}: read-back must be { "tools": string[] }`);
  }
  return { tools: [...new Set(tools)].sort() };
}
