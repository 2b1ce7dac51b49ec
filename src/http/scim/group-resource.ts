import { z } from 'zod';
import { AppError } from '../../domain/errors.js';
import type { GroupMember, GroupRecord, GroupWrite } from '../../app/records.js';
import { CORE_GROUP } from './constants.js';
import { assertSchemasName, assertStorable, canonicalGroupAttribute, declaredSchemas } from './attribute-names.js';
import { etag } from './user-resource.js';
import { withoutUnassigned } from './unassigned.js';

const READ_ONLY = new Set(['id', 'meta', 'schemas', 'members']);

/**
 * A member id names a User or Group of the source. One that names nothing (not a Tether id, or deleted) is
 * ignored rather than refused — see knownMembers in app/directory/groups.ts for why — so the only shape
 * rules here are that it is a non-empty string of sane length.
 */
export const MAX_MEMBER_ID_LENGTH = 256;

/** The shape of a Tether resource id (a UUID). */
export const MEMBER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const memberSchema = z.looseObject({ value: z.string().min(1, 'members[].value must not be empty').max(MAX_MEMBER_ID_LENGTH, 'members[].value is too long') });

const groupInput = z.looseObject({
  displayName: z.string({ error: 'displayName is required' }).trim().min(1, 'displayName must not be empty').max(512),
  externalId: z.string().max(512).nullish(),
  members: z.array(memberSchema).nullish(),
});

export interface ParsedGroup {
  readonly write: GroupWrite;
  readonly memberIds: readonly string[];
  /** Labels the client sent with members (`display`, or `displayName` as some clients write it). */
  readonly memberDisplays: ReadonlyMap<string, string>;
}

/** A SCIM Group body → the group's own attributes plus the member ids it lists. */
export function toGroupWrite(body: unknown): ParsedGroup {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new AppError('invalid_syntax', 'body must be a JSON object', { detail: 'The request body must be a SCIM Group object' });
  }
  // On the body as parsed (own `__proto__` keys included), before any of it is copied.
  assertStorable(body as Record<string, unknown>, 'Group');
  assertSchemasName(body as Record<string, unknown>, CORE_GROUP, 'Group');
  const normalised: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) normalised[canonicalGroupAttribute(key)] = value;
  const parsed = groupInput.safeParse(normalised);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError('invalid_value', issue?.message ?? 'invalid group', { detail: `${issue?.path.join('.') || 'Group'}: ${issue?.message ?? 'invalid'}` });
  }
  const resource: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(normalised)) if (!READ_ONLY.has(key.toLowerCase())) resource[key] = value;
  return {
    write: { displayName: parsed.data.displayName, externalId: parsed.data.externalId ?? null, resource: withoutUnassigned(resource) },
    memberIds: (parsed.data.members ?? []).map((member) => member.value),
    memberDisplays: memberDisplays(parsed.data.members ?? []),
  };
}

export function memberDisplays(members: readonly Readonly<Record<string, unknown>>[]): Map<string, string> {
  const displays = new Map<string, string>();
  for (const member of members) {
    const label = member['display'] ?? member['displayName'];
    if (typeof member['value'] === 'string' && typeof label === 'string' && label.trim() !== '') displays.set(member['value'], label.slice(0, 512));
  }
  return displays;
}

export function toScimGroup(group: GroupRecord, members: readonly GroupMember[], baseUrl: string): Record<string, unknown> {
  return {
    schemas: declaredSchemas(CORE_GROUP, group.resource),
    id: group.id,
    ...(group.externalId === null ? {} : { externalId: group.externalId }),
    ...group.resource,
    displayName: group.displayName,
    members: members.map((member) => ({
      value: member.id,
      ...(member.display === null ? {} : { display: member.display }),
      type: member.type,
      $ref: `${baseUrl}/${member.type === 'User' ? 'Users' : 'Groups'}/${member.id}`,
    })),
    meta: {
      resourceType: 'Group',
      created: group.createdAt.toISOString(),
      lastModified: group.updatedAt.toISOString(),
      location: `${baseUrl}/Groups/${group.id}`,
      version: etag(group.version),
    },
  };
}
