import { randomUUID } from 'node:crypto';
import express, { type Express, type RequestHandler } from 'express';
import type { Logger } from 'pino';
import { apiRouter } from './api/router.js';
import type { ApiDeps } from './api/routes.js';
import type { Authenticate } from './auth/bearer.js';
import { OAUTH_TOKEN_PATHS, oauthTokenRouter } from './auth/oauth-token.js';
import './request-context.js';
import { scimRouter, type ScimDeps } from './scim/router.js';
import { SCIM_MOUNT, scimUrlForms } from './scim/url-forms.js';
import type { UiDeps } from './ui/deps.js';
import { disabledUiRouter, uiRouter } from './ui/router.js';

export interface Readiness {
  /** Each dependency: 'ok' or a short reason (never a connection string). */
  (): Promise<Record<string, string>>;
}

export interface HttpAppDeps {
  readonly logger: Logger;
  readonly authenticate: Authenticate;
  readonly scim: Omit<ScimDeps, 'authenticate' | 'logger' | 'maxBodyBytes'>;
  readonly api: ApiDeps;
  readonly readiness: Readiness;
  readonly metrics: { readonly contentType: string; render(): Promise<string> };
  readonly observeHttp: (method: string, route: string, status: number, seconds: number) => void;
  readonly trustProxy: boolean;
  readonly version: string;
  readonly maxBodyBytes?: number;
  /** The dashboard at /ui (SAML sign-in); null shows how to configure it. It reads through `api`. */
  readonly ui?: Omit<UiDeps, 'api' | 'logger'> | null;
}

/** Request id, receive time, and one structured log line per request (path only: queries may hold names). */
function requestContext(logger: Logger, observe: HttpAppDeps['observeHttp']): RequestHandler {
  return (request, response, next) => {
    const started = process.hrtime.bigint();
    request.receivedAt = new Date();
    const incoming = request.get('x-request-id');
    request.id = incoming !== undefined && /^[A-Za-z0-9._-]{1,128}$/.test(incoming) ? incoming : randomUUID();
    response.setHeader('X-Request-Id', request.id);
    response.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeLabel(request.baseUrl, request.route as { path?: unknown } | undefined);
      observe(request.method, route, response.statusCode, seconds);
      const level = response.statusCode >= 500 ? 'error' : 'info';
      logger[level]({ requestId: request.id, method: request.method, route, status: response.statusCode, ms: Math.round(seconds * 1000) }, 'request');
    });
    next();
  };
}

/** Low-cardinality route label for metrics: the matched pattern, never raw ids. */
function routeLabel(baseUrl: string, route: { path?: unknown } | undefined): string {
  const base = baseUrl.replace(/\/[0-9a-f-]{36}/gi, '/:id');
  return typeof route?.path === 'string' ? `${base}${route.path}` : base === '' ? 'unmatched' : `${base}/*`;
}

export function createHttpApp(deps: HttpAppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy);
  app.set('etag', false);
  app.use(requestContext(deps.logger, deps.observeHttp));
  // Before the SCIM URL forms: `/ui/agents` would otherwise read as the scimgateway form `/{baseEntity}/Agents`.
  app.use('/ui', deps.ui === undefined || deps.ui === null ? disabledUiRouter() : uiRouter({ ...deps.ui, api: deps.api, logger: deps.logger }));
  app.use(scimUrlForms());

  const maxBodyBytes = deps.maxBodyBytes ?? 1_048_576;
  const scim = scimRouter({ ...deps.scim, authenticate: deps.authenticate, logger: deps.logger, maxBodyBytes });
  // Before the SCIM mount: the token endpoint authenticates OAuth2 clients, not SCIM callers.
  app.use(OAUTH_TOKEN_PATHS, oauthTokenRouter(deps.scim.scimAuth));
  app.use(SCIM_MOUNT, scim);
  app.use('/api/v1', apiRouter({ ...deps.api, authenticate: deps.authenticate, logger: deps.logger, version: deps.version, maxBodyBytes }));
  // After the SCIM and API mounts, which serve nearly every request: each layer before them is tried in turn.
  app.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });
  app.get('/readyz', async (_request, response) => {
    const checks = await deps.readiness();
    const ready = Object.values(checks).every((value) => value === 'ok');
    response.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });
  app.get('/metrics', async (_request, response) => {
    response.type(deps.metrics.contentType).send(await deps.metrics.render());
  });
  app.use((request, response) => {
    response.status(404).json({ status: 404, detail: `No route ${request.method} ${request.path}` });
  });
  return app;
}
