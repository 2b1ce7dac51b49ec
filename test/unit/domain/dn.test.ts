import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalDn, parseDn, unescapeDnValue } from '../../../src/domain/dn.js';

describe('canonicalDn', () => {
  it.each([
    ['escaped comma and its hex pair (slapd returns the second for an entry added as the first)', 'cn=Doe\\, Jane,ou=People,dc=x', 'CN=Doe\\2C Jane,OU=people,DC=x'],
    ['case and spaces around separators', 'uid=Alice, ou=People , dc=Example', 'UID = alice,ou=people,dc=example'],
    ['runs of spaces inside a value (caseIgnoreMatch)', 'cn=John  Smith,dc=x', 'cn=john smith,dc=x'],
    ['the AVAs of a multi-valued RDN in any order', 'cn=Ann+uid=ann,ou=people,dc=x', 'uid=ann+cn=Ann,ou=people,dc=x'],
    ['UTF-8 spelled as hex pairs', 'cn=R\\C3\\A9seau,dc=x', 'cn=Réseau,dc=x'],
    ['an escaped plus', 'cn=a\\+b,dc=x', 'cn=a\\2bb,dc=x'],
  ])('one DN: %s', (_label, one, other) => {
    expect(canonicalDn(one)).toBe(canonicalDn(other));
  });

  it.each([
    ['a comma with and without the space after it', 'cn=Smith\\, John,dc=x', 'cn=Smith\\,John,dc=x'],
    ['an escaped plus and a multi-valued RDN', 'cn=a\\+uid=b,dc=x', 'cn=a+uid=b,dc=x'],
    ['an escaped comma and an RDN boundary', 'cn=a\\,ou=b,dc=x', 'cn=a,ou=b,dc=x'],
  ])('different DNs: %s', (_label, one, other) => {
    expect(canonicalDn(one)).not.toBe(canonicalDn(other));
  });

  it('is the old lower-casing for plain DNs (stored forms of plain DNs do not change)', () => {
    expect(canonicalDn('uid=alice,ou=people,dc=example,dc=org')).toBe('uid=alice,ou=people,dc=example,dc=org');
    expect(canonicalDn(' CN=Alice Archer, OU=Staff,DC=corp ')).toBe('cn=alice archer,ou=staff,dc=corp');
  });

  it('is idempotent, and equal for the DN rebuilt from its parsed values with every character escaped as hex', () => {
    const value = fc.string({ minLength: 1, maxLength: 8, unit: fc.constantFrom('a', 'B', ' ', ',', '+', '=', '\\', '"', '#', 'é', ';', '<') })
      .filter((text) => text.trim() !== '' && !text.startsWith('#'));
    fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom('cn', 'uid', 'ou'), value), { minLength: 1, maxLength: 4 }), (rdns) => {
      const hexEscaped = rdns.map(([type, text]) => `${type}=${[...new TextEncoder().encode(text)].map((byte) => `\\${byte.toString(16).padStart(2, '0')}`).join('')}`).join(',');
      const canonical = canonicalDn(hexEscaped);
      expect(canonicalDn(canonical)).toBe(canonical);
      expect(parseDn(hexEscaped).map((rdn) => rdn[0]?.value)).toEqual(rdns.map(([, text]) => text));
    }), { numRuns: 500 });
  });
});

describe('unescapeDnValue', () => {
  it('reads character escapes and hex pairs (UTF-8 included)', () => {
    expect(unescapeDnValue('Doe\\, Jane')).toBe('Doe, Jane');
    expect(unescapeDnValue('Doe\\2C Jane')).toBe('Doe, Jane');
    expect(unescapeDnValue('R\\c3\\a9seau')).toBe('Réseau');
    expect(unescapeDnValue('plain')).toBe('plain');
  });
});
