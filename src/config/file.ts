import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import type { TargetConfig } from '../../connectors/registry.js';
import type { ScimCredential } from '../app/auth/credentials.js';
import type { GovernancePolicy } from '../app/governance/policy.js';
import { algorithmsForPublicKey, algorithmsForSecret, ASYMMETRIC_ALGORITHMS, JWS_ALGORITHMS, minimumSecretBytes, parsePublicKey, type JwsAlgorithm } from '../app/auth/jws-algorithms.js';
import { ldapSourceSchema, type LdapSourceConfig } from '../../connectors/ldap/config.js';
import { ldapTargetConfigSchema } from '../../connectors/ldap-target/config.js';
import { openFgaConfigSchema } from '../../connectors/openfga/config.js';
import { scimTargetConfigSchema } from '../../connectors/scim-target/config.js';
import { webhookConfigSchema } from '../../connectors/webhook/config.js';
import { notificationWebhookSchema, type NotificationWebhookConfig } from '../../connectors/webhook/notification-config.js';
import { AppError } from '../domain/errors.js';
import { isToolPattern } from '../domain/patterns.js';
import { ENVIRONMENTS, RISK_CLASSES, type Ceilings, type GrantCondition, type Tool } from '../domain/types.js';
import { formatIssues } from './format-issues.js';
import { secretReference, type Secret } from './secrets.js';

const id = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/i, 'letters, digits, _ . - (max 63), starting with a letter or digit');
const toolId = z.string().regex(/^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)+$/i, 'a dotted tool id such as crm.contacts.read');
const toolPattern = z.string().refine(isToolPattern, 'a tool id or a pattern such as crm.* or *');
const risk = z.enum(RISK_CLASSES);

const scimSourceSchema = z.strictObject({
  id,
  kind: z.literal('scim'),
  displayName: z.string().min(1).optional(),
});

/** A directory source: a SCIM tenant pushing changes, or an LDAP / AD server Tether polls (docs/ldap.md). */
export type SourceConfig =
  | { readonly id: string; readonly kind: 'scim'; readonly displayName: string }
  | { readonly id: string; readonly kind: 'ldap'; readonly displayName: string; readonly ldap: LdapSourceConfig };

const toolSchema = z.strictObject({ id: toolId, system: z.string().min(1), risk });

const conditionSchema = z.union([
  z.strictObject({ group: z.string().min(1) }),
  z.strictObject({ attribute: z.string().min(1), in: z.array(z.string()).min(1) }),
]);

const ruleSchema = z.strictObject({
  id,
  description: z.string().optional(),
  when: z.array(conditionSchema).min(1),
  tools: z.array(toolPattern).min(1),
});

const ceilingSchema = z.strictObject({
  risks: z.array(risk),
  deny: z.array(toolPattern).default([]),
});

/** tether.yaml `policy`: delegation governance (docs/governance.md). */
const lifetimeDays = z.number().positive().max(36_500);
const policySchema = z.strictObject({
  growthNeedsConfirmation: z
    .strictObject({
      read: z.boolean().default(false),
      write: z.boolean().default(true),
      // Orchestrate tools set other agents to work: their growth is never taken on the directory's word.
      orchestrate: z.boolean().refine((value) => value, 'orchestrate growth always needs explicit approval; it cannot be false').default(true),
    })
    .prefault({}),
  reassignmentGraceHours: z.number().positive().max(8760).default(72),
  reassignmentSweepSeconds: z.number().positive().max(86_400).default(60),
  maxDelegationDays: z.strictObject({ read: lifetimeDays.optional(), write: lifetimeDays.optional(), orchestrate: lifetimeDays.optional() }).prefault({}),
  expiryNoticeDays: z.number().min(0).max(365).default(7),
  expirySweepSeconds: z.number().positive().max(86_400).default(60),
});

/** Risk classes an environment may never hold, whatever its ceiling says (docs/governance.md). */
const FORBIDDEN_RISKS: Readonly<Partial<Record<(typeof ENVIRONMENTS)[number], Readonly<Partial<Record<(typeof RISK_CLASSES)[number], string>>>>>> = {
  sandbox: { write: 'sandbox agents may never hold write tools', orchestrate: 'orchestrate tools are for production agents only' },
  pilot: { orchestrate: 'orchestrate tools are for production agents only' },
};

