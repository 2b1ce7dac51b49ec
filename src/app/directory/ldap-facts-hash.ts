/**
 * The hash of what Tether applies from a directory entry, stored in `sync_objects.facts_hash`: a run
 * stages (and applies) only entries whose hash differs from the stored one. The hashed text must never
 * change for the same facts (a different text would make the next run re-apply the whole directory), so
 * the canonical form is fixed: JSON with object keys sorted, no spaces, the change times left out.
 *
 * Every full reconciliation hashes every entry, so this is on the hot path: arrays of strings (group
 * members, thousands per group) are serialised by the engine in one call, and the digest is one-shot.
 */
import { hash } from 'node:crypto';

/** Stable hash of what Tether applies from an entry; the change time alone is not a change. */
export function factsHash(facts: object): string {
  // One-shot `crypto.hash` (Node ≥ 20.12): no Hash object per entry.
  return hash('sha256', canonicalFacts(facts as Record<string, unknown>), 'hex');
}

/** The canonical text of an entry's facts: `sourceTime` and `receivedAt` (top level) are not facts. */
export function canonicalFacts(facts: Readonly<Record<string, unknown>>): string {
  let text = '{';
  for (const key of Object.keys(facts).sort()) {
    if (key === 'sourceTime' || key === 'receivedAt') continue;
    text += `${text.length > 1 ? ',' : ''}${JSON.stringify(key)}:${canonical(facts[key])}`;
  }
  return `${text}}`;
}

/** Sorted-key JSON; `undefined` is written as `null` wherever it appears, as in arrays. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) {
    // For strings, JSON.stringify of the array is exactly the element texts joined by commas.
    if (value.every((item) => typeof item === 'string')) return JSON.stringify(value);
    return `[${value.map(canonical).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    return `{${Object.keys(object).sort().map((key) => `${JSON.stringify(key)}:${canonical(object[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
