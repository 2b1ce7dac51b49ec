import { Webhook } from 'standardwebhooks';
import { AppError } from '../../src/domain/errors.js';
import type { ApplyRequest, TargetConnector } from '../../src/app/ports.js';
import type { WebhookConfig } from './config.js';
import { webhookPayload } from './payload.js';

export interface WebhookDeps {
  readonly fetch: typeof fetch;
  readonly clock: () => Date;
}

/**
 * Delivers entitlement versions as Standard Webhooks. 2xx = applied; 408, 425, 429 and 5xx or a network
 * failure = retry (honouring Retry-After); any other status = permanent rejection (dead letter).
 */
export function createWebhookConnector(config: WebhookConfig, deps: WebhookDeps): TargetConnector {
  const signer = new Webhook(config.secret.reveal());
  return {
    id: config.id,
    kind: 'webhook',
    async apply(request: ApplyRequest): Promise<void> {
      const { id, body } = webhookPayload(request);
      const timestamp = deps.clock();
      const signature = signer.sign(id, timestamp, body);
      let response: Response;
      try {
        response = await deps.fetch(config.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Tether-Webhooks/1',
            'webhook-id': id,
            'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
            'webhook-signature': signature,
          },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(config.timeoutMs),
        });
      } catch (error) {
        throw new AppError('target_unavailable', `webhook ${config.id}: ${describeNetworkError(error)}`, { cause: error });
      }
      await drain(response, config.maxResponseBytes);
      if (response.status >= 200 && response.status < 300) return;
      const retryAfter = parseRetryAfter(response.headers.get('retry-after'), deps.clock());
      const retryable = response.status === 408 || response.status === 425 || response.status === 429 || response.status >= 500;
      throw new AppError(retryable ? 'target_unavailable' : 'target_rejected', `webhook ${config.id}: HTTP ${response.status}`, {
        meta: { status: response.status },
        ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
      });
    },
  };
}

function describeNetworkError(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'timed out';
  const cause = (error as { cause?: { code?: unknown } }).cause;
  return typeof cause?.code === 'string' ? cause.code : 'network error';
}

/** Reads at most `limit` bytes and discards them, so the connection can be reused and memory stays bounded. */
async function drain(response: Response, limit: number): Promise<void> {
  if (response.body === null) return;
  const reader = response.body.getReader();
  let read = 0;
  try {
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) return;
      read += (chunk.value as Uint8Array).byteLength;
      if (read > limit) {
        await reader.cancel();
        return;
      }
    }
  } catch {
    // A broken response body after the status line does not change the outcome.
  }
}

/** Retry-After as delta-seconds or an HTTP date (RFC 9110 §10.2.3), in seconds from now. */
export function parseRetryAfter(header: string | null, now: Date): number | undefined {
  if (header === null) return undefined;
  if (/^\d+$/.test(header.trim())) return Number.parseInt(header.trim(), 10);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now.getTime()) / 1000));
}
