import express, { Router, type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import { AppError, isAppError } from '../../domain/errors.js';
import { csrfToken, requireCsrf } from '../auth/csrf.js';
import { sessionTimeouts, startSession, endSession, POLL_HEADER } from '../auth/session.js';
import { fromExpressError } from '../express-errors.js';
import { SCRIPT, STYLESHEET } from './assets.js';
import type { Html } from './html.js';
import { page, publicPage, type PageContext } from './layout.js';
import { errorBody, notConfiguredBody, signedOutBody } from './pages/messages.js';
import type { UiDeps } from './deps.js';
import { safeReturnPath } from './guards.js';
import { uiPages } from './pages-routes.js';
import { markBoardPolls, queuesBoard } from './queues-routes.js';



function securityHeaders(formOrigins: readonly string[]): RequestHandler {
  const formAction = ["'self'", ...formOrigins].join(' ');
  const policy = `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`;
  return (_request, response, next) => {
    response.setHeader('Content-Security-Policy', policy);
    response.setHeader('X-Frame-Options', 'DENY');
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('Referrer-Policy', 'same-origin');
    response.setHeader('Cache-Control', 'no-store');
    next();
  };
}

function send(response: Response, status: number, body: Html): void {
  response.status(status).type('html').send(body.value);
}

function sendStatic(router: Router): void {
  router.get('/static/app.css', (_request, response) => {
    response.setHeader('Cache-Control', 'public, max-age=300');
    response.type('text/css').send(STYLESHEET);
  });
  router.get('/static/app.js', (_request, response) => {
    response.setHeader('Cache-Control', 'public, max-age=300');
    response.type('text/javascript').send(SCRIPT);
  });
}

/** The dashboard for an instance without `admin.saml`: a page that says how to turn it on. */
export function disabledUiRouter(): Router {
  const router = Router();
  router.use(securityHeaders([]));
  sendStatic(router);
  router.use((_request, response) => send(response, 404, publicPage('Dashboard not configured', notConfiguredBody())));
  return router;
}

const actorOf = (request: Request) => `saml:${request.session.user?.nameId ?? 'unknown'}`;

/** Signed-in users only: a page view goes to sign-in (and back afterwards); anything else gets 401. */
function requireUser(): RequestHandler {
  return (request, response, next) => {
    if (request.session.user !== undefined) {
      next();
      return;
    }
    if (request.method === 'GET' && request.get(POLL_HEADER) === undefined) {
      const back = safeReturnPath(request.originalUrl);
      response.redirect(303, `/ui/login${back === null ? '' : `?RelayState=${encodeURIComponent(back)}`}`);
      return;
    }
    send(response, 401, publicPage('Signed out', errorBody('Your session has ended. Sign in again.', request.id, true)));
  };
}


export function pageContext(request: Request): PageContext {
  const user = request.session.user;
  if (user === undefined) throw new AppError('unauthenticated', 'no session');
  return { user, csrf: csrfToken(request) };
}

function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, request, response, _next) => {
    const appError = isAppError(error) ? error : fromExpressError(error);
    if (appError === null || appError.code === 'internal') {
      logger.error({ err: error, requestId: request.id }, 'unexpected error in dashboard request');
      send(response, 500, publicPage('Something went wrong', errorBody('Tether could not complete this request.', request.id, false)));
      return;
    }
    const body = errorBody(appError.detail ?? appError.message, request.id, appError.code === 'unauthenticated');
    const title = appError.code === 'forbidden' ? 'Not allowed' : appError.code === 'not_found' ? 'Not found' : 'Request refused';
    send(response, appError.status, request.session?.user === undefined ? publicPage(title, body) : page(pageContext(request), title, null, body));
  };
}

