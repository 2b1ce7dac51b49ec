/**
 * The `corp` LDAP source the LDAP tests point at a throwaway slapd (test/support/slapd.ts), bound as its
 * read-only reader, and one directory run of it as the sync worker runs one.
 */
import { ldapSourceSchema, type LdapSourceConfig } from '../../connectors/ldap/config.js';
import { createLdapScanner } from '../../connectors/ldap/scanner.js';
import { runDirectorySync, type SyncOutcome } from '../../src/app/directory/ldap-sync.js';
import { secretReference } from '../../src/config/secrets.js';
import { withScanThread } from '../../src/main/ldap-scan-thread.js';
import type { Store } from '../../src/store/index.js';
import { RecordingQueue, silentLogger } from './pipeline.js';
import { READER_DN, READER_PASSWORD, SUFFIX, type Slapd } from './slapd.js';

export const PEOPLE_BASE = `ou=people,${SUFFIX}`;
export const GROUPS_BASE = `ou=groups,${SUFFIX}`;

export function readerSource(slapd: Slapd, overrides: Record<string, unknown> = {}): LdapSourceConfig {
  process.env['TETHER_TEST_LDAP_READER'] = READER_PASSWORD;
  return ldapSourceSchema(secretReference('/tmp')).parse({
    id: 'corp', kind: 'ldap', url: slapd.url, dialect: 'openldap', bindDn: READER_DN, bindPassword: 'env:TETHER_TEST_LDAP_READER',
    people: { baseDns: [PEOPLE_BASE] }, groups: { baseDns: [GROUPS_BASE] }, ...overrides,
  });
}

/** One run of `config` into `store`; `thread`: full scans on a scan thread, as `tether start` runs them. */
export function runSource(store: Store, config: LdapSourceConfig, mode: 'delta' | 'full', options: { thread?: boolean } = {}): Promise<SyncOutcome> {
  const scanner = createLdapScanner(config, { clock: () => new Date() });
  return runDirectorySync({
    sourceId: config.id, store, scanner: options.thread === true ? withScanThread(config, scanner) : scanner, queue: new RecordingQueue(),
    clock: () => new Date(), logger: silentLogger, massChange: config.massChange, chunkSize: 100,
  }, { mode, trigger: 'test' });
}