function checkCeilings(ceilings: Partial<Record<(typeof ENVIRONMENTS)[number], { risks: readonly (typeof RISK_CLASSES)[number][] }>>, context: z.RefinementCtx): void {
  for (const environment of ENVIRONMENTS) {
    ceilings[environment]?.risks.forEach((riskClass, index) => {
      const reason = FORBIDDEN_RISKS[environment]?.[riskClass];
      if (reason !== undefined) context.addIssue({ code: 'custom', path: ['ceilings', environment, 'risks', index], message: reason });
    });
  }
}

const DEFAULT_CEILINGS: Ceilings = {
  sandbox: { risks: ['read'], deny: [] },
  pilot: { risks: ['read', 'write'], deny: [] },
  production: { risks: ['read', 'write', 'orchestrate'], deny: [] },
};

/** tether.yaml `scimAuth`: configured SCIM credentials besides the database tokens (docs/scim-auth.md). */
function scimCredentialSchema(secret: ReturnType<typeof secretReference>) {
  const scope = { id, readOnly: z.boolean().default(false), sources: z.array(id).min(1).optional(), defaultSource: id.optional() };
  const name = z.string().min(1).max(256).regex(/^[^:]+$/, 'must not contain ":"');
  return z.discriminatedUnion('type', [
    z.strictObject({ ...scope, type: z.literal('bearer'), token: secret }),
    z.strictObject({ ...scope, type: z.literal('basic'), username: name, password: secret }),
    z.strictObject({
      ...scope,
      type: z.literal('jwt'),
      issuer: z.string().min(1),
      audience: z.string().min(1),
      secret: secret.optional(),
      publicKey: secret.optional(),
      jwksUrl: z.url({ protocol: /^https?$/ }).optional(),
      algorithms: z.array(z.enum(JWS_ALGORITHMS)).min(1).optional(),
      clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
    }),
    z.strictObject({ ...scope, type: z.literal('oauth2'), clientId: name, clientSecret: secret, tokenLifetimeSeconds: z.number().int().min(60).max(86_400).default(3600) }),
  ]);
}

/**
 * tether.yaml `admin`: dashboard sign-in (docs/admin.md). The IdP is given either by its metadata file or by
 * entryPoint + idpIssuer + idpCert; signed assertions are always required.
 */
function adminSchema(secret: ReturnType<typeof secretReference>) {
  const groups = z.array(z.string().min(1)).default([]);
  const saml = z
    .strictObject({
      issuer: z.string().min(1).describe("Tether's SP entity id"),
      audience: z.string().min(1).optional(),
      idpMetadata: secret.optional(),
      entryPoint: z.url({ protocol: /^https?$/ }).optional(),
      idpIssuer: z.string().min(1).optional(),
      idpCert: secret.optional(),
      logoutUrl: z.url({ protocol: /^https?$/ }).optional(),
      signingKey: secret.optional(),
      signingCert: secret.optional(),
      wantAuthnResponseSigned: z.boolean().default(false),
      acceptedClockSkewSeconds: z.number().int().min(0).max(300).default(60),
      maxAssertionAgeSeconds: z.number().int().min(60).max(86_400).default(600),
      groupAttribute: z.string().min(1).default('groups'),
      roles: z.strictObject({ viewer: groups, operator: groups, admin: groups }),
    })
    .superRefine((value, context) => {
      const issue = (path: string, message: string) => context.addIssue({ code: 'custom', path: [path], message });
      if (value.idpMetadata === undefined && (value.entryPoint === undefined || value.idpCert === undefined || value.idpIssuer === undefined)) {
        issue('idpMetadata', 'give idpMetadata, or entryPoint + idpIssuer + idpCert');
      }
      if ((value.signingKey === undefined) !== (value.signingCert === undefined)) issue('signingKey', 'signingKey and signingCert go together');
      if (value.roles.viewer.length + value.roles.operator.length + value.roles.admin.length === 0) issue('roles', 'map at least one IdP group to a role');
    });
  return z.strictObject({
    saml: saml.optional(),
    session: z
      .strictObject({ idleMinutes: z.number().int().min(1).max(1440).default(30), absoluteHours: z.number().min(1).max(168).default(12) })
      .prefault({}),
  });
}

