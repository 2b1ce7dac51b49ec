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
});
