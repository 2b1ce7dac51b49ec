/**
 * RFC 7644 §3.5.2 PATCH on a SCIM resource held as plain JSON. Pure: returns a new object, never mutates.
 * Accepts what real identity providers send: capitalised ops ("Replace", Entra), pathless add/replace with
 * dotted or URN-qualified keys, removal of members by a value array (Entra), booleans as strings, `id`
 * echoed in a pathless group rename (Okta), and `add` on a value path with no match (Entra creates
 * `emails[type eq "work"].value` that way).
 */
import { parse, type Filter } from 'scim2-parse-filter';
import { AppError, type ErrorCode } from '../../domain/errors.js';
import { ENTERPRISE_USER, PATCH_OP } from './constants.js';
import { assertSchemasName, isCoreSchema } from './attribute-names.js';

export interface PatchOperation {
  readonly op: 'add' | 'replace' | 'remove';
  readonly path: string | null;
  readonly value: unknown;
}

export interface PatchOptions {
  /** Top-level attribute names (any case) that PATCH may not change: `mutability`. */
  readonly readOnly?: readonly string[];
  /** Spelling for a top-level key the patch creates (attribute names are case-insensitive). */
  readonly canonical?: (name: string) => string;
}

type Json = Record<string, unknown>;
type Op = PatchOperation['op'];

/** "true"/"false" in any case (Entra sends "True"), booleans as-is; anything else is undefined. */
export function coerceBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
  return undefined;
}

/**
 * Validates a PatchOp body. `schemas` is optional (some clients omit it; Operations alone is unambiguous),
 * but when present it must name the PatchOp URN. Paths are parsed here so a bad one fails before any write.
 */
export function parsePatchRequest(body: unknown): PatchOperation[] {
  if (!isObject(body)) throw fail('invalid_syntax', 'The PATCH body must be a PatchOp JSON object');
  assertSchemasName(body, PATCH_OP, 'PatchOp');
  const operations = body[findKey(body, 'Operations') ?? 'Operations'];
  if (!Array.isArray(operations) || operations.length === 0) throw fail('invalid_syntax', 'Operations must be a non-empty array');
  return operations.map((raw: unknown, index) => parseOperation(raw, `Operations[${index}]`));
}

function parseOperation(raw: unknown, where: string): PatchOperation {
  if (!isObject(raw)) throw fail('invalid_syntax', `${where} must be an object`);
  const field = (name: string): unknown => raw[findKey(raw, name) ?? name];
  const opText = field('op');
  const op = typeof opText === 'string' ? opText.trim().toLowerCase() : '';
  if (op !== 'add' && op !== 'replace' && op !== 'remove') throw fail('invalid_syntax', `${where}.op must be add, replace or remove`);
  const rawPath = field('path');
  if (rawPath !== undefined && rawPath !== null && (typeof rawPath !== 'string' || rawPath.trim() === '')) {
    throw fail('invalid_path', `${where}.path must be a non-empty string`);
  }
  const path = typeof rawPath === 'string' ? rawPath.trim() : null;
  const value = field('value');
  if (path !== null) parsePath(path, new Set());
  else if (op === 'remove') throw noTarget(`${where}: remove needs a path`);
  else if (!isObject(value)) throw fail('invalid_value', `${where}: an ${op} without path needs an object value`);
  if (op !== 'remove' && value === undefined) throw fail('invalid_value', `${where} needs a value`);
  return { op, path, value };
}

/** A path resolved to the chain of keys from the resource root, plus an optional value filter. */
interface ParsedPath {
  /** e.g. ['name', 'givenName'], [ENTERPRISE_USER, 'manager', 'value'], ['emails']. */
  readonly keys: readonly string[];
  readonly filter: Filter | null;
  /** Sub-attribute after the filter: `emails[type eq "work"].value`. */
  readonly filterSub: string | null;
}

const NAME = '[A-Za-z$][\\w$-]*';
const ATTR_PATH = new RegExp(`^(${NAME})(?:\\[(.*)\\])?(?:\\.(${NAME}))?$`);

