import { z } from 'zod';
import type { Secret } from '../../src/config/secrets.js';
import { deliverySettings, httpSettings, targetId } from '../shared/config.js';

/** How Tether authenticates to the downstream SCIM service provider. */
function scimAuthSchema(secret: z.ZodType<Secret>) {
  return z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('bearer'), token: secret }),
    z.strictObject({
      type: z.literal('oauth2'),
      /** RFC 6749 §4.4 client credentials; the client authenticates with HTTP Basic. */
      tokenUrl: z.url({ protocol: /^https?$/ }),
      clientId: z.string().min(1),
      clientSecret: secret,
      scope: z.string().min(1).optional(),
    }),
  ]);
}

/** An outbound SCIM 2.0 target: agents as `/Agents` or `/Users` resources, tools as groups or entitlements. */
export function scimTargetConfigSchema(secret: z.ZodType<Secret>) {
  return z.strictObject({
    id: targetId,
    kind: z.literal('scim'),
    /** The service provider's SCIM base, e.g. https://app.example.com/scim/v2 */
    baseUrl: z.url({ protocol: /^https?$/ }),
    auth: scimAuthSchema(secret),
    mapping: z
      .strictObject({
        /** `Users` where the provider has no agent resource type. */
        resource: z.enum(['Users', 'Agents']).default('Users'),
        /** The schema URN of created resources (defaults to the core User / Agent schema). */
        schema: z.string().min(1).optional(),
        /** userName of a created resource; `{agentId}` and `{agentName}` are replaced. */
        userName: z.string().min(1).default('agent.{agentId}'),
        /** `groups`: each tool is membership in the group named by `groupName`; `entitlements`: each tool is an entitlement value. */
        tools: z.enum(['groups', 'entitlements']).default('groups'),
        /** Group displayName per tool; `{tool}` is replaced. Groups are created when missing. */
        groupName: z.string().includes('{tool}').default('tether-{tool}'),
      })
      .prefault({}),
    ...httpSettings,
    ...deliverySettings,
  });
}

export type ScimTargetConfig = z.infer<ReturnType<typeof scimTargetConfigSchema>>;
