import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../connectors/ldap/mapping/dialects.js';
import { resolveMapping, toGroupFacts, toPersonFacts, pendingRanges } from '../../../connectors/ldap/mapping/entries.js';
import { dateToFileTime, fileTimeToDate, first, generalizedTimeToIso, guidToBytes, guidToString, rangedValues, values, type LdapEntry } from '../../../connectors/ldap/mapping/values.js';
import { remainingMembers } from '../../../connectors/ldap/scanner.js';

const ad = resolveMapping({ mapping: {}, agents: undefined }, DIALECTS.ad);
const openldap = resolveMapping({ mapping: {}, agents: undefined }, DIALECTS.openldap);
const NOW = new Date('2025-06-01T00:00:00Z');

/** objectGUID bytes of {d2a4fa6e-4b3c-4f3a-9b2d-1c2e3f405162} exactly as AD sends them. */
const GUID_BYTES = Buffer.from('6efaa4d23c4b3a4f9b2d1c2e3f405162', 'hex');

/** A user entry shaped like ldapts returns it from AD (binary objectGUID, whenChanged with fraction). */
function adUser(overrides: Record<string, string | string[] | Buffer | undefined> = {}): LdapEntry {
  const entry: Record<string, string | string[] | Buffer | undefined> = {
    dn: 'CN=Alice Archer,OU=Staff,DC=corp,DC=example',
    objectGUID: GUID_BYTES,
    sAMAccountName: 'alice',
    displayName: 'Alice Archer',
    mail: 'alice@corp.example',
    department: 'Sales',
    title: 'AE',
    userAccountControl: '512',
    accountExpires: '9223372036854775807',
    whenChanged: '20250102030405.0Z',
    ...overrides,
  };
  // An override of undefined removes the attribute (the reader cannot see it).
  return Object.fromEntries(Object.entries(entry).filter(([, value]) => value !== undefined)) as LdapEntry;
}

describe('AD objectGUID', () => {
  it('reads the first three fields little-endian', () => {
    expect(guidToString(GUID_BYTES)).toBe('d2a4fa6e-4b3c-4f3a-9b2d-1c2e3f405162');
    expect(guidToBytes('d2a4fa6e-4b3c-4f3a-9b2d-1c2e3f405162').equals(GUID_BYTES)).toBe(true);
  });
  it('refuses a GUID that is not 16 bytes', () => {
    expect(() => guidToString(Buffer.alloc(15))).toThrow(/16 bytes/);
  });
  it('a string objectGUID (not requested as a buffer) gives no key rather than a wrong one', () => {
    expect(toPersonFacts(adUser({ objectGUID: 'garbled-text' }), ad, NOW)).toBeNull();
  });
});

describe('AD account state', () => {
  it.each([
    ['512 (normal account)', { userAccountControl: '512' }, true],
    ['514 (ACCOUNTDISABLE bit 0x2)', { userAccountControl: '514' }, false],
    ['66050 (disabled, password never expires)', { userAccountControl: '66050' }, false],
    ['66048 (enabled, password never expires)', { userAccountControl: '66048' }, true],
    ['accountExpires 0 means never', { accountExpires: '0' }, true],
    ['accountExpires in the past', { accountExpires: '133000000000000000' }, false],
    ['accountExpires in the future', { accountExpires: '139000000000000000' }, true],
    ['unparsable userAccountControl fails closed', { userAccountControl: 'x' }, false],
    ['userAccountControl the reader cannot see fails closed', { userAccountControl: undefined }, false],
  ])('%s', (_label, overrides, active) => {
    expect(toPersonFacts(adUser(overrides), ad, NOW)?.active).toBe(active);
  });
  it('FILETIME conversion', () => {
    expect(fileTimeToDate('116444736000000000')?.toISOString()).toBe('1970-01-01T00:00:00.000Z');
    expect(fileTimeToDate('9223372036854775807')).toBeNull();
    const instant = new Date('2026-03-04T05:06:07.089Z');
    expect(fileTimeToDate(dateToFileTime(instant))?.toISOString()).toBe(instant.toISOString());
  });
  it('maps the person with the GUID key, sAMAccountName and whenChanged', () => {
    expect(toPersonFacts(adUser(), ad, NOW)).toEqual({
      key: 'd2a4fa6e-4b3c-4f3a-9b2d-1c2e3f405162', dn: 'CN=Alice Archer,OU=Staff,DC=corp,DC=example', userName: 'alice', displayName: 'Alice Archer',
      email: 'alice@corp.example', active: true, attributes: { title: 'AE', department: 'Sales' }, managerDn: null, sourceTime: '2025-01-02T03:04:05.000Z',
    });
  });
  it('reads the manager DN (never a rule attribute value by itself)', () => {
    expect(toPersonFacts(adUser({ manager: 'CN=Bob Baker,OU=Staff,DC=corp,DC=example' }), ad, NOW)?.managerDn).toBe('CN=Bob Baker,OU=Staff,DC=corp,DC=example');
    expect(toPersonFacts(adUser({ manager: ' ' }), ad, NOW)?.managerDn).toBeNull();
  });
});

