import { Strategy, ValidateInResponseTo, type Profile, type VerifiedCallback } from '@node-saml/passport-saml';
import type { Request, RequestHandler, Response } from 'express';
import type { Redis } from 'ioredis';
import { Passport, type Strategy as PassportStrategy } from 'passport';
import type { Logger } from 'pino';
import type { Role } from '../../app/auth/tokens.js';
import { assertionReplayGuard, redisRequestCache } from './saml-cache.js';
import { roleFor, type RoleMapping } from './saml-roles.js';
import { weakAlgorithmIn } from './saml-algorithms.js';

/** Everything the SAML service provider needs, resolved from tether.yaml `admin.saml` and the environment. */
export interface SamlSettings {
  readonly spEntityId: string;
  readonly audience: string;
  /** Absolute URLs of the assertion consumer service and the single-logout return endpoint. */
  readonly callbackUrl: string;
  readonly logoutCallbackUrl: string;
  readonly entryPoint: string;
  readonly idpIssuer: string;
  readonly idpCerts: readonly string[];
  readonly logoutUrl: string | null;
  /** SP key pair: signs AuthnRequests and LogoutRequests, published in the SP metadata. */
  readonly signing: { readonly privateKey: string; readonly cert: string } | null;
  readonly wantAuthnResponseSigned: boolean;
  readonly clockSkewMs: number;
  readonly maxAssertionAgeMs: number;
  readonly groupAttribute: string;
  readonly roles: RoleMapping;
}

/** A signed-in dashboard user, as the session keeps it. */
export interface SamlUser {
  readonly nameId: string;
  readonly nameIdFormat: string;
  readonly sessionIndex: string | null;
  readonly role: Role;
}

export type SignOnResult =
  | { readonly ok: true; readonly user: SamlUser; readonly relayState: string | null }
  | { readonly ok: false; readonly status: 401 | 403; readonly reason: string; readonly nameId: string | null };

export interface SamlSignOn {
  readonly metadata: string;
  /** Redirects the browser to the IdP with a fresh AuthnRequest (its id goes to the shared cache). */
  readonly login: RequestHandler;
  /** Validates the IdP's POST to the assertion consumer service; never throws for a bad response. */
  consume(request: Request, response: Response): Promise<SignOnResult>;
  /** The IdP's single-logout URL for this user, or null when single logout is not configured. */
  logoutUrl(request: Request, user: SamlUser): Promise<string | null>;
  /** Validates the IdP's LogoutResponse on return from single logout. */
  logoutReturn(request: Request, response: Response): Promise<boolean>;
}

/** Login requests older than this cannot be answered; enough for a user to type a password and an MFA code. */
const REQUEST_TTL_MS = 10 * 60_000;