/** `urns`: schema URNs known to the resource, so a bare `urn:...:User` is the extension, not `User` in `urn:...:2.0`. */
function parsePath(path: string, urns: ReadonlySet<string>): ParsedPath {
  let urn: string | null = null;
  let rest = path;
  if (/^urn:/i.test(path)) {
    if (urns.has(path.toLowerCase()) || isCoreSchema(path)) return { keys: [path], filter: null, filterSub: null };
    const bracket = path.indexOf('[');
    const colon = (bracket === -1 ? path : path.slice(0, bracket)).lastIndexOf(':');
    urn = path.slice(0, colon);
    rest = path.slice(colon + 1);
  }
  const match = ATTR_PATH.exec(rest);
  if (match?.[1] === undefined) throw fail('invalid_path', `Invalid attribute path "${path}"`);
  const [, attribute, filterText, sub] = match;
  const filter = filterText === undefined ? null : parseFilter(filterText, path);
  const chain = filter === null && sub !== undefined ? [attribute, sub] : [attribute];
  const keys = urn === null || isCoreSchema(urn) ? chain : [urn, ...chain];
  return { keys, filter, filterSub: filter === null ? null : (sub ?? null) };
}

function parseFilter(text: string, path: string): Filter {
  try {
    return parse(text);
  } catch {
    throw fail('invalid_filter', `Invalid filter in path "${path}"`);
  }
}

interface Context {
  readonly readOnly: ReadonlySet<string>;
  readonly canonical: (name: string) => string;
  readonly urns: ReadonlySet<string>;
}

export function applyPatch(resource: Readonly<Json>, operations: readonly PatchOperation[], options: PatchOptions = {}): Json {
  const result = structuredClone(resource) as Json;
  const context: Context = {
    readOnly: new Set((options.readOnly ?? []).map((name) => name.toLowerCase())),
    canonical: options.canonical ?? ((name) => name),
    urns: knownUrns(resource),
  };
  for (const operation of operations) {
    if (operation.path !== null) {
      applyAt(result, parsePath(operation.path, context.urns), operation.op, operation.value, context, false);
      continue;
    }
    if (operation.op === 'remove') throw noTarget('remove needs a path');
    if (!isObject(operation.value)) throw fail('invalid_value', `An ${operation.op} without path needs an object value`);
    for (const [path, value] of pathlessTargets(operation.value, context.urns)) applyAt(result, path, operation.op, value, context, true);
  }
  return result;
}

/** Keys of a pathless value are paths; an extension URN key with an object value spreads into its attributes. */
function pathlessTargets(value: Json, urns: ReadonlySet<string>): [ParsedPath, unknown][] {
  return Object.entries(value).flatMap(([key, item]): [ParsedPath, unknown][] => {
    const isSchema = urns.has(key.toLowerCase()) || isCoreSchema(key);
    if (isSchema && isObject(item)) return Object.entries(item).map(([inner, innerValue]) => [parsePath(`${key}:${inner}`, urns), innerValue]);
    return [[parsePath(key, urns), item]];
  });
}

function knownUrns(resource: Readonly<Json>): Set<string> {
  const schemas = resource[findKey(resource, 'schemas') ?? 'schemas'];
  const names = [ENTERPRISE_USER, ...Object.keys(resource), ...listOf(schemas)];
  return new Set(names.filter((name): name is string => typeof name === 'string' && /^urn:/i.test(name)).map((name) => name.toLowerCase()));
}

function applyAt(root: Json, path: ParsedPath, op: Op, value: unknown, context: Context, pathless: boolean): void {
  const [top, ...below] = path.keys as [string, ...string[]];
  // Read-only attributes are top-level names, or `urn.name` for one inside an extension.
  const readOnlyDepth = context.readOnly.has(top.toLowerCase()) ? 1 : below.length > 0 && context.readOnly.has(`${top}.${below[0]}`.toLowerCase()) ? 2 : 0;
  if (readOnlyDepth > 0) {
    // Okta's pathless group rename echoes `id`: like PUT (RFC 7644 §3.5.1) an unchanged or unstored
    // read-only value is ignored there. An explicit path to a read-only attribute is always refused.
    const container = readOnlyDepth === 1 ? root : root[findKey(root, top) ?? top];
    const name = readOnlyDepth === 1 ? top : (below[0] as string);
    const current = isObject(container) ? container[findKey(container, name) ?? name] : undefined;
    if (pathless && (current === undefined || (below.length === readOnlyDepth - 1 && path.filter === null && deepEqual(current, value)))) return;
    throw new AppError('mutability', 'read-only attribute', { detail: `Attribute ${path.keys.slice(0, readOnlyDepth).join(':')} is read-only`, meta: { path: path.keys.join('.') } });
  }
  let parent = root;
  let key = findKey(root, top) ?? context.canonical(top);
  for (const name of below) {
    if (!isObject(parent[key])) {
      if (op === 'remove') return; // removing something that is not there: idempotent no-op
      parent[key] = {};
    }
    parent = parent[key] as Json;
    key = findKey(parent, name) ?? name;
  }
  if (path.filter !== null) applyFiltered(parent, key, path.filter, path.filterSub, op, value);
  else if (op === 'remove') setOrDelete(parent, key, removeFrom(parent[key], value));
  else setOrDelete(parent, key, op === 'add' ? addValue(parent[key], value) : replaceValue(parent[key], value));
}

