import { AppError, type ErrorCode } from '../domain/errors.js';

/**
 * The CLI's one way to a running Tether: the admin API at TETHER_URL (default http://127.0.0.1:8080) with
 * the admin API token in TETHER_TOKEN. Problem JSON answers become AppErrors with the code the status
 * stands for, so `tether` prints the server's own detail and exits as main.ts maps that code.
 */
export interface ApiCall {
  readonly method?: 'GET' | 'POST';
  readonly body?: unknown;
  /** Long operations (a drift check reads every agent back from the target) get more than the default 15 s. */
  readonly timeoutMs?: number;
}

const CODE_FOR_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'invalid_input', 401: 'unauthenticated', 403: 'forbidden', 404: 'not_found', 409: 'conflict', 412: 'precondition_failed',
  413: 'payload_too_large', 415: 'unsupported_media_type', 429: 'rate_limited', 501: 'not_implemented',
};

/** The raw response (for streamed answers such as the audit export); non-2xx answers throw. */
export async function apiResponse(path: string, call: ApiCall = {}): Promise<Response> {
  const base = process.env['TETHER_URL'] ?? 'http://127.0.0.1:8080';
  const token = process.env['TETHER_TOKEN'];
  if (token === undefined || token === '') throw new AppError('invalid_config', 'set TETHER_TOKEN to an admin API token');
  let response: Response;
  try {
    response = await fetch(new URL(`/api/v1${path}`, base), {
      method: call.method ?? 'GET',
      headers: { authorization: `Bearer ${token}`, ...(call.body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
      signal: AbortSignal.timeout(call.timeoutMs ?? 15_000),
    });
  } catch {
    throw new AppError('unavailable', `cannot reach Tether at ${base} (TETHER_URL)`);
  }
  if (!response.ok) {
    const problem = (await response.json().catch(() => null)) as { detail?: string } | null;
    const code = CODE_FOR_STATUS[response.status] ?? 'unavailable';
    throw new AppError(code, `HTTP ${response.status}: ${problem?.detail ?? 'request failed'}`);
  }
  return response;
}

/** One admin API call answering its parsed JSON body (null for an empty answer). */
export async function callApi(path: string, call: ApiCall = {}): Promise<unknown> {
  const response = await apiResponse(path, call);
  return response.json().catch(() => null);
}
