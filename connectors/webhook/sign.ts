import { Webhook } from 'standardwebhooks';
import type { Secret } from '../../src/config/secrets.js';

/**
 * Standard Webhooks headers for one message, signed with every active secret (space-separated signatures:
 * during a rotation a receiver holding either secret verifies). Shared by entitlement targets and
 * notification webhooks so both sign identically.
 */
export function webhookSigner(secrets: readonly Secret[]): (id: string, timestamp: Date, body: string) => Record<string, string> {
  const signers = secrets.map((secret) => new Webhook(secret.reveal()));
  return (id, timestamp, body) => ({
    'content-type': 'application/json',
    'user-agent': 'Tether-Webhooks/1',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': signers.map((signer) => signer.sign(id, timestamp, body)).join(' '),
  });
}
