/**
 * The SCIM Agent resource (draft-wzdk-scim-agent-resource-00, schema `urn:ietf:params:scim:schemas:core:2.0:Agent`,
 * also the URN of the earlier draft-abbey-scim-agent-extension-00) ⇄ Tether's agent. `agentUserName` (wzdk)
 * and `name` (abbey) are both accepted and both returned; `owners` are Users of the source, the first being
 * the sponsor; Tether's own attributes live under TETHER_AGENT_URN.
 */
import { z } from 'zod';
import { TETHER_AGENT_URN, type AgentWrite, type ProvisionedAgent } from '../../app/agents/agent-write.js';
import { AppError } from '../../domain/errors.js';
import { ENVIRONMENTS } from '../../domain/types.js';
import { assertSchemasName, assertStorable, declaredSchemas } from './attribute-names.js';
import { coerceBoolean } from './patch.js';
import { etag } from './user-resource.js';

export const CORE_AGENT = 'urn:ietf:params:scim:schemas:core:2.0:Agent';

/** Tether ids (owners, parent) are UUIDs: anything else names nothing and is refused before any write. */
const TETHER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export { TETHER_AGENT_URN };

/** Computed or server-assigned: ignored on input (RFC 7644 §3.5.1), refused by PATCH. */
export const AGENT_READ_ONLY = ['id', 'meta', 'schemas', 'entitlements', 'groups', 'applications'];
/** What a PATCH may not write: the read-only attributes, and the agent's lifecycle state (Tether's to set). */
export const AGENT_PATCH_READ_ONLY = [...AGENT_READ_ONLY, `${TETHER_AGENT_URN}.state`];
/** Held in columns, not in the stored representation. */
const MAPPED = ['externalId', 'agentUserName', 'name', 'displayName', 'description', 'agentType', 'active', 'owners', TETHER_AGENT_URN];

const TOP_LEVEL = [
  ...AGENT_READ_ONLY, ...MAPPED, CORE_AGENT, 'parent', 'roles', 'subject', 'x509Certificates', 'protocols',
];
const BY_LOWER = new Map(TOP_LEVEL.map((name) => [name.toLowerCase(), name]));

export function canonicalAgentAttribute(name: string): string {
  return BY_LOWER.get(name.toLowerCase()) ?? name;
}

const text = (max: number) => z.string().max(max).nullish();
const agentName = z.string().trim().min(1, 'agentUserName must not be empty').max(200);

const ownerSchema = z.looseObject({
  value: z.string({ error: 'owners[].value is required' }).regex(TETHER_ID, 'owners[].value must be the id of a User'),
  type: z.string().regex(/^user$/i, 'owners[].type: only User owners are supported').nullish(),
});

const extensionSchema = z.looseObject({
  purpose: z.string({ error: `${TETHER_AGENT_URN}:purpose is required` }).trim().min(1, 'purpose must not be empty').max(2000),
  environment: z.enum(ENVIRONMENTS, { error: 'environment must be sandbox, pilot or production' }).nullish(),
  requestedTools: z.array(z.string().min(1).max(200), { error: 'requestedTools must be a list of tool ids or patterns' }).max(500).nullish(),
  expiresAt: z.iso.datetime({ offset: true, error: 'expiresAt must be an xsd:dateTime with a time zone' }).nullish(),
}, { error: `${TETHER_AGENT_URN} must be an object` });

const agentInput = z.looseObject({
  agentUserName: agentName.nullish(),
  name: agentName.nullish(),
  externalId: text(512),
  displayName: text(512),
  description: text(4000),
  agentType: text(200),
  owners: z.array(ownerSchema, { error: 'owners is required: a list of {value: <User id>}, the first being the sponsor' }).max(11, 'owners: at most 11 (a sponsor and 10 backups)'),
  parent: z.looseObject({ value: z.string().regex(TETHER_ID, 'parent.value must be the id of an Agent') }, { error: 'parent must be an object' }).nullish(),
  [TETHER_AGENT_URN]: extensionSchema.optional(),
});

/**
 * A SCIM Agent body (POST / PUT, or the result of a PATCH) → the desired state. `previousName` settles a body
 * that carries both `agentUserName` and `name` with different values: the one that differs from it wins (a
 * PATCH changed it); with no previous name, they must agree. Every check runs before anything is written.
 */
