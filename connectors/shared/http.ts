import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { AppError } from '../../src/domain/errors.js';

/** Outbound HTTP settings every HTTP target shares (webhook, SCIM, OpenFGA). */
export interface HttpTargetSettings {
  readonly id: string;
  readonly kind: string;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  /** Loopback, link-local and private addresses are refused unless this is set (docs/targets.md). */
  readonly allowPrivateNetwork: boolean;
}

/**
 * Refuses destinations in loopback, link-local (incl. cloud metadata 169.254.169.254), private, CGNAT,
 * unique-local or unspecified ranges, so a target URL cannot be used to reach internal services. Every
 * address the name resolves to is checked.
 */
export async function assertPublicDestination(url: URL, settings: HttpTargetSettings): Promise<void> {
  if (settings.allowPrivateNetwork) return;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host) !== 0 ? [host] : (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);
  } catch (error) {
    throw new AppError('target_unavailable', `${settings.kind} ${settings.id}: cannot resolve ${host}`, { cause: error });
  }
  const blocked = addresses.find(isPrivateAddress);
  if (blocked !== undefined) {
    throw new AppError('target_rejected', `${settings.kind} ${settings.id}: refusing private address ${blocked} (set allowPrivateNetwork: true to allow)`, {
      meta: { address: blocked },
    });
  }
}

export function isPrivateAddress(address: string): boolean {
  if (isIP(address) === 4) return isPrivateV4(address);
  const lower = address.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped?.[1] !== undefined) return isPrivateV4(mapped[1]);
  return lower === '::' || lower === '::1' || /^f[cd]/.test(lower) || /^fe[89ab]/.test(lower);
}

function isPrivateV4(address: string): boolean {
  const [a = 0, b = 0] = address.split('.').map(Number);
  return a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
}

/**
 * One HTTP exchange with a target: destination check, timeout, no redirects (a redirect could lead to a
 * private address), a bounded response body. TLS verification is Node's default and cannot be turned off.
 */
export async function targetFetch(
  fetcher: typeof fetch,
  settings: HttpTargetSettings,
  url: string,
  init: RequestInit,
): Promise<{ status: number; headers: Headers; text: string }> {
  await assertPublicDestination(new URL(url), settings);
  let response: Response;
  try {
    response = await fetcher(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(settings.timeoutMs) });
  } catch (error) {
    throw new AppError('target_unavailable', `${settings.kind} ${settings.id}: ${describeNetworkError(error)}`, { cause: error });
  }
  const text = await readBounded(response, settings.maxResponseBytes);
  return { status: response.status, headers: response.headers, text };
}

/** 408, 425, 429 and 5xx are worth retrying (honouring Retry-After); any other non-2xx is permanent. */
export function statusError(settings: HttpTargetSettings, status: number, headers: Headers, now: Date, what = ''): AppError {
  const retryAfter = parseRetryAfter(headers.get('retry-after'), now);
  const retryable = status === 408 || status === 425 || status === 429 || status >= 500;
  return new AppError(retryable ? 'target_unavailable' : 'target_rejected', `${settings.kind} ${settings.id}: HTTP ${status}${what === '' ? '' : ` (${what})`}`, {
    meta: { status },
    ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
  });
}

export function describeNetworkError(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'timed out';
  const cause = (error as { cause?: { code?: unknown } }).cause;
  return typeof cause?.code === 'string' ? cause.code : 'network error';
}

/** Reads at most `limit` bytes; the rest is discarded so a misbehaving target cannot exhaust memory. */
export async function readBounded(response: Response, limit: number): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let read = 0;
  try {
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      const bytes = chunk.value as Uint8Array;
      read += bytes.byteLength;
      if (read > limit) {
        await reader.cancel();
        break;
      }
      chunks.push(bytes);
    }
  } catch {
    // A broken body after the status line does not change the outcome.
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Retry-After as delta-seconds or an HTTP date (RFC 9110 §10.2.3), in seconds from now. */
export function parseRetryAfter(header: string | null, now: Date): number | undefined {
  if (header === null) return undefined;
  if (/^\d+$/.test(header.trim())) return Number.parseInt(header.trim(), 10);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now.getTime()) / 1000));
}

/** Settings fields shared by HTTP target schemas (see each connector's config.ts). */
export const HTTP_DEFAULTS = { timeoutMs: 10_000, maxResponseBytes: 1_048_576 } as const;
