import { createServer, type Server } from 'node:http';
import { freePort } from '../../../support/ports.js';

interface TupleKey { user: string; relation: string; object: string }

/**
 * A small fake of OpenFGA's tuple endpoints (no OpenFGA server can run here): GET /stores/{id},
 * POST /stores/{id}/write (writes/deletes with on_duplicate / on_missing, at most 100 changes, 400 on
 * a duplicate write or a missing delete unless ignored) and POST /stores/{id}/read (filter + pagination),
 * with the status codes and bodies of the OpenFGA HTTP API. It checks the bearer token when given one.
 */
export class FakeOpenFga {
  readonly tuples = new Map<string, TupleKey>();
  readonly writeBodies: unknown[] = [];
  readonly #faults: number[] = [];
  #server: Server | null = null;
  #port = 0;

  constructor(readonly storeId: string, private readonly token: string | null = null) {}

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  failNext(status: number, times: number): void {
    for (let index = 0; index < times; index += 1) this.#faults.push(status);
  }

  add(key: TupleKey): void {
    this.tuples.set(keyOf(key), key);
  }

  async start(): Promise<void> {
    this.#port = await freePort();
    this.#server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const send = (status: number, body: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        const fault = this.#faults.shift();
        if (fault !== undefined) return send(fault, { code: fault === 429 ? 'rate_limit_exceeded' : 'internal_error', message: 'injected' });
        if (this.token !== null && request.headers.authorization !== `Bearer ${this.token}`) return send(401, { code: 'unauthenticated', message: 'unauthenticated' });
        const path = (request.url ?? '').split('?')[0] ?? '';
        if (!path.startsWith(`/stores/${this.storeId}`)) return send(404, { code: 'store_id_not_found', message: 'store not found' });
        const body = chunks.length === 0 ? {} : (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, any>);
        if (request.method === 'GET' && path === `/stores/${this.storeId}`) return send(200, { id: this.storeId, name: 'tether-test', created_at: new Date().toISOString(), updated_at: new Date().toISOString() });
        if (request.method === 'POST' && path.endsWith('/write')) return this.#write(body, send);
        if (request.method === 'POST' && path.endsWith('/read')) return this.#read(body, send);
        return send(404, { code: 'undefined_endpoint', message: 'not found' });
      });
    });
    await new Promise<void>((done) => this.#server?.listen(this.#port, '127.0.0.1', done));
  }

  #write(body: Record<string, any>, send: (status: number, body: unknown) => void): void {
    this.writeBodies.push(body);
    const writes: TupleKey[] = body['writes']?.tuple_keys ?? [];
    const deletes: TupleKey[] = body['deletes']?.tuple_keys ?? [];
    if (writes.length + deletes.length > 100) return send(400, { code: 'exceeded_entity_limit', message: 'at most 100 tuples per write' });
    for (const key of writes) {
      if (this.tuples.has(keyOf(key)) && body['writes']?.on_duplicate !== 'ignore') return send(400, { code: 'write_failed_due_to_invalid_input', message: 'cannot write a tuple which already exists' });
    }
    for (const key of deletes) {
      if (!this.tuples.has(keyOf(key)) && body['deletes']?.on_missing !== 'ignore') return send(400, { code: 'write_failed_due_to_invalid_input', message: 'cannot delete a tuple which does not exist' });
    }
    for (const key of deletes) this.tuples.delete(keyOf(key));
    for (const key of writes) this.add({ user: key.user, relation: key.relation, object: key.object });
    return send(200, {});
  }

  #read(body: Record<string, any>, send: (status: number, body: unknown) => void): void {
    const filter: Partial<TupleKey> = body['tuple_key'] ?? {};
    const matches = [...this.tuples.values()].filter((key) =>
      (filter.user === undefined || key.user === filter.user)
      && (filter.relation === undefined || key.relation === filter.relation)
      && (filter.object === undefined || (filter.object.endsWith(':') ? key.object.startsWith(filter.object) : key.object === filter.object)),
    ).sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
    const offset = Number(body['continuation_token'] === undefined || body['continuation_token'] === '' ? 0 : body['continuation_token']);
    const size = Number(body['page_size'] ?? 50);
    const page = matches.slice(offset, offset + size);
    const next = offset + size < matches.length ? String(offset + size) : '';
    return send(200, { tuples: page.map((key) => ({ key, timestamp: new Date().toISOString() })), continuation_token: next });
  }

  async stop(): Promise<void> {
    await new Promise<void>((done) => {
      this.#server?.close(() => done());
      this.#server?.closeAllConnections();
    });
  }
}

function keyOf(key: TupleKey): string {
  return `${key.user}#${key.relation}@${key.object}`;
}
