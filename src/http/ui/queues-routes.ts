import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Router, type Express, type RequestHandler } from 'express';
import { AppError } from '../../domain/errors.js';
import { requireUiRole } from './guards.js';

/**
 * A BullMQ queue as bull-board's adapter takes it. Typed through bull-board, so BullMQ itself is still only
 * imported by jobs/ (the queues come from `BullQueues.instances()` in the composition root).
 */
export type BoardQueue = ConstructorParameters<typeof BullMQAdapter>[0];

/** Where the board is mounted inside the dashboard router, and its public path. */
export const QUEUES_MOUNT = '/queues';
const PUBLIC_PATH = `/ui${QUEUES_MOUNT}`;

/**
 * The dashboard's policy (router.ts) with one change: `base-uri 'self'`. bull-board's page is a prebuilt
 * React app whose HTML sets `<base href="/ui/queues/">` and loads every script, stylesheet, chunk and API call
 * relative to it; under `base-uri 'none'` the browser ignores that element and nothing below the entry URL
 * loads. Scripts and styles stay 'self' only: the bundle needs no inline script, no eval and no inline
 * <style> (its theme override is only injected when a custom theme is configured, which we do not). What is
 * refused, on purpose: the Google Fonts stylesheet the page links (it falls back to system fonts, and the
 * dashboard makes no third-party requests) and the inline styles of the "Loading" placeholder (shown unstyled
 * for a moment).
 */
const BOARD_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'";

const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * Requests from the board's own script (its JSON API, polled every few seconds) count as polls, like the
 * dashboard's live updates: they keep the session entry alive but not the user's activity clock, so an open
 * board does not defeat the idle timeout, and a signed-out caller gets a 401 rather than a redirect.
 * Must run before `sessionTimeouts` and `requireUser`.
 */
export function markBoardPolls(pollHeader: string): RequestHandler {
  return (request, _response, next) => {
    if (request.path.startsWith(`${QUEUES_MOUNT}/api/`)) request.headers[pollHeader] = '1';
    next();
  };
}

/**
 * Queue internals (bull-board) at /ui/queues, read-only, for every signed-in role (viewer and up): mount it
 * after sign-in is required. Read-only twice over: every queue is registered with `readOnlyMode` (bull-board
 * then hides its pause / retry / clean / add / remove / promote controls and its API refuses them), and any
 * request that is not GET or HEAD is refused here (403) before bull-board sees it.
 */
export function queuesBoard(queues: readonly BoardQueue[]): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(PUBLIC_PATH);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: true, allowRetries: false })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Tether queues', hideDocsLink: true, hideRedisDetails: true, miscLinks: [{ text: 'Back to the dashboard', url: '/ui' }] } },
  });
  const board = serverAdapter.getRouter() as Express;
  board.disable('x-powered-by');

  const router = Router();
  router.use(QUEUES_MOUNT, requireUiRole('viewer'), (request, response, next) => {
    if (!READ_METHODS.has(request.method)) {
      next(new AppError('forbidden', 'queues board is read-only', { detail: 'The queues page is read-only: queues are changed through the dashboard\'s own actions.' }));
      return;
    }
    response.setHeader('Content-Security-Policy', BOARD_CSP);
    // bull-board is an Express application of its own; as a plain middleware (not `app.use`) it would leave
    // its request and response prototypes in place for whatever runs after it, so restore ours on the way out.
    const requestProto = Object.getPrototypeOf(request) as object;
    const responseProto = Object.getPrototypeOf(response) as object;
    board(request, response, (error?: unknown) => {
      Object.setPrototypeOf(request, requestProto);
      Object.setPrototypeOf(response, responseProto);
      next(error);
    });
  });
  return router;
}
