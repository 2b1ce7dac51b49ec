import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalFacts, factsHash } from '../../../src/app/directory/ldap-facts-hash.js';

/**
 * The canonical form as first shipped: hashes already stored in sync_objects were computed with it, so the
 * faster implementation must produce the very same text (else every mirrored entry re-applies once).
 */
function reference(facts: object): string {
  const { sourceTime: _time, receivedAt: _received, ...rest } = facts as Record<string, unknown>;
  return createHash('sha256').update(canonicalReference(rest)).digest('hex');
}
function canonicalReference(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalReference).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonicalReference((value as Record<string, unknown>)[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The implementation before the per-shape fast path (canonical text), kept verbatim to compare against. */
function previousCanonicalFacts(facts: Readonly<Record<string, unknown>>): string {
  let text = '{';
  for (const key of Object.keys(facts).sort()) {
    if (key === 'sourceTime' || key === 'receivedAt') continue;
    text += `${text.length > 1 ? ',' : ''}${JSON.stringify(key)}:${previousCanonical(facts[key])}`;
  }
  return `${text}}`;
}
function previousCanonical(value: unknown): string {
  if (Array.isArray(value)) {
    if (value.every((item) => typeof item === 'string')) return JSON.stringify(value);
    return `[${value.map(previousCanonical).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    return `{${Object.keys(object).sort().map((key) => `${JSON.stringify(key)}:${previousCanonical(object[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Strings with what JSON escapes: quotes, backslashes, controls, lone and paired surrogates, non-ASCII. */
const awkwardString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.constantFrom('a', '"', '\\', '\n', '\u0000', '\u001f', '\u007f', '\ud800', '\udc00', '\ud83d\ude00', 'é', '\u2028') }),
);

const person = {
  key: '3f1c0a52-9a4e-4c1e-8d2f-0b6a7c9e1d23', dn: 'uid=alice,ou=people,dc=example,dc=org', userName: 'alice', displayName: 'Alice Ä "Q"',
  email: null, active: true, attributes: { title: 'AE', department: 'sales' }, managerDn: null, sourceTime: '2026-01-01T00:00:00.000Z',
};

describe('facts hash', () => {
  it('hashes exactly as the first implementation did (people, groups with thousands of members)', () => {
    expect(factsHash(person)).toBe(reference(person));
    const group = { key: 'g', dn: 'cn=x', name: 'X', memberDns: Array.from({ length: 3000 }, (_, i) => `uid=u${i},ou=people`), memberUids: [], sourceTime: null };
    expect(factsHash(group)).toBe(reference(group));
  });

  it('ignores the change times at the top level only, and key order everywhere', () => {
    expect(factsHash({ ...person, sourceTime: 'later', receivedAt: 'now' })).toBe(factsHash(person));
    expect(factsHash({ attributes: { b: '1', a: '2' }, key: 'k' })).toBe(factsHash({ key: 'k', attributes: { a: '2', b: '1' } }));
    expect(canonicalFacts({ attributes: { sourceTime: 'x' } })).toBe('{"attributes":{"sourceTime":"x"}}');
    expect(factsHash({ ...person, attributes: { ...person.attributes, title: 'CEO' } })).not.toBe(factsHash(person));
  });

  it('matches the first implementation on arbitrary JSON-like facts', () => {
    const value = fc.letrec((tie) => ({
      leaf: fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined)),
      array: fc.array(tie('any'), { maxLength: 4 }),
      object: fc.dictionary(fc.string(), tie('any'), { maxKeys: 4 }),
      any: fc.oneof({ depthSize: 'small' }, tie('leaf'), tie('array'), tie('object')),
    }));
    fc.assert(fc.property(fc.dictionary(fc.string(), value.any, { maxKeys: 8 }), (facts) => factsHash(facts) === reference(facts)));
  });

  it('writes the same canonical text as the implementation before the per-shape fast path, on arbitrary values', () => {
    const value = fc.letrec((tie) => ({
      leaf: fc.oneof(awkwardString, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined)),
      array: fc.oneof(fc.array(tie('any'), { maxLength: 4 }), fc.array(awkwardString, { maxLength: 6 })),
      object: fc.dictionary(fc.oneof(awkwardString, fc.constantFrom('sourceTime', 'receivedAt', '1', '10', '__proto__x')), tie('any'), { maxKeys: 5 }),
      any: fc.oneof({ depthSize: 'small' }, tie('leaf'), tie('array'), tie('object')),
    }));
    const key = fc.oneof(awkwardString, fc.constantFrom('sourceTime', 'receivedAt', 'key', 'dn', '2', '01'));
    fc.assert(fc.property(fc.dictionary(key, value.any, { maxKeys: 10 }), (facts) => canonicalFacts(facts) === previousCanonicalFacts(facts)), { numRuns: 2000 });
  });

  it('writes the same canonical text as before for facts of one shape seen many times, in any key order', () => {
    // Mapped facts share a shape (the fast path caches per shape): many entries of few shapes, keys in any
    // insertion order, rule attributes present or not, values with escapes.
    const nullable = fc.option(awkwardString, { nil: null });
    const personFacts = fc.record({
      key: awkwardString, dn: awkwardString, userName: awkwardString, displayName: nullable, email: nullable, active: fc.boolean(),
      attributes: fc.record({ title: awkwardString, department: awkwardString, employeeNumber: awkwardString, organization: awkwardString }, { requiredKeys: [] }),
      managerDn: nullable, sourceTime: nullable,
    });
    const groupFacts = fc.record({
      key: awkwardString, dn: awkwardString, name: awkwardString, memberDns: fc.array(awkwardString, { maxLength: 20 }), memberUids: fc.array(awkwardString, { maxLength: 5 }), sourceTime: nullable,
    });
    const reordered = (facts: Record<string, unknown>, order: readonly number[]) => {
      const keys = Object.keys(facts);
      return Object.fromEntries(order.map((index) => keys[index % keys.length] as string).concat(keys).map((name) => [name, facts[name]]));
    };
    const entry = fc.tuple(fc.oneof(personFacts, groupFacts), fc.array(fc.nat(), { maxLength: 4 })).map(([facts, order]) => reordered(facts, order));
    fc.assert(fc.property(fc.array(entry, { minLength: 1, maxLength: 60 }), (entries) =>
      entries.every((facts) => canonicalFacts(facts) === previousCanonicalFacts(facts) && factsHash(facts) === reference(facts))));
  });

  it('keeps shapes apart when more shapes are seen than it caches', () => {
    const many = Array.from({ length: 100 }, (_, index) => ({ [`k${index % 37}`]: index, [`j${index % 41}`]: 'v', attributes: { [`a${index % 53}`]: 'x', b: index } }));
    for (const facts of [...many, ...many]) expect(canonicalFacts(facts)).toBe(previousCanonicalFacts(facts));
  });
});