describe('ranged member retrieval (AD MaxValRange)', () => {
  const group: LdapEntry = {
    dn: 'CN=Big,OU=Groups,DC=corp,DC=example', objectGUID: GUID_BYTES, cn: 'Big',
    // ldapts reports the requested `member` as an empty list beside the ranged key.
    member: [],
    'member;range=0-1': ['CN=a,DC=corp', 'CN=b,DC=corp'],
  };
  it('prefers the ranged key over the spurious empty attribute and says where the next range starts', () => {
    expect(rangedValues(group, 'member')).toEqual({ values: ['CN=a,DC=corp', 'CN=b,DC=corp'], nextStart: 2 });
    expect(pendingRanges(group, DIALECTS.ad)).toEqual(new Map([['member', 2]]));
  });
  it('fetches the remaining ranges until one ends with *', async () => {
    const reads: string[] = [];
    const ranges: Record<string, LdapEntry> = {
      'member;range=2-*': { dn: group.dn, 'member;range=2-3': ['CN=c,DC=corp', 'CN=d,DC=corp'] },
      'member;range=4-*': { dn: group.dn, 'member;range=4-*': ['CN=e,DC=corp'] },
    };
    const extra = await remainingMembers(group, DIALECTS.ad, {
      readEntry: async (_dn, attributes) => {
        reads.push(attributes[0] ?? '');
        return ranges[attributes[0] ?? ''] ?? null;
      },
    });
    expect(reads).toEqual(['member;range=2-*', 'member;range=4-*']);
    const facts = toGroupFacts(group, ad, extra);
    expect(facts?.memberDns).toEqual(['CN=a,DC=corp', 'CN=b,DC=corp', 'CN=c,DC=corp', 'CN=d,DC=corp', 'CN=e,DC=corp']);
  });
});

describe('OpenLDAP shapes', () => {
  it('ppolicy: the administrative lock deactivates, an intruder-detection lock (a lock time) does not', () => {
    const entry: LdapEntry = { dn: 'uid=bob,ou=people,dc=x', entryUUID: 'u-1', uid: 'bob', cn: 'Bob', pwdAccountLockedTime: '000001010000Z' };
    expect(toPersonFacts(entry, openldap, NOW)?.active).toBe(false);
    // Set by failed binds; it lapses after pwdLockoutDuration but stays on the entry until the next good bind.
    expect(toPersonFacts({ ...entry, pwdAccountLockedTime: '20250101120000Z' }, openldap, NOW)?.active).toBe(true);
    const { pwdAccountLockedTime: _lock, ...unlocked } = entry;
    expect(toPersonFacts(unlocked, openldap, NOW)?.active).toBe(true);
  });
  it('groupOfUniqueNames bit strings are stripped; memberUid is kept as user names', () => {
    const groupEntry: LdapEntry = { dn: 'cn=g,dc=x', entryUUID: 'g-1', cn: 'g', uniqueMember: ["uid=bob,ou=people,dc=x#'0101'B"], memberUid: ['carol'] };
    expect(toGroupFacts(groupEntry, openldap)).toMatchObject({ memberDns: ['uid=bob,ou=people,dc=x'], memberUids: ['carol'] });
  });
  it('an entry without its immutable key or user name is skipped, never keyed by DN', () => {
    expect(toPersonFacts({ dn: 'uid=x,dc=x', uid: 'x' }, openldap, NOW)).toBeNull();
    expect(toPersonFacts({ dn: 'uid=x,dc=x', entryUUID: 'k' }, openldap, NOW)).toBeNull();
  });
  it('parses generalized time with and without fractions and offsets', () => {
    expect(generalizedTimeToIso('20250102030405Z')).toBe('2025-01-02T03:04:05.000Z');
    expect(generalizedTimeToIso('20250102030405.123Z')).toBe('2025-01-02T03:04:05.123Z');
    expect(generalizedTimeToIso('20250102030405+0100')).toBe('2025-01-02T02:04:05.000Z');
    expect(generalizedTimeToIso('garbage')).toBeNull();
  });
  it('reads the usual whole-second UTC stamp exactly as a Date would, for any instant, and leaves the rest to Date', () => {
    fc.assert(fc.property(fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2199-12-31T23:59:59Z'), noInvalidDate: true }), (date) => {
      const whole = new Date(Math.floor(date.getTime() / 1000) * 1000);
      const stamp = `${whole.toISOString().slice(0, 19).replace(/[-:T]/g, '')}Z`;
      expect(generalizedTimeToIso(stamp)).toBe(whole.toISOString());
    }), { numRuns: 2000 });
    expect(generalizedTimeToIso('20240229235959Z')).toBe('2024-02-29T23:59:59.000Z');
    expect(generalizedTimeToIso('20251331000000Z')).toBeNull();
    expect(generalizedTimeToIso('2025010203040Z')).toBeNull();
    expect(generalizedTimeToIso('20250102030460Z')).toBeNull();
  });
  it('finds an attribute under any spelling, and a value under another spelling beats the requested name left empty', () => {
    const entry = { dn: 'uid=x,dc=x', entryUUID: 'k', uid: 'x', departmentnumber: [], departmentNumber: ['d1'] } as unknown as LdapEntry;
    const facts = toPersonFacts(entry, resolveMapping({ mapping: { attributes: { department: 'departmentnumber' } }, agents: undefined }, DIALECTS.openldap), NOW);
    expect(facts?.attributes).toEqual({ department: 'd1' });
    expect(toPersonFacts({ dn: 'uid=x,dc=x', ENTRYUUID: 'k', UID: 'x' }, openldap, NOW)).toMatchObject({ key: 'k', userName: 'x' });
  });
});

