import { createServer, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { freePort } from '../../../support/ports.js';

/**
 * A webhook receiver that behaves as docs/targets.md asks receivers to: verify the Standard Webhooks
 * signature, dedupe by webhook-id, ignore versions older than the one it holds (repairs excepted), and serve
 * its state for read-back at GET /state/{agentId}. It can fail on demand and be edited "by hand".
 */
export class StateReceiver {
  readonly state = new Map<string, { version: number; tools: string[] }>();
  readonly seenIds = new Set<string>();
  readonly signatures: string[] = [];
  readonly #faults: number[] = [];
  #server: Server | null = null;
  #port = 0;
  readonly #verifier: Webhook;

  constructor(secret: string) {
    this.#verifier = new Webhook(secret);
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}/hooks`;
  }

  get readUrl(): string {
    return `http://127.0.0.1:${this.#port}/state`;
  }

  failNext(status: number, times: number): void {
    for (let index = 0; index < times; index += 1) this.#faults.push(status);
  }

  async start(): Promise<void> {
    this.#port = await freePort();
    this.#server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const fault = request.method === 'POST' ? this.#faults.shift() : undefined;
        if (fault !== undefined) {
          response.writeHead(fault).end();
          return;
        }
        if (request.method === 'GET' || request.method === 'HEAD') {
          const agentId = decodeURIComponent((request.url ?? '').replace(/^\/state\/?/, ''));
          const held = this.state.get(agentId);
          if (agentId === '' || request.method === 'HEAD') response.writeHead(204).end();
          else if (held === undefined) response.writeHead(404).end();
          else response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ tools: held.tools }));
          return;
        }
        const body = Buffer.concat(chunks).toString('utf8');
        const headers = {
          'webhook-id': String(request.headers['webhook-id'] ?? ''),
          'webhook-timestamp': String(request.headers['webhook-timestamp'] ?? ''),
          'webhook-signature': String(request.headers['webhook-signature'] ?? ''),
        };
        this.signatures.push(headers['webhook-signature']);
        let payload: { data: { agentId: string; version: number; effective: { toolId: string }[]; repair?: boolean } };
        try {
          payload = this.#verifier.verify(body, headers) as typeof payload;
        } catch {
          response.writeHead(400).end();
          return;
        }
        if (!this.seenIds.has(headers['webhook-id'])) {
          this.seenIds.add(headers['webhook-id']);
          const held = this.state.get(payload.data.agentId);
          if (held === undefined || payload.data.version > held.version || (payload.data.repair === true && payload.data.version >= held.version)) {
            this.state.set(payload.data.agentId, { version: payload.data.version, tools: payload.data.effective.map((item) => item.toolId).sort() });
          }
        }
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((done) => this.#server?.listen(this.#port, '127.0.0.1', done));
  }

  async stop(): Promise<void> {
    await new Promise<void>((done) => {
      this.#server?.close(() => done());
      this.#server?.closeAllConnections();
    });
  }
}