export type AdminConfig = z.output<ReturnType<typeof adminSchema>>;
export type SamlConfig = NonNullable<AdminConfig['saml']>;

type RawCredential = z.output<ReturnType<typeof scimCredentialSchema>>;
type RawJwtCredential = Extract<RawCredential, { type: 'jwt' }>;

function fileSchema(baseDir: string) {
  const secret = secretReference(baseDir);
  const targetSchema = z.discriminatedUnion('kind', [webhookConfigSchema(secret), scimTargetConfigSchema(secret), ldapTargetConfigSchema(secret), openFgaConfigSchema(secret)]);
  return z
    .strictObject({
      sources: z.array(z.discriminatedUnion('kind', [scimSourceSchema, ldapSourceSchema(secret)])).min(1),
      tools: z.array(toolSchema).default([]),
      grantRules: z.array(ruleSchema).default([]),
      ceilings: z.partialRecord(z.enum(ENVIRONMENTS), ceilingSchema).default({}),
      targets: z.array(targetSchema).default([]),
      scimAuth: z.array(scimCredentialSchema(secret)).default([]),
      policy: policySchema.prefault({}),
      admin: adminSchema(secret).prefault({}),
      /** Expiry notices as signed webhook events (docs/governance.md); separate from targets. */
      notifications: z.strictObject({ webhooks: z.array(notificationWebhookSchema(secret)).default([]) }).prefault({}),
    })
    .superRefine((config, context) => {
      flagDuplicates(config.sources.map((source) => source.id), ['sources'], context);
      flagDuplicates(config.tools.map((tool) => tool.id), ['tools'], context);
      flagDuplicates(config.grantRules.map((rule) => rule.id), ['grantRules'], context);
      flagDuplicates(config.targets.map((target) => target.id), ['targets'], context);
      flagDuplicates(config.notifications.webhooks.map((webhook) => webhook.id), ['notifications', 'webhooks'], context);
      checkCeilings(config.ceilings, context);
    })
    // Cross-checks read resolved secrets, so they wait until every value has parsed.
    .superRefine((config, context) => checkScimAuth(config.scimAuth, new Set(config.sources.map((source) => source.id)), context), {
      when: (payload) => payload.issues.length === 0,
    });
}

function flagDuplicates(ids: readonly string[], path: (string | number)[], context: z.RefinementCtx): void {
  const seen = new Set<string>();
  ids.forEach((value, index) => {
    if (seen.has(value)) context.addIssue({ code: 'custom', path: [...path, index, 'id'], message: `duplicate id "${value}"` });
    seen.add(value);
  });
}

/** Minimum lengths keep configured secrets out of reach of guessing; the HMAC key length is RFC 7518's. */
const MIN_SECRET_LENGTH = { token: 32, clientSecret: 32, password: 16 } as const;

