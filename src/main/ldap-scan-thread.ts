/**
 * A DirectoryScanner whose full scans run on a worker thread (ldap-scan-worker.ts): decoding, mapping and
 * hashing 100,000 entries is seconds of CPU, which on the run's thread would serialise with the database
 * round trips and with everything else the process serves. Delta polls, key scans and checks stay on the
 * run's thread (small, and latency-bound: a thread start would cost more than it saves).
 *
 * The process keeps one thread per source between runs (`createScanThreads`): a new thread starts with
 * cold code, and V8 compiling the decoder, mapping and hashing again cost about half a second of every full
 * scan of 100,000 entries on the benchmark machine (2.85 s on a fresh thread, 2.3 s on a kept one). Between
 * runs the thread holds no LDAP connection and no entries, only its compiled code and a small heap.
 */
import { Worker } from 'node:worker_threads';
import type { LdapSourceConfig } from '../../connectors/ldap/config.js';
import type { DirectoryScanner, HashedPage, ObjectType } from '../app/directory/sync-ports.js';
import { AppError, ERROR_CODES, type ErrorCode } from '../domain/errors.js';
import { toWire, type ScanReply, type ScanRequest } from './ldap-scan-protocol.js';

/**
 * The worker's script. Built (dist/), it is the compiled file. Under tsx or vitest (TypeScript source), a
 * worker does not inherit the parent's loader, so a small bootstrap registers tsx first, then imports it.
 */
