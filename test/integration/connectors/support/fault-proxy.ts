import { createServer, type Server } from 'node:http';
import { freePort } from '../../../support/ports.js';

/**
 * A reverse proxy in front of a real target that can be told to fail the next requests, so retries and dead
 * letters are exercised against the real service behind it.
 */
export class FaultProxy {
  readonly #faults: { status: number; headers: Record<string, string> }[] = [];
  #server: Server | null = null;
  #port = 0;

  constructor(private readonly upstream: string) {}

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  failNext(status: number, times: number, headers: Record<string, string> = {}): void {
    for (let index = 0; index < times; index += 1) this.#faults.push({ status, headers });
  }

  async start(): Promise<void> {
    this.#port = await freePort();
    this.#server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const fault = this.#faults.shift();
        if (fault !== undefined) {
          response.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers }).end('{"detail":"injected failure"}');
          return;
        }
        const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => !['host', 'connection', 'content-length'].includes(name)).map(([name, value]) => [name, String(value)]));
        const body = chunks.length === 0 ? undefined : Buffer.concat(chunks);
        fetch(`${this.upstream}${request.url ?? '/'}`, { method: request.method ?? 'GET', headers, ...(body === undefined ? {} : { body }) })
          .then(async (upstream) => {
            const text = Buffer.from(await upstream.arrayBuffer());
            const forwarded: Record<string, string> = {};
            upstream.headers.forEach((value, name) => {
              if (!['content-length', 'transfer-encoding', 'connection', 'content-encoding'].includes(name)) forwarded[name] = value;
            });
            response.writeHead(upstream.status, forwarded).end(text);
          })
          .catch(() => response.writeHead(502).end());
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
