import { describe, expect, it } from 'vitest';
import type { LdapSession, SearchRequest } from '../../../connectors/ldap/client.js';
import { ldapSourceSchema } from '../../../connectors/ldap/config.js';
import { createLdapScanner, FULL_SCAN_READ_PAGE } from '../../../connectors/ldap/scanner.js';
import { Secret } from '../../../src/config/secrets.js';
import { z } from 'zod';

const config = ldapSourceSchema(z.string().transform((value) => new Secret(value, 'env:TEST'))).parse({
  id: 'corp', kind: 'ldap', url: 'ldap://ldap.test', dialect: 'openldap', bindDn: 'cn=reader,dc=x', bindPassword: 'env:TEST',
  people: { baseDns: ['ou=people,dc=x'] }, groups: { baseDns: ['ou=groups,dc=x'] }, clockSkewSeconds: 30,
});

function fakeSession(pages: Record<string, unknown>[][], requests: SearchRequest[]): LdapSession {
  return {
    async *searchPages(request) {
      requests.push(request);
      for (const page of pages) yield page as never;
    },
    readEntry: async () => ({ dn: '' }),
    close: async () => undefined,
  };
}

describe('LDAP scanner', () => {
  it('a page with a cookie but no entries does not end the scan', async () => {
    const requests: SearchRequest[] = [];
    const scanner = createLdapScanner(config, {
      clock: () => new Date('2025-01-01T00:00:30Z'),
      connect: async () => fakeSession([[], [{ dn: 'uid=a,dc=x', entryUUID: 'k1', uid: 'a' }], [], [{ dn: 'uid=b,dc=x', entryUUID: 'k2', uid: 'b' }]], requests),
    });
    const keys: string[] = [];
    for await (const page of scanner.scan('person', { since: null })) keys.push(...page.map((facts) => facts.key));
    expect(keys).toEqual(['k1', 'k2']);
    expect(requests[0]?.attributes).not.toContain('*');
  });
  it('a full scan reads small LDAP pages and hands them over in batches of pageSize; a delta scan page by page', async () => {
    const person = (index: number) => ({ dn: `uid=u${index},dc=x`, entryUUID: `k${index}`, uid: `u${index}` });
    // 7 server pages of 100 entries, then one of 30: 730 people.
    const serverPages = Array.from({ length: 8 }, (_, page) => Array.from({ length: page < 7 ? 100 : 30 }, (_, index) => person(page * 100 + index)));
    const requests: SearchRequest[] = [];
    const scanner = createLdapScanner({ ...config, pageSize: 250 }, { clock: () => new Date(), connect: async () => fakeSession(serverPages, requests) });
    const handed: number[] = [];
    const keys: string[] = [];
    for await (const page of scanner.scan('person', { since: null })) {
      handed.push(page.length);
      keys.push(...page.map((facts) => facts.key));
    }
    expect(requests[0]?.pageSize).toBe(Math.min(250, FULL_SCAN_READ_PAGE));
    expect(handed).toEqual([300, 300, 130]);
    expect(keys).toEqual(serverPages.flat().map((entry) => entry.entryUUID));
    // Delta scans (and key scans) ask for pages of pageSize and hand over each page as it comes.
    const delta: number[] = [];
    for await (const page of scanner.scan('person', { since: { kind: 'time', at: '2025-01-01T00:00:00.000Z' } })) delta.push(page.length);
    expect(requests[1]?.pageSize).toBe(250);
    expect(delta).toEqual([100, 100, 100, 100, 100, 100, 100, 30]);
  });
  it('takes the high-water mark minus the clock skew allowance, and filters deltas on modifyTimestamp', async () => {
    const requests: SearchRequest[] = [];
    const scanner = createLdapScanner(config, { clock: () => new Date('2025-01-01T00:00:30Z'), connect: async () => fakeSession([], requests) });
    const mark = await scanner.highWater();
    expect(mark).toEqual({ kind: 'time', at: '2025-01-01T00:00:00.000Z' });
    for await (const _ of scanner.scan('group', { since: mark })) expect.fail('no pages');
    expect(requests[0]?.filter).toBe('(&(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup))(modifyTimestamp>=20250101000000Z))');
  });
});