/** add: multi-valued → union (deep-equal values are not duplicated); complex → merge; otherwise set. */
function addValue(current: unknown, value: unknown): unknown {
  if (value === null) return current; // adding "unassigned" changes nothing (RFC 7643 §2.5)
  if (Array.isArray(current) || Array.isArray(value)) {
    const additions: unknown[] = Array.isArray(value) ? value : [value];
    const merged = [...listOf(current)];
    for (const item of additions) if (!merged.some((existing) => deepEqual(existing, item))) merged.push(item);
    return keepOnePrimary(merged, new Set(additions));
  }
  return isObject(current) && isObject(value) ? mergeWith(current, value, addValue) : value;
}

/** replace: complex → only the given sub-attributes change (RFC 7644 §3.5.2.3); arrays are replaced whole; null unassigns. */
function replaceValue(current: unknown, value: unknown): unknown {
  if (value === null) return undefined;
  return isObject(current) && isObject(value) ? mergeWith(current, value, replaceValue) : value;
}

/** remove with a value (Entra: members + [{value}]) removes only those elements; without one, the attribute. */
function removeFrom(current: unknown, value: unknown): unknown {
  if (!Array.isArray(current) || value === undefined || value === null) return undefined;
  const doomed: unknown[] = Array.isArray(value) ? value : [value];
  const kept = current.filter((element) => !doomed.some((item) => sameValue(element, item)));
  return kept.length === 0 ? undefined : kept; // no values left: unassigned (RFC 7644 §3.5.2.2)
}

function applyFiltered(parent: Json, key: string, filter: Filter, sub: string | null, op: Op, value: unknown): void {
  if (parent[key] !== undefined && !Array.isArray(parent[key])) throw fail('invalid_path', `${key} is not multi-valued, so it takes no filter`);
  const list = listOf(parent[key]);
  const hit = (element: unknown) => matches(element, filter);
  if (op === 'remove') {
    const kept = sub === null ? list.filter((element) => !hit(element)) : list.map((element) => (hit(element) ? updateElement(element, sub, op, undefined) : element));
    setOrDelete(parent, key, kept.length === 0 ? undefined : kept);
    return;
  }
  if (!list.some(hit)) {
    const created = newElement(filter, sub, op, value, key);
    parent[key] = keepOnePrimary([...list, created], new Set([created]));
    return;
  }
  const changed = new Set<unknown>();
  const updated = list.map((element) => {
    if (!hit(element)) return element;
    const next = updateElement(element, sub, op, value);
    changed.add(next);
    return next;
  });
  parent[key] = keepOnePrimary(updated, changed);
}

function updateElement(element: unknown, sub: string | null, op: Op, value: unknown): unknown {
  if (sub === null) return op === 'add' ? addValue(element, value) : value;
  const copy: Json = isObject(element) ? { ...element } : {};
  const name = findKey(copy, sub) ?? sub;
  setOrDelete(copy, name, op === 'remove' ? undefined : op === 'add' ? addValue(copy[name], value) : replaceValue(copy[name], value));
  return copy;
}

/** `add emails[type eq "work"].value` with no work email creates {type:"work", value}; replace has no target. */
function newElement(filter: Filter, sub: string | null, op: Op, value: unknown, key: string): Json {
  const seed = op === 'add' ? seedFrom(filter) : null;
  if (seed === null) throw noTarget(`no target: no ${key} value matches the filter`);
  if (sub !== null) return { ...seed, [sub]: value };
  if (!isObject(value)) throw fail('invalid_value', `The value for ${key}[...] must be an object`);
  return mergeWith(seed, value, replaceValue);
}

/** The attributes an `eq` (or an `and` of `eq`s) filter pins down; null when it pins down nothing usable. */
function seedFrom(filter: Filter): Json | null {
  if (filter.op === 'eq' && !filter.attrPath.includes('.') && filter.compValue !== null) return { [filter.attrPath]: filter.compValue };
  if (filter.op !== 'and') return null;
  const seeds = filter.filters.map(seedFrom);
  return seeds.includes(null) ? null : Object.fromEntries(seeds.flatMap((seed) => Object.entries(seed ?? {})));
}

/** RFC 7644 §3.5.2: making one value primary makes every other value non-primary. */
function keepOnePrimary(list: unknown[], changed: ReadonlySet<unknown>): unknown[] {
  const winner = list.findLast((element) => changed.has(element) && isPrimary(element));
  if (winner === undefined) return list;
  return list.map((element) => (element !== winner && isPrimary(element) ? { ...(element as Json), [findKey(element as Json, 'primary') ?? 'primary']: false } : element));
}

