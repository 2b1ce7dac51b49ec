import { createServer, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { freePort } from './ports.js';

export interface ReceivedDelivery {
  readonly id: string;
  readonly receivedAt: number;
  readonly payload: {
    type: string;
    data: {
      agentId: string; version: number; sponsor: { id: string }; effective: { toolId: string; provenance: Record<string, unknown> }[];
      granted: string[]; revoked: string[]; reason: string; changeEventId: string | null;
    };
  };
}

/**
 * A real HTTP webhook receiver that verifies Standard Webhooks signatures, dedupes by webhook-id like a
 * well-behaved receiver, and can be told to fail (to exercise retries and the outbox).
 */
export class WebhookReceiver {
  readonly deliveries: ReceivedDelivery[] = [];
  readonly rejectedSignatures: number[] = [];
  attempts = 0;
  failWith: number | null = null;
  #server: Server | null = null;
  #port = 0;
  readonly #verifier: Webhook;

  constructor(secret: string) {
    this.#verifier = new Webhook(secret);
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}/hooks`;
  }

  async start(port?: number): Promise<void> {
    this.#port = port ?? (await freePort());
    this.#server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.attempts += 1;
        if (this.failWith !== null) {
          response.writeHead(this.failWith).end();
          return;
        }
        const body = Buffer.concat(chunks).toString('utf8');
        const headers = {
          'webhook-id': String(request.headers['webhook-id'] ?? ''),
          'webhook-timestamp': String(request.headers['webhook-timestamp'] ?? ''),
          'webhook-signature': String(request.headers['webhook-signature'] ?? ''),
        };
        try {
          const payload = this.#verifier.verify(body, headers) as ReceivedDelivery['payload'];
          if (!this.deliveries.some((delivery) => delivery.id === headers['webhook-id'])) {
            this.deliveries.push({ id: headers['webhook-id'], receivedAt: Date.now(), payload });
          }
          response.writeHead(204).end();
        } catch {
          this.rejectedSignatures.push(Date.now());
          response.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((done) => this.#server?.listen(this.#port, '127.0.0.1', done));
  }

  latestFor(agentId: string): ReceivedDelivery | undefined {
    return this.deliveries.filter((delivery) => delivery.payload.data.agentId === agentId).sort((a, b) => b.payload.data.version - a.payload.data.version)[0];
  }

  async stop(): Promise<void> {
    await new Promise<void>((done) => {
      this.#server?.close(() => done());
      this.#server?.closeAllConnections();
    });
  }
}
