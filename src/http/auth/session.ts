import RedisStore from 'connect-redis';
import type { Request, RequestHandler } from 'express';
import session from 'express-session';
import type { Redis } from 'ioredis';
import type { SamlUser } from './saml.js';

/** A dashboard session: the SAML user, when they signed in, when they last did something. */
export interface AdminSessionUser extends SamlUser {
  readonly signedInAt: number;
  lastActiveAt: number;
}

declare module 'express-session' {
  interface SessionData {
    user: AdminSessionUser;
    csrf: string;
  }
}

export interface SessionSettings {
  readonly secret: string;
  readonly secure: boolean;
  readonly idleMs: number;
  readonly absoluteMs: number;
}

/** Requests the dashboard's live-update script makes say so, and do not count as user activity. */
export const POLL_HEADER = 'x-tether-poll';

/**
 * Sessions in Redis (shared by every instance). The cookie is HttpOnly, SameSite=Lax, Secure behind TLS
 * (then with the `__Host-` prefix: no Domain, Path=/, so no sibling host can plant or read it), and its id
 * never exists before sign-in (saveUninitialized: false) and is replaced at sign-in (no fixation).
 */
export function sessionMiddleware(settings: SessionSettings, redis: Redis, keyPrefix: string): RequestHandler {
  return session({
    name: settings.secure ? '__Host-tether_session' : 'tether_session',
    secret: settings.secret,
    store: new RedisStore({ client: redis, prefix: `${keyPrefix}:session:`, ttl: Math.ceil(settings.idleMs / 1000) }),
    resave: false,
    saveUninitialized: false,
    rolling: true,
    unset: 'destroy',
    cookie: { httpOnly: true, secure: settings.secure, sameSite: 'lax', path: '/', maxAge: settings.absoluteMs },
  });
}

/**
 * Ends sessions idle longer than `idleMs` or older than `absoluteMs`, whatever the cookie says. Polling by
 * the live-update script keeps the Redis entry alive but not the user's activity clock.
 */
export function sessionTimeouts(settings: SessionSettings, now: () => number = Date.now): RequestHandler {
  return (request, _response, next) => {
    const user = request.session.user;
    if (user === undefined) {
      next();
      return;
    }
    const at = now();
    if (at - user.lastActiveAt > settings.idleMs || at - user.signedInAt > settings.absoluteMs) {
      request.session.destroy(() => next());
      return;
    }
    if (request.get(POLL_HEADER) === undefined) user.lastActiveAt = at;
    next();
  };
}

/** Replaces the anonymous session (if any) with a new one for `user`: a new id, a new CSRF token. */
export function startSession(request: Request, user: SamlUser, now: number): Promise<void> {
  return new Promise((done, fail) => {
    request.session.regenerate((error?: unknown) => {
      if (error !== undefined && error !== null) {
        fail(error instanceof Error ? error : new Error('session regenerate failed'));
        return;
      }
      request.session.user = { ...user, signedInAt: now, lastActiveAt: now };
      request.session.save((saveError?: unknown) => (saveError === undefined || saveError === null ? done() : fail(saveError instanceof Error ? saveError : new Error('session save failed'))));
    });
  });
}

export function endSession(request: Request): Promise<void> {
  return new Promise((done) => request.session.destroy(() => done()));
}