export function toAgentWrite(body: unknown, previousName: string | null = null): AgentWrite {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new AppError('invalid_syntax', 'body must be a JSON object', { detail: 'The request body must be a SCIM Agent object' });
  }
  assertStorable(body as Record<string, unknown>, 'Agent');
  assertSchemasName(body as Record<string, unknown>, CORE_AGENT, 'Agent');
  const normalised: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) normalised[canonicalAgentAttribute(key)] = value;
  if (normalised[TETHER_AGENT_URN] === undefined) throw invalid(`${TETHER_AGENT_URN}:purpose is required: Tether registers no agent without a purpose`);
  const parsed = agentInput.safeParse(normalised);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(`${issue?.path.join('.') || 'Agent'}: ${issue?.message ?? 'invalid'}`);
  }
  const data = parsed.data;
  const extension = data[TETHER_AGENT_URN];
  if (extension === undefined) throw invalid(`${TETHER_AGENT_URN}:purpose is required`);
  const active = normalised['active'] === undefined || normalised['active'] === null ? true : coerceBoolean(normalised['active']);
  if (active === undefined) throw invalid('active must be true or false');
  const resource: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(normalised)) {
    if (!AGENT_READ_ONLY.includes(key) && !MAPPED.includes(key) && key !== CORE_AGENT && value !== null) resource[key] = value;
  }
  return {
    name: pickName(data.agentUserName ?? null, data.name ?? null, previousName),
    purpose: extension.purpose,
    environment: extension.environment ?? 'sandbox',
    ownerIds: data.owners.map((owner) => owner.value.toLowerCase()),
    requestedTools: extension.requestedTools ?? [],
    expiresAt: extension.expiresAt === undefined || extension.expiresAt === null ? null : new Date(extension.expiresAt),
    active,
    parentId: data.parent?.value.toLowerCase() ?? null,
    profile: {
      externalId: data.externalId ?? null,
      displayName: data.displayName ?? null,
      description: data.description ?? null,
      agentType: data.agentType ?? null,
      resource,
    },
  };
}

function pickName(agentUserName: string | null, name: string | null, previous: string | null): string {
  if (agentUserName === null && name === null) throw invalid('agentUserName is required (name, as draft-abbey spells it, is accepted too)');
  if (agentUserName === null || name === null || agentUserName === name) return (agentUserName ?? name) as string;
  if (previous !== null && agentUserName === previous) return name;
  if (previous !== null && name === previous) return agentUserName;
  throw invalid('agentUserName and name differ: send one, or the same value in both');
}

export function agentLocation(baseUrl: string, id: string): string {
  return `${baseUrl}/Agents/${id}`;
}

/** The representation a client may write back (PATCH works on it): no id, meta or computed attributes. */
export function writableAgent(agent: ProvisionedAgent, baseUrl: string): Record<string, unknown> {
  const { id: _id, meta: _meta, entitlements: _entitlements, ...writable } = toScimAgent(agent, baseUrl);
  return writable;
}

/** The SCIM representation of an agent: `entitlements` are its current effective rights (read-only). */
export function toScimAgent(agent: ProvisionedAgent, baseUrl: string): Record<string, unknown> {
  const { profile } = agent;
  const parent = profile.resource['parent'];
  const parentId = typeof parent === 'object' && parent !== null ? (parent as Record<string, unknown>)['value'] : undefined;
  return {
    // The Tether extension is always shown; any other extension the client stored is declared after it.
    schemas: [...new Set([CORE_AGENT, TETHER_AGENT_URN, ...declaredSchemas(CORE_AGENT, profile.resource)])],
    id: agent.id,
    ...(profile.externalId === null ? {} : { externalId: profile.externalId }),
    ...profile.resource,
    ...(typeof parentId === 'string' ? { parent: { ...(parent as Record<string, unknown>), $ref: agentLocation(baseUrl, parentId) } } : {}),
    agentUserName: agent.name,
    name: agent.name,
    ...(profile.displayName === null ? {} : { displayName: profile.displayName }),
    ...(profile.description === null ? {} : { description: profile.description }),
    ...(profile.agentType === null ? {} : { agentType: profile.agentType }),
    active: agent.state !== 'suspended',
    owners: agent.owners.map((owner) => ({
      value: owner.id, $ref: `${baseUrl}/Users/${owner.id}`, type: 'User', ...(owner.display === null ? {} : { display: owner.display }),
    })),
    entitlements: agent.effective.map((entitlement) => ({ value: entitlement.toolId, display: entitlement.system, type: entitlement.risk })),
    [TETHER_AGENT_URN]: {
      purpose: agent.purpose,
      environment: agent.environment,
      requestedTools: [...agent.requestedTools],
      ...(agent.expiresAt === null ? {} : { expiresAt: agent.expiresAt.toISOString() }),
      state: agent.state,
    },
    meta: {
      resourceType: 'Agent',
      created: agent.createdAt.toISOString(),
      lastModified: agent.updatedAt.toISOString(),
      location: agentLocation(baseUrl, agent.id),
      version: etag(agent.revision),
    },
  };
}

function invalid(detail: string): AppError {
  return new AppError('invalid_value', detail, { detail });
}