function checkScimAuth(credentials: readonly RawCredential[], sources: ReadonlySet<string>, context: z.RefinementCtx): void {
  const issue = (path: (string | number)[], message: string) => context.addIssue({ code: 'custom', path: ['scimAuth', ...path], message });
  flagDuplicates(credentials.map((credential) => credential.id), ['scimAuth'], context);
  const seen = new Set<string>();
  const unique = (index: number, key: string, value: string, message: string) => {
    if (seen.has(value)) issue([index, key], message);
    seen.add(value);
  };
  credentials.forEach((credential, index) => {
    credential.sources?.forEach((source, position) => {
      if (!sources.has(source)) issue([index, 'sources', position], `unknown source "${source}" (not in sources)`);
    });
    const allowed = credential.sources ?? [...sources];
    if (credential.defaultSource !== undefined && !allowed.includes(credential.defaultSource)) {
      issue([index, 'defaultSource'], `"${credential.defaultSource}" is not one of this credential's sources`);
    }
    const secretOf: [keyof typeof MIN_SECRET_LENGTH, Secret] | null =
      credential.type === 'bearer' ? ['token', credential.token]
        : credential.type === 'basic' ? ['password', credential.password]
          : credential.type === 'oauth2' ? ['clientSecret', credential.clientSecret] : null;
    if (secretOf !== null && secretOf[1].reveal().length < MIN_SECRET_LENGTH[secretOf[0]]) {
      issue([index, secretOf[0]], `must be at least ${MIN_SECRET_LENGTH[secretOf[0]]} characters (${secretOf[1].reference})`);
    }
    if (credential.type === 'basic') unique(index, 'username', `basic\n${credential.username}`, `duplicate username "${credential.username}"`);
    if (credential.type === 'oauth2') unique(index, 'clientId', `oauth2\n${credential.clientId}`, `duplicate clientId "${credential.clientId}"`);
    if (credential.type !== 'jwt') return;
    unique(index, 'issuer', `jwt\n${credential.issuer}\n${credential.audience}`, 'another jwt credential has the same issuer and audience');
    const keyed = jwtAlgorithms(credential);
    if ('problem' in keyed) issue([index, ...(keyed.key === null ? [] : [keyed.key])], keyed.problem);
    else checkAlgorithms(credential, keyed, (position, message) => issue([index, 'algorithms', position], message));
  });
}

/** The algorithms the credential's key supports, or the key that is wrong and why. */
function jwtAlgorithms(credential: RawJwtCredential): JwsAlgorithm[] | { key: string | null; problem: string } {
  const given = (['secret', 'publicKey', 'jwksUrl'] as const).filter((key) => credential[key] !== undefined);
  if (given.length !== 1) return { key: given[1] ?? null, problem: 'give exactly one of secret, publicKey, jwksUrl' };
  if (credential.secret !== undefined) {
    const algorithms = algorithmsForSecret(credential.secret.reveal());
    return algorithms.length > 0 ? algorithms : { key: 'secret', problem: `must be at least 32 bytes for HS256 (${credential.secret.reference})` };
  }
  if (credential.publicKey !== undefined) {
    const key = parsePublicKey(credential.publicKey.reveal());
    if (typeof key === 'string') return { key: 'publicKey', problem: `${credential.publicKey.reference} ${key}` };
    const algorithms = algorithmsForPublicKey(key);
    return algorithms.length > 0 ? algorithms : { key: 'publicKey', problem: `${credential.publicKey.reference}: unsupported key type (RSA, EC P-256/384/521 or Ed25519)` };
  }
  const url = new URL(credential.jwksUrl ?? '');
  if (url.protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) {
    return { key: 'jwksUrl', problem: 'must be https (http only on loopback)' };
  }
  return [...ASYMMETRIC_ALGORITHMS];
}

function checkAlgorithms(credential: RawJwtCredential, supported: readonly JwsAlgorithm[], issue: (position: number, message: string) => void): void {
  credential.algorithms?.forEach((algorithm, position) => {
    if (supported.includes(algorithm)) return;
    const minimum = minimumSecretBytes(algorithm);
    if (minimum !== undefined && credential.secret !== undefined) issue(position, `${algorithm} needs a secret of at least ${minimum} bytes`);
    else issue(position, `${algorithm} does not fit the configured ${credential.secret !== undefined ? 'secret' : credential.publicKey !== undefined ? 'publicKey' : 'jwksUrl'}`);
  });
}