/** The SAML 2.0 service provider: @node-saml/passport-saml with signed assertions and a Redis request cache. */
export function createSamlSignOn(settings: SamlSettings, deps: { redis: Redis; keyPrefix: string; logger: Logger }): SamlSignOn {
  const claimAssertion = assertionReplayGuard(deps.redis, deps.keyPrefix, settings.maxAssertionAgeMs + settings.clockSkewMs);
  const strategy = new Strategy(
    {
      name: 'saml',
      passReqToCallback: false,
      callbackUrl: settings.callbackUrl,
      logoutCallbackUrl: settings.logoutCallbackUrl,
      entryPoint: settings.entryPoint,
      ...(settings.logoutUrl === null ? {} : { logoutUrl: settings.logoutUrl }),
      issuer: settings.spEntityId,
      audience: settings.audience,
      idpIssuer: settings.idpIssuer,
      idpCert: [...settings.idpCerts],
      wantAssertionsSigned: true,
      wantAuthnResponseSigned: settings.wantAuthnResponseSigned,
      signatureAlgorithm: 'sha256',
      digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
      ...(settings.signing === null ? {} : { privateKey: settings.signing.privateKey, publicCert: settings.signing.cert }),
      acceptedClockSkewMs: settings.clockSkewMs,
      maxAssertionAgeMs: settings.maxAssertionAgeMs,
      validateInResponseTo: ValidateInResponseTo.always,
      requestIdExpirationPeriodMs: REQUEST_TTL_MS,
      cacheProvider: redisRequestCache(deps.redis, deps.keyPrefix, REQUEST_TTL_MS),
      identifierFormat: null,
      // IdPs that sign users in with MFA or passkeys reject a request for PasswordProtectedTransport.
      disableRequestedAuthnContext: true,
    },
    (profile: Profile | null, done: VerifiedCallback) => {
      verify(profile, settings, claimAssertion).then(
        (outcome) => (typeof outcome === 'string' ? done(null, undefined, { message: outcome }) : done(null, { ...outcome })),
        (error: unknown) => done(error instanceof Error ? error : new Error('assertion check failed')),
      );
    },
    (_profile: Profile | null, done: VerifiedCallback) => done(null, {}),
  );
  const passport = new Passport();
  // passport-saml is typed against express 4's Request; the strategy itself only reads url, query and body.
  passport.use('saml', strategy as unknown as PassportStrategy);

  const run = (request: Request, response: Response) =>
    new Promise<{ error: unknown; user: unknown; info: unknown; passed: boolean }>((done) => {
      const handler = passport.authenticate('saml', { session: false }, (error: unknown, user: unknown, info: unknown) => done({ error, user, info, passed: false })) as RequestHandler;
      void handler(request, response, () => done({ error: null, user: null, info: null, passed: true }));
    });

  return {
    metadata: strategy.generateServiceProviderMetadata(null, settings.signing?.cert ?? null),
    login: passport.authenticate('saml', { session: false }) as RequestHandler,
    async consume(request, response) {
      const encoded: unknown = (request.body as Record<string, unknown> | undefined)?.['SAMLResponse'];
      const relay: unknown = (request.body as Record<string, unknown> | undefined)?.['RelayState'];
      const relayState = typeof relay === 'string' ? relay : null;
      if (typeof encoded !== 'string' || encoded === '') return { ok: false, status: 401, reason: 'no SAML response in the request', nameId: null };
      const weak = weakAlgorithmIn(Buffer.from(encoded, 'base64').toString('utf8'));
      if (weak !== null) return { ok: false, status: 401, reason: `weak signature algorithm ${weak}`, nameId: null };
      const { error, user, info } = await run(request, response);
      if (error !== null && error !== undefined) {
        deps.logger.warn({ requestId: request.id, reason: error instanceof Error ? error.message : 'invalid' }, 'SAML response rejected');
        return { ok: false, status: 401, reason: error instanceof Error ? error.message : 'invalid SAML response', nameId: null };
      }
      if (user === false || user === null || user === undefined) {
        const message = (info as { message?: unknown } | null)?.message;
        const reason = typeof message === 'string' ? message : 'sign-in refused';
        return { ok: false, status: reason.startsWith('no role') ? 403 : 401, reason, nameId: null };
      }
      return { ok: true, user: user as SamlUser, relayState };
    },
    async logoutUrl(request, user) {
      if (settings.logoutUrl === null) return null;
      const withUser = Object.assign(request, {
        user: { nameID: user.nameId, nameIDFormat: user.nameIdFormat, ...(user.sessionIndex === null ? {} : { sessionIndex: user.sessionIndex }) },
        samlLogoutRequest: {} as Profile,
      });
      return new Promise((done, fail) => {
        strategy.logout(withUser as unknown as Parameters<typeof strategy.logout>[0], (error, url) => (error === null ? done(url ?? null) : fail(error)));
      });
    },
    async logoutReturn(request, response) {
      if (typeof request.query['SAMLResponse'] !== 'string') return false;
      const { error, passed } = await run(request, response);
      if (error !== null && error !== undefined) deps.logger.warn({ requestId: request.id, reason: error instanceof Error ? error.message : 'invalid' }, 'SAML logout response rejected');
      return passed;
    },
  };
}

/**
 * The checks node-saml leaves to the application: the assertion's issuer (node-saml compares `idpIssuer`
 * only on logout messages), one-time use of the assertion, and a mapped role.
 */
async function verify(profile: Profile | null, settings: SamlSettings, claimAssertion: (id: string) => Promise<boolean>): Promise<SamlUser | string> {
  if (profile === null || typeof profile.nameID !== 'string' || profile.nameID === '') return 'the assertion has no NameID';
  if (profile.issuer !== settings.idpIssuer) return 'the assertion comes from another issuer';
  const assertion = profile.getAssertion?.() as { Assertion?: { $?: { ID?: unknown } } } | undefined;
  const assertionId = assertion?.Assertion?.$?.ID;
  if (typeof assertionId !== 'string' || assertionId === '') return 'the assertion has no ID';
  if (!(await claimAssertion(assertionId))) return 'assertion already used (replay)';
  const role = roleFor(settings.roles, profile[settings.groupAttribute]);
  if (role === null) return `no role: none of the user's ${settings.groupAttribute} maps to a Tether role`;
  return { nameId: profile.nameID, nameIdFormat: profile.nameIDFormat, sessionIndex: profile.sessionIndex ?? null, role };
}
