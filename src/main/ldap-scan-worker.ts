/**
 * The worker thread of a full directory scan: it reads the LDAP pages (ldapts' BER decoding), maps each
 * entry to facts and hashes them, which is most of a full reconciliation's CPU. The run's thread then only
 * compares keys and hashes with the mirror (one statement per page), so the two halves use two cores.
 */
import { randomUUID } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { createLdapScanner } from '../../connectors/ldap/scanner.js';
import { fullScanHash } from '../app/directory/ldap-facts-hash.js';
// secret.ts, not secrets.ts: the thread does not need zod (about 0.1 s of thread start and 10 MB).
import { Secret } from '../config/secret.js';
import { isAppError } from '../domain/errors.js';
import type { ScanReply, ScanRequest, WireConfig } from './ldap-scan-protocol.js';

const port = parentPort;
if (port === null) throw new Error('ldap-scan-worker runs as a worker thread');
const { bindPassword, caCertificate, ...settings } = (workerData as { config: WireConfig }).config;
const scanner = createLdapScanner({
  ...settings,
  bindPassword: new Secret(bindPassword.value, bindPassword.reference),
  ...(caCertificate === undefined ? {} : { caCertificate: new Secret(caCertificate.value, caCertificate.reference) }),
}, { clock: () => new Date() });

type Prepared = { readonly reply: ScanReply; readonly facts: ReadonlyMap<string, object> };

let pages: AsyncIterator<readonly object[]> | null = null;
/** One per scan: see fullScanHash. */
let nonce = '';
/** The page prepared ahead of the run's next request. */
let ahead: Promise<Prepared> | null = null;
/** The facts of the page last sent, until the next one is: the run asks for those it stages. */
let sent: ReadonlyMap<string, object> = new Map();
const NOTHING: ReadonlyMap<string, object> = new Map();

async function prepare(): Promise<Prepared> {
  try {
    const next = await pages?.next();
    if (next === undefined || next.done === true) return { reply: { kind: 'done' }, facts: NOTHING };
    const reply = { kind: 'page' as const, keys: [] as string[], hashes: [] as string[], actives: [] as (boolean | null)[] };
    const facts = new Map<string, object>();
    for (const item of next.value as readonly { key: string; active?: boolean }[]) {
      reply.keys.push(item.key);
      reply.hashes.push(fullScanHash(item, nonce));
      reply.actives.push(item.active ?? null);
      facts.set(item.key, item);
    }
    return { reply, facts };
  } catch (error) {
    if (isAppError(error)) return { reply: { kind: 'error', code: error.code, message: error.message, ...(error.detail === undefined ? {} : { detail: error.detail }) }, facts: NOTHING };
    return { reply: { kind: 'error', code: 'internal', message: error instanceof Error ? error.message : String(error) }, facts: NOTHING };
  }
}

async function handle(request: ScanRequest): Promise<void> {
  if (request.op === 'scan') {
    pages = scanner.scan(request.type, { since: null })[Symbol.asyncIterator]();
    nonce = randomUUID();
    ahead = prepare();
    return;
  }
  if (request.op === 'next') {
    const { reply, facts } = await (ahead ?? Promise.resolve<Prepared>({ reply: { kind: 'done' }, facts: NOTHING }));
    sent = facts;
    ahead = reply.kind === 'page' ? prepare() : null;
    port?.postMessage(reply);
    return;
  }
  if (request.op === 'facts') {
    port?.postMessage({ kind: 'facts', json: request.keys.map((key) => JSON.stringify(sent.get(key) ?? null)) } satisfies ScanReply);
    return;
  }
  const stopping = pages;
  pages = null;
  ahead = null;
  sent = NOTHING;
  await stopping?.return?.();
  if (request.op === 'release') await scanner.close();
  port?.postMessage({ kind: 'done' } satisfies ScanReply);
}

// Requests are handled one at a time, in order: the run waits for each reply before its next request.
let queue: Promise<void> = Promise.resolve();
port.on('message', (request: ScanRequest) => {
  queue = queue.then(() => handle(request));
});
port.on('close', () => void scanner.close());
