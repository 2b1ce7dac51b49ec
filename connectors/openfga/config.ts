import { z } from 'zod';
import type { Secret } from '../../src/config/secrets.js';
import { deliverySettings, httpSettings, targetId } from '../shared/config.js';

/** OpenFGA ids are ULIDs (the SDK refuses anything else). */
const ulid = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/i, 'a ULID such as 01HVMMBCMGZNT3SED4Z17ECXCA');

function credentialsSchema(secret: z.ZodType<Secret>) {
  return z.discriminatedUnion('method', [
    z.strictObject({ method: z.literal('none') }),
    z.strictObject({ method: z.literal('api_token'), token: secret }),
    z.strictObject({
      method: z.literal('client_credentials'),
      clientId: z.string().min(1),
      clientSecret: secret,
      apiTokenIssuer: z.string().min(1),
      apiAudience: z.string().min(1),
    }),
  ]);
}

/**
 * An OpenFGA store: each effective tool is the tuple `{agentType}:{agentId} {relation} {toolType}:{toolId}`
 * (authorization model in docs/targets.md).
 */
export function openFgaConfigSchema(secret: z.ZodType<Secret>) {
  return z.strictObject({
    id: targetId,
    kind: z.literal('openfga'),
    apiUrl: z.url({ protocol: /^https?$/ }),
    storeId: ulid,
    /** Written tuples are validated against this model; without it, the store's latest model is used. */
    authorizationModelId: ulid.optional(),
    credentials: credentialsSchema(secret).prefault({ method: 'none' }),
    agentType: z.string().regex(/^[a-z][a-z0-9_-]*$/).default('agent'),
    toolType: z.string().regex(/^[a-z][a-z0-9_-]*$/).default('tool'),
    relation: z.string().regex(/^[a-z][a-z0-9_-]*$/).default('can_use'),
    ...httpSettings,
    ...deliverySettings,
  });
}

export type OpenFgaConfig = z.infer<ReturnType<typeof openFgaConfigSchema>>;