describe('AD delta cursor', () => {
  const adConfig = ldapSourceSchema(z.string().transform((value) => new Secret(value, 'env:TEST'))).parse({
    id: 'corp', kind: 'ldap', url: 'ldap://dc1.corp.example', dialect: 'ad', bindDn: 'CN=reader,DC=corp', bindPassword: 'env:TEST',
    people: { baseDns: ['OU=Staff,DC=corp'] }, groups: { baseDns: ['OU=Groups,DC=corp'] },
  });
  const INVOCATION = Buffer.from('00112233445566778899aabbccddeeff', 'hex');

  /** A DC whose root DSE says `usn`, and whose NTDS Settings show `invocation` (null: the reader cannot read it). */
  function dc(usn: string, invocation: Buffer | null): LdapSession {
    return {
      async *searchPages() { /* no entries */ },
      readEntry: async (dn) => {
        if (dn === '') return { dn: '', highestCommittedUSN: usn, dsServiceName: 'CN=NTDS Settings,CN=DC1,DC=corp', dnsHostName: 'dc1.corp.example' };
        return invocation === null ? null : { dn, invocationId: invocation };
      },
      close: async () => undefined,
    };
  }
  const usable = async (session: LdapSession, cursor: Record<string, string>) =>
    createLdapScanner(adConfig, { clock: () => new Date(), connect: async () => session }).deltaUsable(cursor);

  it('a cursor is good against the same DC and database, at or past its USN', async () => {
    const cursor = await createLdapScanner(adConfig, { clock: () => new Date(), connect: async () => dc('5000', INVOCATION) }).highWater();
    expect(cursor).toMatchObject({ kind: 'usn', usn: '5000', dc: 'dc1.corp.example' });
    expect(await usable(dc('5000', INVOCATION), cursor)).toBe(true);
    expect(await usable(dc('7000', INVOCATION), cursor)).toBe(true);
  });
  it('a delta poll of people also asks for the accounts whose accountExpires passed since the last poll (their expiry writes nothing)', async () => {
    const requests: SearchRequest[] = [];
    const session: LdapSession = { ...dc('5000', INVOCATION), searchPages: async function* (request) {
      requests.push(request);
      yield* [];
    } };
    let now = new Date('2026-01-01T00:00:00.000Z');
    const scanner = createLdapScanner(adConfig, { clock: () => now, connect: async () => session });
    const cursor = await scanner.highWater();
    expect(cursor).toMatchObject({ usn: '5000', at: '2026-01-01T00:00:00.000Z' });
    now = new Date('2026-01-01T00:01:00.000Z');
    for await (const _page of scanner.scan('person', { since: cursor })) { /* none */ }
    for await (const _page of scanner.scan('group', { since: cursor })) { /* none */ }
    // FILETIME: 100 ns ticks since 1601; 2026-01-01T00:00:00Z is 134116992000000000.
    expect(requests[0]?.filter).toBe(
      '(&(&(objectCategory=person)(objectClass=user))(|(uSNChanged>=5001)(&(accountExpires>=134116992000000000)(accountExpires<=134116992600000000))))',
    );
    expect(requests[1]?.filter).toMatch(/\(uSNChanged>=5001\)\)$/);
    expect(requests[1]?.filter).not.toMatch(/accountExpires/);
    // A cursor from before the window existed: changes only, as before.
    const { at: _at, ...older } = cursor;
    for await (const _page of scanner.scan('person', { since: older })) { /* none */ }
    expect(requests[2]?.filter).not.toMatch(/accountExpires/);
  });
  it('a restored database (new invocationId), a reverted one (USN below the cursor) or an unreadable invocationId needs a full run', async () => {
    const cursor = await createLdapScanner(adConfig, { clock: () => new Date(), connect: async () => dc('5000', INVOCATION) }).highWater();
    expect(await usable(dc('7000', Buffer.alloc(16, 1)), cursor)).toBe(false);
    expect(await usable(dc('4999', INVOCATION), cursor)).toBe(false);
    const blind = await createLdapScanner(adConfig, { clock: () => new Date(), connect: async () => dc('5000', null) }).highWater();
    expect(await usable(dc('5000', null), blind)).toBe(false);
  });
});
