import { z } from 'zod';
import type { Secret } from '../../src/config/secrets.js';
import { deliverySettings, targetId } from '../shared/config.js';

const dn = z.string().min(3).regex(/^[^=,]+=[^,]+(,[^=,]+=[^,]+)*$/, 'a DN such as ou=agents,dc=example,dc=org');

/** LDAP write-back: agents as entries under `agentsDn`, tools as membership of groups under `groupsDn`. */
export function ldapTargetConfigSchema(secret: z.ZodType<Secret>) {
  return z.strictObject({
    id: targetId,
    kind: z.literal('ldap'),
    url: z.url({ protocol: /^ldaps?$/ }),
    /** Upgrade ldap:// with StartTLS (certificates are always verified). */
    startTls: z.boolean().default(false),
    /** PEM CA bundle for ldaps:// or StartTLS, when the server's CA is not a public one. */
    caCertificate: secret.optional(),
    bindDn: dn,
    bindPassword: secret,
    /** Agent entries are `cn={agentId},{agentsDn}` (objectClass applicationProcess, description = agent name). */
    agentsDn: dn,
    /** Groups are `cn={groupName},{groupsDn}` (groupOfNames), created on first member. */
    groupsDn: dn,
    /** Group cn per tool; `{tool}` is replaced. */
    groupName: z.string().includes('{tool}').regex(/^[^,=+<>#;\\"]+$/, 'no DN special characters').default('tether-{tool}'),
    timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    ...deliverySettings,
  });
}

export type LdapTargetConfig = z.infer<ReturnType<typeof ldapTargetConfigSchema>>;
