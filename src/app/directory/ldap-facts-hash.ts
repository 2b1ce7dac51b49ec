/**
 * The hash of what Tether applies from a directory entry, stored in `sync_objects.facts_hash`: a run
 * stages (and applies) only entries whose hash differs from the stored one. The hashed text must never
 * change for the same facts (a different text would make the next run re-apply the whole directory), so
 * the canonical form is fixed: JSON with object keys sorted, no spaces, the change times left out.
 *
 * Every full reconciliation hashes every entry, so this is on the hot path. Facts of one kind all have the
 * same keys in the same order (one object shape), so the sorted key order and each key's JSON text
 * (`,"key":`) are worked out once per shape, not once per entry; strings that need no escaping are quoted
 * without a JSON.stringify call; arrays of strings (group members, thousands per group) are serialised by
 * the engine in one call, and the digest is one-shot. The text is the same as the plain definition's
 * (test/unit/ldap/facts-hash.test.ts checks it against that definition on generated facts).
 */
import { hash } from 'node:crypto';

/** Stable hash of what Tether applies from an entry; the change time alone is not a change. */
export function factsHash(facts: object): string {
  // One-shot `crypto.hash` (Node ≥ 20.12): no Hash object per entry.
  return hash('sha256', canonicalFacts(facts as Record<string, unknown>), 'hex');
}

/**
 * The hash a full scan stages an entry under. A group that lists members by user name (posixGroup
 * `memberUid`) is resolved against people who can change without the group changing: a renamed uid keeps a
 * membership it no longer has, a new person taking a listed uid lacks one, and nothing in the directory
 * rewrites `memberUid`. So in a full scan such a group's hash carries the scan's `nonce` and never equals
 * the stored one: every full reconciliation resolves it again (staged as `sameFacts`, not counted as a
 * change; a group whose members did not change records no event). Delta polls hash plainly.
 */
export function fullScanHash(facts: object, nonce: string): string {
  const plain = factsHash(facts);
  const memberUids = (facts as { memberUids?: unknown }).memberUids;
  return Array.isArray(memberUids) && memberUids.length > 0 ? `${plain}~${nonce}` : plain;
}

/** The canonical text of an entry's facts: `sourceTime` and `receivedAt` (top level) are not facts. */
export function canonicalFacts(facts: Readonly<Record<string, unknown>>): string {
  return objectText(facts, TOP_LEVEL);
}

/** Sorted-key JSON; `undefined` is written as `null` wherever it appears, as in arrays. */
export function canonical(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) {
    // For strings, JSON.stringify of the array is exactly the element texts joined by commas.
    if (value.every(isString)) return JSON.stringify(value);
    return `[${value.map(canonical).join(',')}]`;
  }
  if (typeof value === 'object') return objectText(value as Record<string, unknown>, NESTED);
  return JSON.stringify(value) ?? 'null';
}

const isString = (item: unknown): boolean => typeof item === 'string';

/**
 * A string as JSON: quoted as is unless it holds a character JSON escapes (controls, `"`, `\`) or a
 * surrogate (JSON.stringify escapes lone ones); those few go through JSON.stringify.
 */
function quote(text: string): string {
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || code === 0x22 || code === 0x5c || (code >= 0xd800 && code <= 0xdfff)) return JSON.stringify(text);
  }
  return `"${text}"`;
}

/** What an object's canonical text needs from its own keys (as Object.keys lists them): worked out once. */
interface Shape {
  /** The own keys in Object.keys order: the shape's identity. */
  readonly keys: readonly string[];
  /** The keys written, in sorted order. */
  readonly sorted: readonly string[];
  /** Each sorted key's JSON text with its separator: `"key":` for the first, `,"key":` for the others. */
  readonly prefixes: readonly string[];
}

/** Recently seen shapes, newest replacing the oldest once full; `skip` lists the keys left out. */
interface ShapeCache {
  readonly shapes: Shape[];
  next: number;
  readonly skip: ReadonlySet<string>;
}

const CACHED_SHAPES = 32;
const TOP_LEVEL: ShapeCache = { shapes: [], next: 0, skip: new Set(['sourceTime', 'receivedAt']) };
const NESTED: ShapeCache = { shapes: [], next: 0, skip: new Set() };

function objectText(object: Readonly<Record<string, unknown>>, cache: ShapeCache): string {
  const { sorted, prefixes } = shapeOf(Object.keys(object), cache);
  let text = '{';
  for (let index = 0; index < sorted.length; index += 1) text += prefixes[index] + canonical(object[sorted[index] as string]);
  return `${text}}`;
}

function shapeOf(keys: readonly string[], cache: ShapeCache): Shape {
  for (const shape of cache.shapes) {
    if (sameKeys(shape.keys, keys)) return shape;
  }
  // Default sort: UTF-16 code unit order, as the canonical form has always used.
  const sorted = [...keys].sort().filter((key) => !cache.skip.has(key));
  const shape: Shape = { keys, sorted, prefixes: sorted.map((key, index) => `${index > 0 ? ',' : ''}${JSON.stringify(key)}:`) };
  if (cache.shapes.length < CACHED_SHAPES) cache.shapes.push(shape);
  else {
    cache.shapes[cache.next] = shape;
    cache.next = (cache.next + 1) % CACHED_SHAPES;
  }
  return shape;
}

function sameKeys(known: readonly string[], keys: readonly string[]): boolean {
  if (known.length !== keys.length) return false;
  for (let index = 0; index < keys.length; index += 1) {
    if (known[index] !== keys[index]) return false;
  }
  return true;
}