function startWorker(workerData: unknown): Worker {
  // The worker holds at most two pages; the rest is short-lived garbage (decoded entries). Left to V8's
  // defaults its heap grows far beyond that between collections and adds tens of MB to the process's peak
  // RSS (the bound is 300 MB for the whole process). The old-generation cap still leaves room for a
  // page with a group of a few hundred thousand member DNs; beyond it the run fails with a clear error.
  const resourceLimits = { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 64 };
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./ldap-scan-worker.js', import.meta.url), { workerData, resourceLimits });
  const source = new URL('./ldap-scan-worker.ts', import.meta.url).href;
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(source)}); })`;
  return new Worker(bootstrap, { eval: true, workerData, resourceLimits });
}

/** One worker, asked one request at a time; replies come back in order. */
class ScanThread {
  readonly #worker: Worker;
  readonly #waiting: { resolve: (reply: ScanReply) => void; reject: (error: Error) => void }[] = [];
  #failure: Error | null = null;

  constructor(config: LdapSourceConfig) {
    this.#worker = startWorker({ config: toWire(config) });
    this.#worker.on('message', (reply: ScanReply) => this.#waiting.shift()?.resolve(reply));
    this.#worker.on('error', (error) => this.#fail(new AppError('internal', `LDAP scan thread failed: ${error.message}${
      (error as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY' ? ' (one page outgrew the thread\'s 64 MB heap: a group with hundreds of thousands of members, or a very large pageSize)' : ''}`, { cause: error })));
    this.#worker.on('exit', (code) => this.#fail(new AppError('internal', `LDAP scan thread exited (code ${code})`)));
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const waiter of this.#waiting.splice(0)) waiter.reject(error);
  }

  /** False once the thread failed or was closed: it is then never handed out again. */
  get usable(): boolean {
    return this.#failure === null;
  }

  post(request: ScanRequest): void {
    if (this.#failure !== null) throw this.#failure;
    this.#worker.postMessage(request);
  }

  ask(request: ScanRequest): Promise<ScanReply> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#worker.postMessage(request);
    });
  }

  async terminate(): Promise<void> {
    this.#failure ??= new AppError('internal', 'LDAP scan thread closed');
    await this.#worker.terminate();
  }
}

function toAppError(reply: Extract<ScanReply, { kind: 'error' }>): AppError {
  const code: ErrorCode = Object.hasOwn(ERROR_CODES, reply.code) ? (reply.code as ErrorCode) : 'internal';
  return new AppError(code, reply.message, reply.detail === undefined ? {} : { detail: reply.detail });
}

/** Hands out one thread per source at a time, and keeps one idle thread per source between runs. */
export interface ScanThreads {
  /** `scanner` with `scanHashed` served by this source's kept thread; its `close` returns the thread. */
  scanner(config: LdapSourceConfig, scanner: DirectoryScanner): DirectoryScanner;
  /** Threads started so far (a kept thread is reused, so this grows only with concurrent or failed runs). */
  readonly started: number;
  /** Ends every kept thread (process shutdown). */
  close(): Promise<void>;
}

export function createScanThreads(): ScanThreads {
  const idle = new Map<string, ScanThread>();
  let closed = false;
  let started = 0;
  const take = (config: LdapSourceConfig): ScanThread => {
    const kept = idle.get(config.id);
    idle.delete(config.id);
    if (kept?.usable === true) return kept;
    // Two runs of one source at once do not happen (the run lease), but a second one gets its own thread.
    started += 1;
    return new ScanThread(config);
  };
  const give = async (config: LdapSourceConfig, thread: ScanThread): Promise<void> => {
    // The thread closes its LDAP connection: a connection idle for hours would be dropped by the server or
    // a firewall anyway, and the next run binds again (one round trip).
    const released = thread.usable && (await thread.ask({ op: 'release' }).then((reply) => reply.kind === 'done', () => false));
    if (released && !closed && !idle.has(config.id)) idle.set(config.id, thread);
    else await thread.terminate();
  };
  return {
    get started() {
      return started;
    },
    scanner: (config, scanner) => threadedScanner(scanner, () => take(config), (thread) => give(config, thread)),
    async close() {
      closed = true;
      const threads = [...idle.values()];
      idle.clear();
      await Promise.all(threads.map((thread) => thread.terminate()));
    },
  };
}

/** `scanner` with `scanHashed` served by a thread of its own, started on first use and ended by `close`. */
export function withScanThread(config: LdapSourceConfig, scanner: DirectoryScanner): DirectoryScanner {
  return threadedScanner(scanner, () => new ScanThread(config), (thread) => thread.terminate());
}

function threadedScanner(scanner: DirectoryScanner, take: () => ScanThread, give: (thread: ScanThread) => Promise<void>): DirectoryScanner {
  let thread: ScanThread | null = null;
  return {
    ...scanner,

    async *scanHashed(type: ObjectType): AsyncIterable<HashedPage> {
      thread ??= take();
      const current = thread;
      current.post({ op: 'scan', type });
      let finished = false;
      try {
        for (;;) {
          const reply = await current.ask({ op: 'next' });
          if (reply.kind === 'done') {
            finished = true;
            return;
          }
          if (reply.kind === 'error') {
            finished = true;
            throw toAppError(reply);
          }
          if (reply.kind !== 'page') throw new AppError('internal', `LDAP scan thread answered ${reply.kind} to a page request`);
          yield {
            entries: reply.keys.map((key, index) => ({ key, hash: reply.hashes[index] ?? '', active: reply.actives[index] ?? null })),
            facts: async (keys: readonly string[]) => {
              if (keys.length === 0) return [];
              const answer = await current.ask({ op: 'facts', keys });
              if (answer.kind !== 'facts') throw new AppError('internal', `LDAP scan thread answered ${answer.kind} to a facts request`);
              return answer.json.map((text) => (JSON.parse(text) ?? {}) as Readonly<Record<string, unknown>>);
            },
          };
        }
      } finally {
        // The run stopped early (a failure, a held run): end the worker's search before the next one.
        if (!finished) await current.ask({ op: 'stop' }).catch(() => undefined);
      }
    },

    async close() {
      const current = thread;
      thread = null;
      await Promise.all([scanner.close(), current === null ? undefined : give(current)]);
    },
  };
}