describe('attribute lookup', () => {
  /** The lookup as first written (no remembered lower cases): exact name unless left empty, then any spelling. */
  function reference(entry: LdapEntry, attribute: string): LdapEntry[string] | undefined {
    const isEmpty = (value: unknown) => Array.isArray(value) && value.length === 0;
    if (attribute !== 'dn' && Object.hasOwn(entry, attribute) && !isEmpty(entry[attribute])) return entry[attribute];
    let empty: LdapEntry[string] | undefined;
    for (const key of Object.keys(entry)) {
      if (key === 'dn' || key.toLowerCase() !== attribute.toLowerCase()) continue;
      if (!isEmpty(entry[key])) return entry[key];
      empty = entry[key];
    }
    return empty;
  }
  const asList = (raw: LdapEntry[string] | undefined) => (raw === undefined ? [] : (Array.isArray(raw) ? raw : [raw]).map((item) => (typeof item === 'string' ? item : item.toString('utf8'))));

  it('reads the same values as the plain case-insensitive lookup, whatever the spellings (and more names than it remembers)', () => {
    // Names in mixed case (\u0130 and \u212a lower-case to other lengths or to ASCII), values present, empty or many.
    const name = fc.oneof(fc.constantFrom('mail', 'MAIL', 'Mail', 'uid', 'UID', 'member', 'pwdAccountLockedTime', 'pwdaccountlockedtime', '\u0130d', 'i\u0307d', '\u212aey', 'key'), fc.string({ minLength: 1, maxLength: 6 }));
    const value = fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 }));
    fc.assert(fc.property(fc.dictionary(name, value, { maxKeys: 8 }), fc.array(name, { minLength: 1, maxLength: 6 }), (attributes, wanted) => {
      const entry = { ...attributes, dn: 'uid=x,dc=x' } as LdapEntry;
      for (const attribute of wanted) {
        const expected = asList(reference(entry, attribute));
        expect(values(entry, attribute)).toEqual(expected);
        expect(first(entry, attribute)).toBe(expected[0] ?? null);
      }
    }), { numRuns: 3000 });
  });
});

describe('multi-valued naming attributes', () => {
  it('a person with several uid values is named by the one in its RDN, whatever order the server sends', () => {
    const entry: LdapEntry = { dn: 'uid=asmith,ou=people,dc=x', entryUUID: 'u-9', uid: ['alice', 'asmith'], cn: ['Alice Smith', 'A. Smith'] };
    expect(toPersonFacts(entry, openldap, NOW)?.userName).toBe('asmith');
    expect(toPersonFacts({ ...entry, uid: ['asmith', 'alice'] }, openldap, NOW)?.userName).toBe('asmith');
    // No RDN value among them: the first, as before.
    expect(toPersonFacts({ ...entry, dn: 'cn=Alice Smith,ou=people,dc=x' }, openldap, NOW)?.userName).toBe('alice');
  });
  it('a group named by an escaped or multi-valued RDN keeps its RDN name', () => {
    const group: LdapEntry = { dn: 'cn=Sales\\2C EMEA+ou=x,ou=groups,dc=x', entryUUID: 'g-9', cn: ['EMEA sales', 'Sales, EMEA'] };
    expect(toGroupFacts(group, openldap)?.name).toBe('Sales, EMEA');
    expect(toGroupFacts({ ...group, dn: 'cn=R\\C3\\A9seau,ou=groups,dc=x', cn: ['Network', 'Réseau'] }, openldap)?.name).toBe('Réseau');
  });
});
