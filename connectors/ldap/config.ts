import { z } from 'zod';
import type { Secret } from '../../src/config/secrets.js';

export const LDAP_DIALECTS = ['openldap', 'ad', '389ds'] as const;
export type LdapDialect = (typeof LDAP_DIALECTS)[number];

const dn = z.string().trim().min(3).regex(/=/, 'a distinguished name such as ou=people,dc=example,dc=org');
const filter = z.string().trim().regex(/^\(.*\)$/s, 'an LDAP filter in parentheses, e.g. (objectClass=inetOrgPerson)');
const attribute = z.string().regex(/^[A-Za-z][A-Za-z0-9-]*$/, 'an attribute name');

const scopeSchema = z.strictObject({
  baseDns: z.array(dn).min(1),
  filter: filter.optional(),
  scope: z.enum(['sub', 'one']).default('sub'),
});

const agentsSchema = z.strictObject({
  baseDns: z.array(dn).min(1),
  filter,
  scope: z.enum(['sub', 'one']).default('sub'),
  /**
   * The attribute naming the sponsor's DN. Unset: `managedBy` (AD's), else `manager`, whichever the entry has.
   * The sponsor must be a person of this source.
   */
  sponsorAttribute: attribute.optional(),
  /** A multi-valued DN attribute naming backup sponsors in order (e.g. `secretary`); none by default. */
  backupSponsorsAttribute: attribute.optional(),
  /** The agent's name; defaults to `mapping.userName` (uid / sAMAccountName), then `cn`. */
  nameAttribute: attribute.optional(),
  purposeAttribute: attribute.default('description'),
  /** Used when the entry has no purpose attribute value. */
  purpose: z.string().trim().min(1).optional(),
  /** An attribute holding sandbox | pilot | production; other values fall back to `environment`. */
  environmentAttribute: attribute.optional(),
  environment: z.enum(['sandbox', 'pilot', 'production']).default('production'),
  /** A multi-valued attribute listing the tools the agent requests; when the entry has none, `requestedTools`. */
  requestedToolsAttribute: attribute.optional(),
  requestedTools: z.array(z.string().min(1)).min(1),
});

/** Which attribute decides that an account is disabled, besides the dialect's own lock attributes. */
const activeSchema = z.strictObject({
  attribute,
  /** Values meaning active; any other value (or none) is inactive. */
  activeValues: z.array(z.string()).min(1).optional(),
  /** Values meaning inactive; any other value (or none) is active. */
  inactiveValues: z.array(z.string()).min(1).optional(),
}).refine((value) => (value.activeValues === undefined) !== (value.inactiveValues === undefined), 'give exactly one of activeValues, inactiveValues');

const mappingSchema = z.strictObject({
  userName: attribute.optional(),
  displayName: attribute.optional(),
  email: attribute.optional(),
  /** The attribute holding the manager's DN (default `manager`); mapped to the rule attribute `manager` (the manager's person id). */
  manager: attribute.optional(),
  /** Rule attribute name → LDAP attribute (e.g. department: departmentNumber). Replaces the dialect's defaults. */
  attributes: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/), attribute).optional(),
  active: activeSchema.optional(),
});

/** An LDAP / Active Directory source in tether.yaml (docs/ldap.md). Secrets arrive resolved from env:/file:. */
export function ldapSourceSchema(secret: z.ZodType<Secret>) {
  return z.strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/i, 'letters, digits, _ . - (max 63), starting with a letter or digit'),
    kind: z.literal('ldap'),
    displayName: z.string().min(1).optional(),
    url: z.string().regex(/^ldaps?:\/\/[^/\s]+\/?$/i, 'ldap://host[:port] or ldaps://host[:port]'),
    startTls: z.boolean().default(false),
    /** PEM CA bundle as a reference (file:./ca.pem); the system store is used when absent. */
    caCertificate: secret.optional(),
    /** Only for test labs: accept any server certificate. */
    tlsInsecure: z.boolean().default(false),
    bindDn: dn,
    bindPassword: secret,
    dialect: z.enum(LDAP_DIALECTS),
    people: scopeSchema,
    groups: scopeSchema,
    agents: agentsSchema.optional(),
    mapping: mappingSchema.default({}),
    pageSize: z.number().int().min(10).max(5000).default(500),
    timeoutMs: z.number().int().min(1000).max(600_000).default(30_000),
    pollIntervalSeconds: z.number().int().min(1).max(86_400).default(60),
    /** Scheduled full reconciliation; 0 turns the schedule off (on-demand runs still work). */
    reconcileIntervalMinutes: z.number().int().min(0).max(10_080).default(360),
    /** Time-based cursors (OpenLDAP, 389-ds) re-read this much before the high-water mark, for clock skew. */
    clockSkewSeconds: z.number().int().min(0).max(3600).default(60),
    /** AD: the one domain controller whose USNs the cursor counts (defaults to the URL's host). */
    domainController: z.string().min(1).optional(),
    massChange: z.strictObject({
      maxShare: z.number().min(0).max(1).default(0.1),
      minCount: z.number().int().min(1).default(2),
    }).default({ maxShare: 0.1, minCount: 2 }),
  }).superRefine((source, context) => {
    if (source.startTls && source.url.toLowerCase().startsWith('ldaps:')) {
      context.addIssue({ code: 'custom', path: ['startTls'], message: 'StartTLS is for ldap:// URLs; ldaps:// is already TLS' });
    }
  });
}

export type LdapSourceConfig = z.output<ReturnType<typeof ldapSourceSchema>>;
