import { AppError } from '../../domain/errors.js';
import { CORE_USER, ENTERPRISE_USER } from './constants.js';

/** RFC 7643 attribute names are case-insensitive; Tether stores them in their canonical spelling. */
const USER_TOP_LEVEL = [
  'id', 'externalId', 'meta', 'schemas', 'userName', 'name', 'displayName', 'nickName', 'profileUrl', 'title', 'userType',
  'preferredLanguage', 'locale', 'timezone', 'active', 'password', 'emails', 'phoneNumbers', 'ims', 'photos', 'addresses',
  'groups', 'entitlements', 'roles', 'x509Certificates', ENTERPRISE_USER, CORE_USER,
];
const GROUP_TOP_LEVEL = ['id', 'externalId', 'meta', 'schemas', 'displayName', 'members'];

const USER_BY_LOWER = new Map(USER_TOP_LEVEL.map((name) => [name.toLowerCase(), name]));
const GROUP_BY_LOWER = new Map(GROUP_TOP_LEVEL.map((name) => [name.toLowerCase(), name]));

export function canonicalUserAttribute(name: string): string {
  return USER_BY_LOWER.get(name.toLowerCase()) ?? name;
}

export function canonicalGroupAttribute(name: string): string {
  return GROUP_BY_LOWER.get(name.toLowerCase()) ?? name;
}

/** A core schema URN (User, Group, Agent) names no container: core attributes are top-level. */
const CORE_SCHEMA = /^urn:ietf:params:scim:schemas:core:2\.0:[A-Za-z]+$/i;
const CORE_SCHEMA_PREFIX = /^urn:ietf:params:scim:schemas:core:2\.0:[A-Za-z]+:/i;

export function isCoreSchema(name: string): boolean {
  return CORE_SCHEMA.test(name);
}

/**
 * RFC 7644 §3.10: an attribute path may be qualified with its schema URN wherever one is allowed, so
 * `urn:ietf:params:scim:schemas:core:2.0:User:name.givenName` is `name.givenName` (as PATCH paths read it).
 */
export function withoutCoreSchema(path: string): string {
  return path.replace(CORE_SCHEMA_PREFIX, '');
}

/**
 * RFC 7643 §3: `schemas` names the schemas a body's attributes come from. Clients that omit it are served
 * (the endpoint says what the body is), but a list that does not name `required` (a Group URN in a User POST,
 * a string instead of a list) is a body of some other kind: refused before anything is read from it.
 */
export function assertSchemasName(body: Readonly<Record<string, unknown>>, required: string, what: string): void {
  const key = Object.keys(body).find((name) => name.toLowerCase() === 'schemas');
  if (key === undefined) return;
  const schemas = body[key];
  const names = Array.isArray(schemas) && schemas.every((item) => typeof item === 'string') ? schemas : null;
  if (names === null || !names.some((name) => name.toLowerCase() === required.toLowerCase())) {
    throw new AppError('invalid_syntax', `schemas must contain ${required}`, { detail: `${what}: schemas must contain ${required}, in a list of schema URNs` });
  }
}

/**
 * The `schemas` of a representation: its core schema, then every extension whose object it holds (the
 * enterprise extension, and extensions an IdP defined, such as Entra's `…:CustomExtensionName:2.0:User`),
 * so that no attribute is returned from a schema the resource does not declare.
 */
export function declaredSchemas(core: string, resource: Readonly<Record<string, unknown>>): string[] {
  const schemas = [core];
  for (const [name, value] of Object.entries(resource)) {
    if (name.startsWith('urn:') && value !== null && typeof value === 'object' && !Array.isArray(value) && !isCoreSchema(name)) schemas.push(name);
  }
  return schemas;
}

/** RFC 7643 §2.1 ATTRNAME, or a schema URN (extension attributes live under their URN). */
const ATTRIBUTE_NAME = /^(?:[A-Za-z][\w$-]*|urn:[A-Za-z0-9][\w.:-]*)$/;
/** Deeper than any SCIM schema (enterprise manager.value is 3); beyond it, nesting is abuse. */
const MAX_DEPTH = 16;

/**
 * Refuses JSON that PostgreSQL cannot store or that no SCIM schema describes: NUL characters (text and jsonb
 * reject them), lone UTF-16 surrogates (jsonb rejects their escapes), prototype keys, pathological nesting,
 * and top-level names that are not attribute names. Runs before any write, so bad input changes nothing.
 */
export function assertStorable(resource: Readonly<Record<string, unknown>>, what: string): void {
  for (const name of Object.keys(resource)) {
    if (!ATTRIBUTE_NAME.test(name)) throw invalid(`${what}: "${name.slice(0, 64)}" is not a valid attribute name`);
  }
  checkValue(resource, 0, what);
}

function checkValue(value: unknown, depth: number, what: string): void {
  if (typeof value === 'string') {
    if (!storableText(value)) throw invalid(`${what}: strings must not contain NUL characters or unpaired surrogates`);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (depth >= MAX_DEPTH) throw invalid(`${what}: values are nested more than ${MAX_DEPTH} levels deep`);
  if (Array.isArray(value)) {
    for (const item of value) checkValue(item, depth + 1, what);
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    if (key === '__proto__' || !storableText(key)) throw invalid(`${what}: "${key.slice(0, 64)}" is not a valid attribute name`);
    checkValue(item, depth + 1, what);
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function storableText(text: string): boolean {
  return !text.includes('\u0000') && !LONE_SURROGATE.test(text);
}

function invalid(detail: string): AppError {
  return new AppError('invalid_value', detail, { detail });
}
