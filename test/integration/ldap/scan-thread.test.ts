import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ldapSourceSchema, type LdapSourceConfig } from '../../../connectors/ldap/config.js';
import { createLdapScanner } from '../../../connectors/ldap/scanner.js';
import { factsHash } from '../../../src/app/directory/ldap-facts-hash.js';
import type { DirectoryScanner, HashedEntry, ObjectType } from '../../../src/app/directory/sync-ports.js';
import { secretReference } from '../../../src/config/secrets.js';
import { withScanThread } from '../../../src/main/ldap-scan-thread.js';
import { READER_DN, READER_PASSWORD, startSlapd, type Slapd } from '../../support/slapd.js';

const PEOPLE = 'ou=people,dc=example,dc=org';
const GROUPS = 'ou=groups,dc=example,dc=org';

/** 250 people (every 7th locked), and groups of every size from 0 to 249 members. */
function directory(): string {
  // startSlapd seeds the suffix and both organizational units.
  const entries: string[] = [];
  for (let index = 0; index < 250; index += 1) {
    entries.push(`dn: uid=u${index},${PEOPLE}\nobjectClass: inetOrgPerson\nuid: u${index}\ncn: User ${index}\nsn: ${index}\nmail: u${index}@example.org\n`
      + `departmentNumber: d${index % 9}\ntitle: T\u00e9 ${index}\n${index > 0 ? `manager: uid=u${index - 1},${PEOPLE}\n` : ''}`);
  }
  for (let size = 1; size < 250; size += 37) {
    const members = Array.from({ length: size }, (_, index) => `member: uid=u${index},${PEOPLE}`).join('\n');
    entries.push(`dn: cn=g${size},${GROUPS}\nobjectClass: groupOfNames\ncn: g${size}\n${members}\n`);
  }
  return entries.join('\n');
}

describe('full scans on the LDAP scan thread', () => {
  let slapd: Slapd;
  const config = (overrides: Record<string, unknown> = {}): LdapSourceConfig => {
    process.env['TETHER_TEST_SCAN_PASSWORD'] = READER_PASSWORD;
    process.env['TETHER_TEST_SCAN_WRONG'] = 'not-the-password-at-all';
    return ldapSourceSchema(secretReference('/tmp')).parse({
      id: 'corp', kind: 'ldap', url: slapd.url, dialect: 'openldap', bindDn: READER_DN, bindPassword: 'env:TETHER_TEST_SCAN_PASSWORD',
      people: { baseDns: [PEOPLE] }, groups: { baseDns: [GROUPS] }, pageSize: 40, ...overrides,
    });
  };
  const threaded = (source: LdapSourceConfig) => withScanThread(source, createLdapScanner(source, { clock: () => new Date() }));

  type Scanned = HashedEntry & { readonly facts: unknown };

  async function inThread(scanner: DirectoryScanner, type: ObjectType): Promise<Scanned[]> {
    const entries: Scanned[] = [];
    for await (const page of scanner.scan(type, { since: null })) {
      for (const facts of page as readonly { key: string; active?: boolean }[]) {
        entries.push({ key: facts.key, hash: factsHash(facts), active: facts.active ?? null, facts: JSON.parse(JSON.stringify(facts)) });
      }
    }
    return entries;
  }

  /** Every entry with its facts asked from the thread (a run asks only for those it stages). */
  async function onThread(scanner: DirectoryScanner, type: ObjectType): Promise<{ entries: Scanned[]; pages: number }> {
    const entries: Scanned[] = [];
    let pages = 0;
    for await (const page of scanner.scanHashed?.(type) ?? []) {
      pages += 1;
      const facts = await page.facts(page.entries.map((entry) => entry.key));
      page.entries.forEach((entry, index) => entries.push({ ...entry, facts: facts[index] }));
    }
    return { entries, pages };
  }

  beforeAll(async () => {
    slapd = await startSlapd(directory());
  }, 120_000);

  afterAll(async () => {
    await slapd?.stop();
  });

  it('yields the same keys, hashes, states and facts as scanning and hashing on the run\'s thread, page by page', async () => {
    const plain = createLdapScanner(config(), { clock: () => new Date() });
    const scanner = threaded(config());
    try {
      for (const type of ['person', 'group'] as const) {
        const expected = await inThread(plain, type);
        const { entries, pages } = await onThread(scanner, type);
        expect(entries.length).toBeGreaterThan(0);
        expect(entries).toEqual(expected);
        expect(pages).toBe(type === 'person' ? Math.ceil(250 / 40) : 1);
        for (const entry of entries) expect(factsHash(entry.facts as object)).toBe(entry.hash);
      }
      expect((await onThread(scanner, 'person')).entries.filter((entry) => entry.active === true)).toHaveLength(250);
    } finally {
      await plain.close();
      await scanner.close();
    }
  });

  it('a scan abandoned after its first page leaves the thread ready for the next one', async () => {
    const scanner = threaded(config());
    try {
      for await (const page of scanner.scanHashed?.('person') ?? []) {
        expect(page.entries).toHaveLength(40);
        expect(await page.facts([])).toEqual([]);
        expect(await page.facts([page.entries[1]?.key ?? ''])).toMatchObject([{ key: page.entries[1]?.key }]);
        break;
      }
      expect((await onThread(scanner, 'person')).entries).toHaveLength(250);
    } finally {
      await scanner.close();
    }
  });

  it('reports a connection failure as the same AppError the connector raises', async () => {
    const scanner = threaded(config({ bindPassword: 'env:TETHER_TEST_SCAN_WRONG' }));
    try {
      await expect(onThread(scanner, 'person')).rejects.toMatchObject({ name: 'AppError', code: 'invalid_config', message: expect.stringMatching(/invalid credentials/) });
    } finally {
      await scanner.close();
    }
  });

  it('never hands the bind password to anything but the thread: the wire config is not serialisable to logs', async () => {
    const scanner = threaded(config());
    await scanner.close();
    expect(JSON.stringify(config())).not.toContain(READER_PASSWORD);
  });
});
