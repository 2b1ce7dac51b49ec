import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitFor } from './ports.js';

const run = promisify(execFile);

/** Debian installs slapd in /usr/sbin, which is often not on PATH. */
export const SLAPD = ['/usr/sbin/slapd', '/usr/local/sbin/slapd'].find((path) => existsSync(path)) ?? 'slapd';

export const SUFFIX = 'dc=example,dc=org';
export const ADMIN_DN = `cn=admin,${SUFFIX}`;
export const ADMIN_PASSWORD = 'admin-secret';
/** The account Tether binds as: read-only, no size limit on paged searches. */
export const READER_DN = `cn=reader,${SUFFIX}`;
export const READER_PASSWORD = 'reader-secret-0123456789';
/** An account with a server-side size limit of 5 entries, to prove the limit surfaces as an error. */
export const LIMITED_DN = `cn=limited,${SUFFIX}`;
export const LIMITED_PASSWORD = 'limited-secret-0123456789';

export interface Slapd {
  readonly url: string;
  readonly port: number;
  /** Applies an LDIF change set with ldapmodify as the rootdn (changetype lines allowed). */
  modify(ldif: string): Promise<void>;
  stop(): Promise<void>;
}

const BASE_LDIF = `dn: ${SUFFIX}
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ${READER_DN}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
userPassword: ${READER_PASSWORD}

dn: ${LIMITED_DN}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: limited
userPassword: ${LIMITED_PASSWORD}

dn: ou=people,${SUFFIX}
objectClass: organizationalUnit
ou: people

dn: ou=groups,${SUFFIX}
objectClass: organizationalUnit
ou: groups

dn: ou=services,${SUFFIX}
objectClass: organizationalUnit
ou: services
`;

export interface SlapdOptions {
  /** Further LDIF files loaded with slapadd after `ldif` (large generated directories need not be strings). */
  readonly seedFiles?: readonly string[];
  /** The mdb map size in bytes (default 1 GiB). */
  readonly maxSizeBytes?: number;
  /** Extra `index` lines, e.g. `modifyTimestamp eq` (objectClass and entryUUID are always indexed). */
  readonly indexes?: readonly string[];
  /** slapd's `idletimeout`: seconds after which it closes an idle client connection (default: never). */
  readonly idleTimeoutSeconds?: number;
}

/**
 * A throwaway slapd (Debian's OpenLDAP) on a free loopback port with its config, database and pid file in a
 * temp dir; `stop()` kills it and deletes the dir. Seeded with slapadd from `ldif` (after the base entries),
 * so no state crosses test files or runs. The ppolicy overlay provides pwdAccountLockedTime; refint keeps
 * group member DNs right across renames, as production OpenLDAP deployments usually do.
 */
export async function startSlapd(ldif = '', options: SlapdOptions = {}): Promise<Slapd> {
  const dir = mkdtempSync(join(tmpdir(), 'tether-slapd-'));
  const dbDir = join(dir, 'db');
  mkdirSync(dbDir);
  const conf = join(dir, 'slapd.conf');
  writeFileSync(conf, slapdConf(dir, dbDir, options));
  writeFileSync(join(dir, 'seed.ldif'), `${BASE_LDIF}\n${ldif}`);
  const slapadd = (file: string) =>
    run(SLAPD.replace(/slapd$/, 'slapadd'), ['-q', '-f', conf, '-l', file], { maxBuffer: 64 * 1024 * 1024 }).catch(async () =>
      run(SLAPD, ['-T', 'add', '-q', '-f', conf, '-l', file], { maxBuffer: 64 * 1024 * 1024 }),
    );
  try {
    for (const file of [join(dir, 'seed.ldif'), ...(options.seedFiles ?? [])]) await slapadd(file);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const port = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(SLAPD, ['-d', '0', '-f', conf, '-h', url], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  try {
    await waitFor(() => portAnswers(port), { timeoutMs: 15_000, intervalMs: 50, what: `slapd on ${port}: ${stderr}` });
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    port,
    async modify(changes: string) {
      const file = join(dir, `change-${Date.now()}-${Math.random().toString(36).slice(2)}.ldif`);
      writeFileSync(file, changes);
      await run('ldapmodify', ['-x', '-H', url, '-D', ADMIN_DN, '-w', ADMIN_PASSWORD, '-f', file]);
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function slapdConf(dir: string, dbDir: string, options: SlapdOptions = {}): string {
  return `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
moduleload refint
pidfile ${join(dir, 'slapd.pid')}
argsfile ${join(dir, 'slapd.args')}
sizelimit 500
${options.idleTimeoutSeconds === undefined ? '' : `idletimeout ${options.idleTimeoutSeconds}\n`}
database mdb
maxsize ${options.maxSizeBytes ?? 1073741824}
suffix "${SUFFIX}"
rootdn "${ADMIN_DN}"
rootpw ${ADMIN_PASSWORD}
directory ${dbDir}
index objectClass eq
index entryUUID eq
${(options.indexes ?? []).map((index) => `index ${index}\n`).join('')}limits dn.exact="${READER_DN}" size.soft=unlimited size.hard=unlimited size.prtotal=unlimited
limits dn.exact="${LIMITED_DN}" size.soft=5 size.hard=5 size.prtotal=5
access to attrs=userPassword by anonymous auth by * none
access to * by * read
overlay ppolicy
overlay refint
refint_attributes member uniqueMember
`;
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}