/** The dashboard at /ui: SAML sign-in, server-rendered pages, CSRF-protected actions, role checks. */
export function uiRouter(deps: UiDeps): Router {
  const router = Router();
  router.use(securityHeaders(deps.formOrigins));
  sendStatic(router);
  router.get('/saml/metadata', (_request, response) => {
    response.type('application/samlmetadata+xml').send(deps.saml.metadata);
  });
  router.use(deps.session.middleware);
  router.use(markBoardPolls(POLL_HEADER));
  router.use(sessionTimeouts(deps.session, () => deps.clock().getTime()));

  // Authenticated by the IdP's signature and the one-time InResponseTo, not by the (absent) session cookie.
  router.post('/saml/acs', express.urlencoded({ extended: false, limit: '1mb', parameterLimit: 10 }), async (request, response) => {
    const result = await deps.saml.consume(request, response);
    if (!result.ok) {
      await deps.audit({ at: deps.clock(), actor: 'saml:unknown', action: 'ui.login_failed', subjectType: 'admin_session', subjectId: null, detail: { reason: result.reason, requestId: request.id } });
      deps.logger.warn({ requestId: request.id, reason: result.reason }, 'dashboard sign-in refused');
      const message = result.status === 403
        ? 'You signed in, but none of your groups gives access to Tether. Ask an administrator to add you to a mapped group.'
        : 'The sign-in response from your identity provider could not be accepted.';
      send(response, result.status, publicPage('Sign-in failed', errorBody(message, request.id, true)));
      return;
    }
    await startSession(request, result.user, deps.clock().getTime());
    await deps.audit({ at: deps.clock(), actor: `saml:${result.user.nameId}`, action: 'ui.login', subjectType: 'admin_session', subjectId: null, detail: { role: result.user.role, requestId: request.id } });
    response.redirect(303, safeReturnPath(result.relayState) ?? '/ui');
  });
  router.get('/saml/slo', async (request, response) => {
    const ok = await deps.saml.logoutReturn(request, response);
    if (response.headersSent) return;
    send(response, ok ? 200 : 400, publicPage(ok ? 'Signed out' : 'Sign-out not confirmed', ok ? signedOutBody() : errorBody('The identity provider did not confirm the sign-out. Your Tether session has ended.', request.id, true)));
  });
  router.get('/login', (request, response, next) => {
    if (request.session.user !== undefined) {
      response.redirect(303, safeReturnPath(request.query['RelayState']) ?? '/ui');
      return;
    }
    if (request.query['RelayState'] !== undefined && safeReturnPath(request.query['RelayState']) === null) {
      response.redirect(303, '/ui/login');
      return;
    }
    deps.saml.login(request, response, next);
  });
  router.get('/signed-out', (_request, response) => send(response, 200, publicPage('Signed out', signedOutBody())));

  router.use(express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 50 }));
  router.use(requireCsrf(deps.publicOrigin, (request, _response, next) => {
    deps.logger.warn({ requestId: request.id }, 'dashboard request without a valid CSRF token refused');
    next(new AppError('forbidden', 'csrf', { detail: 'This form has expired or did not come from Tether. Reload the page and try again.' }));
  }));
  router.post('/logout', async (request, response) => {
    const user = request.session.user;
    if (user === undefined) {
      response.redirect(303, '/ui/signed-out');
      return;
    }
    const idpLogout = await deps.saml.logoutUrl(request, user).catch((error: unknown) => {
      deps.logger.warn({ err: error, requestId: request.id }, 'could not build the SAML logout request; signing out locally');
      return null;
    });
    await deps.audit({ at: deps.clock(), actor: actorOf(request), action: 'ui.logout', subjectType: 'admin_session', subjectId: null, detail: { singleLogout: idpLogout !== null, requestId: request.id } });
    await endSession(request);
    response.redirect(303, idpLogout ?? '/ui/signed-out');
  });

  router.use(requireUser());
  // Queue internals (bull-board), read-only, for every signed-in role.
  if (deps.boardQueues !== undefined) router.use(queuesBoard(deps.boardQueues));
  router.use(uiPages({ ...deps, actorOf, render: (request, title, nav, body) => page(pageContext(request), title, nav, body) }));
  router.use((request, _response, next) => {
    next(new AppError('not_found', 'no such page', { detail: `No page ${request.baseUrl}${request.path}` }));
  });
  router.use(errorHandler(deps.logger));
  return router;
}