function toCredential(raw: RawCredential, allSources: readonly string[]): ScimCredential {
  const allowed = raw.sources ?? allSources;
  const scope = {
    id: raw.id,
    readOnly: raw.readOnly,
    sources: raw.sources ?? null,
    defaultSource: raw.defaultSource ?? (allowed.length === 1 ? (allowed[0] ?? null) : null),
  };
  switch (raw.type) {
    case 'bearer':
      return { ...scope, type: 'bearer', token: raw.token };
    case 'basic':
      return { ...scope, type: 'basic', username: raw.username, password: raw.password };
    case 'oauth2':
      return { ...scope, type: 'oauth2', clientId: raw.clientId, clientSecret: raw.clientSecret, tokenLifetimeSeconds: raw.tokenLifetimeSeconds };
    case 'jwt': {
      const supported = jwtAlgorithms(raw);
      const key = raw.secret !== undefined ? { kind: 'secret' as const, secret: raw.secret }
        : raw.publicKey !== undefined ? { kind: 'publicKey' as const, pem: raw.publicKey }
          : { kind: 'jwks' as const, url: raw.jwksUrl ?? '' };
      return {
        ...scope, type: 'jwt', issuer: raw.issuer, audience: raw.audience, key, clockToleranceSeconds: raw.clockToleranceSeconds,
        algorithms: raw.algorithms ?? (Array.isArray(supported) ? supported : []),
      };
    }
  }
}

export interface TetherConfig {
  readonly path: string;
  readonly sources: readonly SourceConfig[];
  readonly tools: readonly Tool[];
  readonly grantRules: readonly { id: string; when: readonly GrantCondition[]; tools: readonly string[] }[];
  readonly ceilings: Ceilings;
  readonly targets: readonly TargetConfig[];
  readonly scimAuth: readonly ScimCredential[];
  readonly policy: GovernancePolicy;
  readonly admin: AdminConfig;
  readonly notifications: { readonly webhooks: readonly NotificationWebhookConfig[] };
}

/** Reads and validates tether.yaml. Any problem stops startup with a message naming the key. */
export function loadConfigFile(path: string): TetherConfig {
  const absolute = resolve(path);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (error) {
    throw new AppError('invalid_config', `cannot read config file ${absolute} (TETHER_CONFIG): ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return parseConfig(text, absolute);
}

export function parseConfig(text: string, absolutePath: string): TetherConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    const where = error instanceof YAMLParseError && error.linePos !== undefined ? ` at line ${error.linePos[0].line}` : '';
    throw new AppError('invalid_config', `${absolutePath} is not valid YAML${where}`);
  }
  const result = fileSchema(dirname(absolutePath)).safeParse(raw ?? {});
  if (!result.success) throw new AppError('invalid_config', formatIssues(absolutePath, result.error.issues));
  const config = result.data;
  return {
    path: absolutePath,
    sources: config.sources.map((source): SourceConfig =>
      source.kind === 'ldap'
        ? { id: source.id, kind: 'ldap', displayName: source.displayName ?? source.id, ldap: source }
        : { id: source.id, kind: 'scim', displayName: source.displayName ?? source.id },
    ),
    tools: config.tools,
    grantRules: config.grantRules.map((rule) => ({
      id: rule.id,
      when: rule.when.map((condition): GrantCondition =>
        'group' in condition
          ? { kind: 'group', group: condition.group }
          : { kind: 'attribute', attribute: condition.attribute, values: condition.in },
      ),
      tools: rule.tools,
    })),
    ceilings: {
      sandbox: config.ceilings.sandbox ?? DEFAULT_CEILINGS.sandbox,
      pilot: config.ceilings.pilot ?? DEFAULT_CEILINGS.pilot,
      production: config.ceilings.production ?? DEFAULT_CEILINGS.production,
    },
    targets: config.targets,
    scimAuth: config.scimAuth.map((credential) => toCredential(credential, config.sources.map((source) => source.id))),
    policy: {
      growthNeedsConfirmation: config.policy.growthNeedsConfirmation,
      reassignmentGraceMs: Math.round(config.policy.reassignmentGraceHours * 3_600_000),
      sweepIntervalMs: Math.round(config.policy.reassignmentSweepSeconds * 1000),
      maxDelegationMs: Object.fromEntries(
        Object.entries(config.policy.maxDelegationDays).flatMap(([riskClass, days]) => (days === undefined ? [] : [[riskClass, Math.round(days * 86_400_000)]])),
      ),
      expiryNoticeMs: Math.round(config.policy.expiryNoticeDays * 86_400_000),
      expirySweepIntervalMs: Math.round(config.policy.expirySweepSeconds * 1000),
    },
    admin: config.admin,
    notifications: config.notifications,
  };
}