function isPrimary(element: unknown): boolean {
  return isObject(element) && coerceBoolean(element[findKey(element, 'primary') ?? 'primary']) === true;
}

/** Value-filter evaluation with case-insensitive names and string values (RFC 7644 §3.4.2.2, caseExact=false). */
function matches(element: unknown, filter: Filter): boolean {
  switch (filter.op) {
    case 'and': return filter.filters.every((inner) => matches(element, inner));
    case 'or': return filter.filters.some((inner) => matches(element, inner));
    case 'not': return !matches(element, filter.filter);
    case '[]': {
      const inner = lookup(element, filter.attrPath);
      return Array.isArray(inner) && inner.some((item) => matches(item, filter.valFilter));
    }
    case 'pr': {
      const found = lookup(element, filter.attrPath);
      return found !== undefined && found !== null && found !== '' && !(Array.isArray(found) && found.length === 0);
    }
    default: return compare(filter.op, lookup(element, filter.attrPath), filter.compValue);
  }
}

function compare(op: Exclude<Filter['op'], 'and' | 'or' | 'not' | '[]' | 'pr'>, actual: unknown, expected: unknown): boolean {
  const fold = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v);
  const a = fold(typeof expected === 'boolean' ? (coerceBoolean(actual) ?? actual) : actual);
  const e = fold(expected);
  const strings = typeof a === 'string' && typeof e === 'string';
  const comparable = strings || (typeof a === 'number' && typeof e === 'number');
  switch (op) {
    case 'eq': return a === e;
    case 'ne': return a !== e;
    case 'co': return strings && a.includes(e);
    case 'sw': return strings && a.startsWith(e);
    case 'ew': return strings && a.endsWith(e);
    case 'gt': return comparable && (a as number) > (e as number);
    case 'ge': return comparable && (a as number) >= (e as number);
    case 'lt': return comparable && (a as number) < (e as number);
    case 'le': return comparable && (a as number) <= (e as number);
  }
}

/** `value` of a primitive element is the element itself (e.g. `schemas[value eq "..."]`). */
function lookup(element: unknown, attrPath: string): unknown {
  if (!isObject(element)) return attrPath.toLowerCase() === 'value' ? element : undefined;
  return attrPath.split('.').reduce<unknown>((node, name) => (isObject(node) ? node[findKey(node, name) ?? name] : undefined), element);
}

/** Element equality for removal by value: on `value` when both have one (member ids), else deep equality. */
function sameValue(element: unknown, item: unknown): boolean {
  if (isObject(element) && isObject(item)) {
    const left = findKey(element, 'value');
    const right = findKey(item, 'value');
    if (left !== undefined && right !== undefined) return deepEqual(element[left], item[right]);
  }
  return deepEqual(element, item);
}

/** Structural equality with case-insensitive keys and key order ignored. */
function deepEqual(left: unknown, right: unknown): boolean {
  if (Array.isArray(left) || Array.isArray(right)) {
    return Array.isArray(left) && Array.isArray(right) && left.length === right.length && left.every((item, i) => deepEqual(item, right[i]));
  }
  if (!isObject(left) || !isObject(right)) return left === right;
  const keys = Object.keys(left);
  if (keys.length !== Object.keys(right).length) return false;
  return keys.every((key) => {
    const other = findKey(right, key);
    return other !== undefined && deepEqual(left[key], right[other]);
  });
}

/** Merges `value` into a copy of `current`, matching keys case-insensitively and combining each with `combine`. */
function mergeWith(current: Json, value: Json, combine: (current: unknown, value: unknown) => unknown): Json {
  const merged: Json = { ...current };
  for (const [name, item] of Object.entries(value)) {
    const key = findKey(merged, name) ?? name;
    setOrDelete(merged, key, combine(merged[key], item));
  }
  return merged;
}

function setOrDelete(object: Json, key: string, value: unknown): void {
  if (value === undefined) delete object[key];
  else object[key] = value;
}

function findKey(object: Readonly<Json>, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.keys(object).find((key) => key.toLowerCase() === lower);
}

function listOf(value: unknown): unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : [];
}

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function fail(code: ErrorCode, detail: string): AppError {
  return new AppError(code, detail, { detail });
}

/** RFC 7644 §3.5.2: a remove without path, or a filter that matches nothing, is 400 `noTarget`. */
function noTarget(detail: string): AppError {
  return new AppError('no_target', 'no target', { detail });
}
