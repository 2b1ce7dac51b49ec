import { z } from 'zod';
import { AppError } from '../../domain/errors.js';
import type { PersonRecord, PersonWrite } from '../../app/records.js';
import { CORE_USER, ENTERPRISE_USER } from './constants.js';
import { coerceBoolean } from './patch.js';
import { assertSchemasName, assertStorable, canonicalUserAttribute, declaredSchemas } from './attribute-names.js';
import type { ExpectedVersion } from '../../app/expected-version.js';
import { withoutUnassigned } from './unassigned.js';

/** Never stored, never returned (RFC 7643 §4.1.1 `password` is writeOnly). */
const WRITE_ONLY = new Set(['password']);
/** Server-assigned or computed: ignored on input (RFC 7644 §3.5.1 says readOnly values are ignored). */
const READ_ONLY = new Set(['id', 'meta', 'groups', 'schemas']);

const text = (max: number) => z.string().max(max).nullish();
/** Multi-valued complex attributes: lists of objects (RFC 7643 §2.4), never a bare string. */
const complexList = z.array(z.looseObject({}), { error: 'must be a list of objects' }).nullish();

const userInput = z.looseObject({
  userName: z.string({ error: 'userName is required' }).trim().min(1, 'userName must not be empty').max(256),
  externalId: z.string().max(512).nullish(),
  displayName: z.string().max(512).nullish(),
  name: z.looseObject({}, { error: 'name must be an object' }).nullish(),
  nickName: text(512),
  profileUrl: text(2048),
  title: text(512),
  userType: text(512),
  preferredLanguage: text(64),
  locale: text(64),
  timezone: text(64),
  emails: complexList,
  phoneNumbers: complexList,
  ims: complexList,
  photos: complexList,
  addresses: complexList,
  entitlements: complexList,
  roles: complexList,
  x509Certificates: complexList,
  [ENTERPRISE_USER]: z.looseObject({
    manager: z.union([z.string(), z.looseObject({ value: z.string().nullish() })], { error: 'manager must be an id or {value}' }).nullish(),
  }, { error: 'the enterprise extension must be an object' }).nullish(),
});

const MULTI_VALUED = ['emails', 'phoneNumbers', 'ims', 'photos', 'addresses', 'entitlements', 'roles', 'x509Certificates'];

/**
 * A SCIM User body (POST / PUT, or the result of a PATCH) → what the mirror stores. Attribute names are
 * normalised to their canonical spelling, booleans sent as strings ("True", Entra) are coerced, a manager
 * sent as a bare id (Entra) becomes `{value}`, the password is dropped, and the attributes that grant
 * rules read are flattened. Every check runs before anything is written.
 */
export function toPersonWrite(body: unknown): PersonWrite {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new AppError('invalid_syntax', 'body must be a JSON object', { detail: 'The request body must be a SCIM User object' });
  }
  // On the body as parsed (own `__proto__` keys included), before any of it is copied.
  assertStorable(body as Record<string, unknown>, 'User');
  assertSchemasName(body as Record<string, unknown>, CORE_USER, 'User');
  const resource: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    const name = canonicalUserAttribute(key);
    if (WRITE_ONLY.has(name.toLowerCase()) || READ_ONLY.has(name.toLowerCase())) continue;
    resource[name] = value;
  }
  const parsed = userInput.safeParse(resource);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError('invalid_value', issue?.message ?? 'invalid user', { detail: `${issue?.path.join('.') || 'User'}: ${issue?.message ?? 'invalid'}` });
  }
  const active = resource['active'] === undefined ? true : coerceBoolean(resource['active']);
  if (active === undefined) throw new AppError('invalid_value', 'active must be a boolean', { detail: 'active must be true or false' });
  resource['active'] = active;
  normaliseShapes(resource);
  const stored = withoutUnassigned(resource);
  return {
    userName: parsed.data.userName,
    externalId: parsed.data.externalId ?? null,
    displayName: parsed.data.displayName ?? null,
    active,
    attributes: ruleAttributes(stored),
    resource: stored,
  };
}

/**
 * Whether a PUT body leaves `active` out. RFC 7644 §3.5.1 makes an omitted attribute unassigned, and RFC
 * 7643 gives `active` no default; Tether keeps the current state then, because "unassigned" read as
 * "active" would re-enable a deactivated sponsor, and give their agents their rights back, whenever a
 * client replaces the user without restating it.
 */
export function omitsActive(body: unknown): boolean {
  return typeof body === 'object' && body !== null && !Object.keys(body).some((key) => key.toLowerCase() === 'active');
}

