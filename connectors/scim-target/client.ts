import { AppError } from '../../src/domain/errors.js';
import { statusError, targetFetch } from '../shared/http.js';
import type { ScimTargetConfig } from './config.js';

export interface ScimClientDeps {
  readonly fetch: typeof fetch;
  readonly clock: () => Date;
}

export interface ScimResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown> | null;
}

/**
 * SCIM over HTTP for one target: bearer or OAuth2 client-credentials tokens (cached until shortly before they
 * expire, fetched again once on a 401), JSON in and out, every failure mapped to a retryable or permanent AppError.
 */
export function createScimClient(config: ScimTargetConfig, deps: ScimClientDeps) {
  const settings = { ...config, kind: 'scim' };
  let cached: { token: string; until: number } | null = null;

  async function fetchToken(): Promise<string> {
    if (config.auth.type === 'bearer') return config.auth.token.reveal();
    if (cached !== null && cached.until > deps.clock().getTime()) return cached.token;
    const { tokenUrl, clientId, clientSecret, scope } = config.auth;
    const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret.reveal())}`).toString('base64');
    const form = new URLSearchParams({ grant_type: 'client_credentials', ...(scope === undefined ? {} : { scope }) });
    const response = await targetFetch(deps.fetch, settings, tokenUrl, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
    });
    if (response.status !== 200) throw statusError(settings, response.status, response.headers, deps.clock(), 'token endpoint');
    const parsed = parseJson(response.text) as { access_token?: unknown; expires_in?: unknown } | null;
    if (typeof parsed?.access_token !== 'string') throw new AppError('target_rejected', `scim ${config.id}: token endpoint sent no access_token`);
    const lifetime = typeof parsed.expires_in === 'number' ? parsed.expires_in : 300;
    cached = { token: parsed.access_token, until: deps.clock().getTime() + Math.max(0, lifetime - 30) * 1000 };
    return cached.token;
  }

  async function send(method: string, path: string, body: unknown, retried: boolean): Promise<ScimResponse> {
    const token = await fetchToken();
    const response = await targetFetch(deps.fetch, settings, `${config.baseUrl.replace(/\/$/, '')}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/scim+json, application/json',
        'user-agent': 'Tether-SCIM/1',
        ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (response.status === 401 && config.auth.type === 'oauth2' && !retried) {
      cached = null;
      return send(method, path, body, true);
    }
    return { status: response.status, headers: response.headers, body: parseJson(response.text) as Record<string, unknown> | null };
  }

  return {
    /** Sends one request; statuses in `accept` are returned, any other is an AppError. */
    async request(method: string, path: string, body?: unknown, accept: readonly number[] = [200, 201, 204]): Promise<ScimResponse> {
      const response = await send(method, path, body, false);
      if (accept.includes(response.status)) return response;
      const detail = typeof response.body?.['detail'] === 'string' ? response.body['detail'].slice(0, 200) : '';
      throw statusError(settings, response.status, response.headers, deps.clock(), `${method} ${path.split('?')[0] ?? ''}${detail === '' ? '' : `: ${detail}`}`);
    },
  };
}

export type ScimClient = ReturnType<typeof createScimClient>;

function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
