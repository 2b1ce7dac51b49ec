import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ldapSourceSchema, type LdapSourceConfig } from '../../../connectors/ldap/config.js';
import { createLdapScanner } from '../../../connectors/ldap/scanner.js';
import { factsHash } from '../../../src/app/directory/ldap-facts-hash.js';
import type { DirectoryScanner, HashedEntry, ObjectType } from '../../../src/app/directory/sync-ports.js';
import { secretReference } from '../../../src/config/secrets.js';
import { readFileSync } from 'node:fs';
import { createScanThreads, withScanThread } from '../../../src/main/ldap-scan-thread.js';
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

  /** This process's established TCP connections to slapd (from /proc/net/tcp: local and remote both loopback). */
  function connectionsToSlapd(): number {
    const port = Number(new URL(slapd.url).port).toString(16).toUpperCase().padStart(4, '0');
    return readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)
      .filter((line) => { const fields = line.trim().split(/\s+/); return fields[2]?.endsWith(`:${port}`) === true && fields[3] === '01'; }).length;
  }

  it('keeps one thread per source between runs, without an LDAP connection, and reuses it', async () => {
    const threads = createScanThreads();
    const source = config();
    try {
      for (let run = 0; run < 3; run += 1) {
        const scanner = threads.scanner(source, createLdapScanner(source, { clock: () => new Date() }));
        expect((await onThread(scanner, 'person')).entries).toHaveLength(250);
        expect(connectionsToSlapd()).toBe(1);
        await scanner.close();
        expect(connectionsToSlapd()).toBe(0);
      }
      expect(threads.started).toBe(1);
      // A run abandoned after one page returns a thread that serves the next run in full.
      const abandoning = threads.scanner(source, createLdapScanner(source, { clock: () => new Date() }));
      for await (const page of abandoning.scanHashed?.('person') ?? []) {
        expect(page.entries).toHaveLength(40);
        break;
      }
      await abandoning.close();
      const next = threads.scanner(source, createLdapScanner(source, { clock: () => new Date() }));
      expect((await onThread(next, 'group')).entries).toHaveLength(7);
      await next.close();
      expect(threads.started).toBe(1);
    } finally {
      await threads.close();
    }
  });

  it('gives concurrent runs of one source a thread each, and keeps only one afterwards', async () => {
    const threads = createScanThreads();
    const source = config();
    try {
      const scanners = [0, 1].map(() => threads.scanner(source, createLdapScanner(source, { clock: () => new Date() })));
      const results = await Promise.all(scanners.map((scanner) => onThread(scanner, 'person')));
      expect(results.map((result) => result.entries.length)).toEqual([250, 250]);
      expect(threads.started).toBe(2);
      await Promise.all(scanners.map((scanner) => scanner.close()));
      const again = threads.scanner(source, createLdapScanner(source, { clock: () => new Date() }));
      expect((await onThread(again, 'person')).entries).toHaveLength(250);
      await again.close();
      expect(threads.started).toBe(2);
    } finally {
      await threads.close();
    }
  });

  it('a kept thread that reported a bind failure reports it again on the next run, not a closed thread', async () => {
    const threads = createScanThreads();
    const wrong = config({ bindPassword: 'env:TETHER_TEST_SCAN_WRONG' });
    try {
      for (let run = 0; run < 2; run += 1) {
        const failing = threads.scanner(wrong, createLdapScanner(wrong, { clock: () => new Date() }));
        await expect(onThread(failing, 'person')).rejects.toMatchObject({ name: 'AppError', code: 'invalid_config', message: expect.stringMatching(/invalid credentials/) });
        await failing.close();
      }
      expect(threads.started).toBe(1);
      expect(connectionsToSlapd()).toBe(0);
    } finally {
      await threads.close();
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
