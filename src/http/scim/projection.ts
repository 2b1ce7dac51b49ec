import { isCoreSchema, withoutCoreSchema } from './attribute-names.js';

/**
 * `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5 and §3.9). `id`, `schemas` and `meta.resourceType`
 * are always returned. Names are case-insensitive; sub-attributes (`name.givenName`), URN-qualified names
 * (`urn:...:core:2.0:User:userName`, `urn:...:enterprise:2.0:User:department`), a whole schema URN and
 * value-path forms (`emails[type eq "work"]`, sent by Entra) are accepted.
 */
const ALWAYS = new Set(['id', 'schemas']);

export interface Projection {
  readonly attributes: readonly string[] | null;
  readonly excluded: readonly string[];
}

export function parseProjection(attributes: unknown, excluded: unknown): Projection {
  return { attributes: attributes === undefined ? null : splitList(attributes), excluded: excluded === undefined ? [] : splitList(excluded) };
}

function splitList(value: unknown): string[] {
  const text = Array.isArray(value) ? value.join(',') : typeof value === 'string' ? value : '';
  return text
    .split(',')
    .map((item) => withoutCoreSchema(item.trim().replace(/\[.*\]/, '')))
    .filter((item) => item.length > 0);
}

export function project(resource: Readonly<Record<string, unknown>>, projection: Projection): Record<string, unknown> {
  if (projection.attributes === null && projection.excluded.length === 0) return { ...resource };
  if (projection.attributes !== null) {
    const result: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(resource)) {
      if (ALWAYS.has(key)) result[key] = value;
    }
    for (const path of projection.attributes) copyPath(resource, result, path);
    return result;
  }
  const result: Record<string, unknown> = structuredClone(resource);
  for (const path of projection.excluded) removePath(result, path);
  return result;
}

function resolve(resource: Readonly<Record<string, unknown>>, path: string): { container: string; sub: string | null } {
  const lower = path.toLowerCase();
  // A whole extension URN names the extension object.
  const extension = Object.keys(resource).find((key) => key.startsWith('urn:') && key.toLowerCase() === lower);
  if (extension !== undefined) return { container: extension, sub: null };
  const urnKey = Object.keys(resource).find((key) => key.startsWith('urn:') && lower.startsWith(`${key.toLowerCase()}:`));
  if (urnKey !== undefined) return { container: urnKey, sub: path.slice(urnKey.length + 1) };
  const [head, ...rest] = path.split('.');
  const key = Object.keys(resource).find((candidate) => candidate.toLowerCase() === (head ?? '').toLowerCase());
  return { container: key ?? head ?? path, sub: rest.length === 0 ? null : rest.join('.') };
}

function findKey(object: Readonly<Record<string, unknown>>, name: string): string | undefined {
  return Object.keys(object).find((key) => key.toLowerCase() === name.toLowerCase());
}

/** A bare core schema URN names every core attribute: all but the extension objects. */
function coreKeys(resource: Readonly<Record<string, unknown>>): string[] {
  return Object.keys(resource).filter((key) => !key.startsWith('urn:'));
}

function copyPath(from: Readonly<Record<string, unknown>>, to: Record<string, unknown>, path: string): void {
  if (isCoreSchema(path)) {
    for (const key of coreKeys(from)) to[key] = from[key];
    return;
  }
  const { container, sub } = resolve(from, path);
  const value = from[container];
  if (value === undefined) return;
  if (sub === null) {
    to[container] = value;
    return;
  }
  if (Array.isArray(value)) {
    const existing: Record<string, unknown>[] = Array.isArray(to[container]) ? (to[container] as Record<string, unknown>[]) : value.map(() => ({}));
    value.forEach((element, index) => {
      if (element === null || typeof element !== 'object') return;
      const key = findKey(element as Record<string, unknown>, sub);
      const slot = existing[index];
      if (key !== undefined && slot !== undefined) slot[key] = (element as Record<string, unknown>)[key];
    });
    to[container] = existing;
    return;
  }
  if (typeof value === 'object' && value !== null) {
    const target = (typeof to[container] === 'object' && to[container] !== null ? to[container] : {}) as Record<string, unknown>;
    const inner = sub.includes('.') ? resolve(value as Record<string, unknown>, sub) : { container: findKey(value as Record<string, unknown>, sub) ?? sub, sub: null };
    if (inner.sub === null) {
      const innerValue = (value as Record<string, unknown>)[inner.container];
      if (innerValue !== undefined) target[inner.container] = innerValue;
    } else {
      copyPath(value as Record<string, unknown>, target, sub);
    }
    to[container] = target;
  }
}

function removePath(resource: Record<string, unknown>, path: string): void {
  if (isCoreSchema(path)) {
    for (const key of coreKeys(resource)) removePath(resource, key);
    return;
  }
  const { container, sub } = resolve(resource, path);
  if (ALWAYS.has(container)) return;
  if (sub === null) {
    delete resource[container];
    return;
  }
  const value = resource[container];
  const elements = Array.isArray(value) ? value : [value];
  for (const element of elements) {
    if (element === null || typeof element !== 'object') continue;
    const key = findKey(element as Record<string, unknown>, sub);
    if (key !== undefined) delete (element as Record<string, unknown>)[key];
  }
}