/** In place, on the fresh copy built by toPersonWrite: the spellings IdPs send → the RFC 7643 shapes. */
function normaliseShapes(resource: Record<string, unknown>): void {
  for (const name of MULTI_VALUED) {
    const list = resource[name];
    if (!Array.isArray(list)) continue;
    const normalised = list.map((element: Record<string, unknown>) => {
      const primary = coerceBoolean(element['primary']);
      return typeof element['primary'] === 'string' && primary !== undefined ? { ...element, primary } : element;
    });
    // RFC 7643 §2.4: "The primary attribute value 'true' MUST appear no more than once." (A PATCH that adds
    // a new primary value clears the others before it gets here.)
    if (normalised.filter((element) => element['primary'] === true).length > 1) {
      throw new AppError('invalid_value', `${name}: more than one primary value`, { detail: `${name}: at most one value may have "primary": true (RFC 7643 §2.4)` });
    }
    resource[name] = normalised;
  }
  const enterprise = resource[ENTERPRISE_USER];
  if (enterprise === null || typeof enterprise !== 'object') return;
  const extension = { ...(enterprise as Record<string, unknown>) };
  const managerKey = Object.keys(extension).find((key) => key.toLowerCase() === 'manager');
  const manager = managerKey === undefined ? undefined : extension[managerKey];
  if (managerKey !== undefined && typeof manager === 'string') {
    delete extension[managerKey];
    if (manager.trim() !== '') extension['manager'] = { value: manager.trim() };
  }
  resource[ENTERPRISE_USER] = extension;
}

/** The attributes grant rules may test, flattened to strings. Kept small: rules need facts, not profiles. */
function ruleAttributes(resource: Readonly<Record<string, unknown>>): Record<string, string> {
  const attributes: Record<string, string> = {};
  const put = (key: string, value: unknown) => {
    if (typeof value === 'string' && value !== '') attributes[key] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') attributes[key] = String(value);
  };
  put('title', resource['title']);
  put('userType', resource['userType']);
  put('locale', resource['locale']);
  const enterprise = resource[ENTERPRISE_USER];
  if (enterprise !== null && typeof enterprise === 'object' && !Array.isArray(enterprise)) {
    const extension = enterprise as Record<string, unknown>;
    for (const key of ['employeeNumber', 'costCenter', 'organization', 'division', 'department']) put(key, extension[key]);
    const manager = extension['manager'];
    put('manager', typeof manager === 'object' && manager !== null ? (manager as Record<string, unknown>)['value'] : undefined);
  }
  return attributes;
}

export function userLocation(baseUrl: string, id: string): string {
  return `${baseUrl}/Users/${id}`;
}

/** The SCIM representation of a mirrored person. `groups` is computed and read-only: direct and through nesting. */
export function toScimUser(
  person: PersonRecord,
  groups: readonly { id: string; display: string; type?: 'direct' | 'indirect' }[],
  baseUrl: string,
): Record<string, unknown> {
  return {
    schemas: declaredSchemas(CORE_USER, person.resource),
    id: person.id,
    ...(person.externalId === null ? {} : { externalId: person.externalId }),
    ...person.resource,
    userName: person.userName,
    active: person.active,
    groups: groups.map((group) => ({ value: group.id, display: group.display, $ref: `${baseUrl}/Groups/${group.id}`, type: group.type ?? 'direct' })),
    meta: {
      resourceType: 'User',
      created: person.createdAt.toISOString(),
      lastModified: person.updatedAt.toISOString(),
      location: userLocation(baseUrl, person.id),
      version: etag(person.version),
    },
  };
}

export function etag(version: number): string {
  return `W/"${version}"`;
}

/** Parses If-Match / If-None-Match values of the form W/"n" or "n"; `*` and junk give null. */
/**
 * If-Match as the versions it accepts: null when absent or `*` (any), else every listed tag that names a
 * version of ours (RFC 9110 §13.1.1; weak and strong compared alike, as SCIM versions are weak). A header
 * that names none of ours accepts nothing: the write is refused with 412, never applied blindly.
 */
export function ifMatchVersions(header: string | undefined): ExpectedVersion {
  if (header === undefined || header.trim() === '*') return null;
  const versions = taggedVersions(header);
  return versions.length === 1 ? (versions[0] as number) : versions;
}

/**
 * If-None-Match on a read (RFC 9110 §13.1.2): true for `*` (the resource exists: it was just read) or when
 * any listed tag names `version`, compared weakly (`W/"3"` and `"3"` alike). Checked before the body is
 * built: a large group's members are not read for a 304.
 */
export function notModified(header: string | undefined, version: number): boolean {
  if (header === undefined) return false;
  return header.trim() === '*' || taggedVersions(header).includes(version);
}

/** The versions of ours an entity-tag list names (`W/"3", "4"`); other tags name none. */
function taggedVersions(header: string): number[] {
  return header.split(',').map((tag) => parseEtag(tag)).filter((version): version is number => version !== null);
}

export function parseEtag(header: string | undefined): number | null {
  if (header === undefined) return null;
  const match = /^(?:W\/)?"(\d+)"$/.exec(header.trim());
  return match?.[1] === undefined ? null : Number.parseInt(match[1], 10);
}
