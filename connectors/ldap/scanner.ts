/**
 * The LDAP source as the sync use case sees it (DirectoryScanner): delta and full scans streamed page by
 * page, key-only scans for deletion detection, and each dialect's change-tracking cursor.
 */
import type { DirectoryScanner, FactsOf, ObjectType, ScanOptions, SyncCursor } from '../../src/app/directory/sync-ports.js';
import { AppError } from '../../src/domain/errors.js';
import { connectLdap, type LdapConnect, type LdapSession } from './client.js';
import type { LdapSourceConfig } from './config.js';
import { DIALECTS, type DialectProfile } from './mapping/dialects.js';
import {
  agentAttributes, entryKey, groupAttributes, pendingRanges, personAttributes, resolveMapping, toAgentFacts, toGroupFacts, toPersonFacts,
} from './mapping/entries.js';
import { dateToFileTime, first, firstBuffer, guidToString, isoToGeneralizedTime, rangedValues, type LdapEntry } from './mapping/values.js';
import { readAhead } from './read-ahead.js';

/** Entries per LDAP page of a full scan (at most `pageSize`); see `scan`. */
export const FULL_SCAN_READ_PAGE = 100;

export interface LdapScannerDeps {
  readonly clock: () => Date;
  readonly connect?: LdapConnect;
}

interface Scope {
  readonly baseDns: readonly string[];
  readonly filter: string;
  readonly scope: 'one' | 'sub';
}

export function createLdapScanner(config: LdapSourceConfig, deps: LdapScannerDeps): DirectoryScanner {
  const profile = DIALECTS[config.dialect];
  const mapping = resolveMapping(config, profile);
  const connect = deps.connect ?? connectLdap;
  let session: Promise<LdapSession> | null = null;
  const open = (): Promise<LdapSession> => {
    session ??= connect(config).catch((error: unknown) => {
      session = null;
      throw error;
    });
    return session;
  };
  const scopes: Record<ObjectType, Scope | null> = {
    person: { baseDns: config.people.baseDns, filter: config.people.filter ?? profile.peopleFilter, scope: config.people.scope },
    group: { baseDns: config.groups.baseDns, filter: config.groups.filter ?? profile.groupFilter, scope: config.groups.scope },
    agent: config.agents === undefined ? null : { baseDns: config.agents.baseDns, filter: config.agents.filter, scope: config.agents.scope },
  };

  async function* pages(type: ObjectType, filter: string, attributes: readonly string[], pageSize = config.pageSize): AsyncIterable<LdapEntry[]> {
    const scope = scopes[type];
    if (scope === null) return;
    const ldap = await open();
    for (const base of scope.baseDns) {
      yield* readAhead(ldap.searchPages({ base, scope: scope.scope, filter, attributes, binaryAttributes: profile.binaryAttributes, pageSize }));
    }
  }

  return {
    agentsConfigured: config.agents !== undefined,

    async check() {
      const ldap = await open();
      const root = await ldap.readEntry('', ['vendorName', 'vendorVersion', 'dnsHostName', 'supportedLDAPVersion']);
      if (root === null) throw new AppError('unavailable', `LDAP source "${config.id}" (${config.url}): the root DSE is not readable`);
      return { server: first(root, 'dnsHostName') ?? first(root, 'vendorName') ?? new URL(config.url).host };
    },

    async highWater() {
      if (profile.changeTracking === 'usn') return { ...(await adWatermark(await open(), config)), at: deps.clock().toISOString() };
      const at = new Date(deps.clock().getTime() - config.clockSkewSeconds * 1000);
      return { kind: 'time', at: at.toISOString() };
    },

    async deltaUsable(cursor) {
      if (profile.changeTracking !== 'usn') return cursor['kind'] === 'time' && typeof cursor['at'] === 'string';
      if (cursor['kind'] !== 'usn') return false;
      const current = await adWatermark(await open(), config);
      // Another DC, or a DC restored from backup (new invocationId), numbers its changes differently. An
      // invocationId the reader cannot see proves nothing, and a highest USN below the cursor's means the
      // database went back in time (a snapshot revert that kept its invocationId): a full run either way.
      return current['invocationId'] !== UNKNOWN_INVOCATION && current['invocationId'] === cursor['invocationId'] && current['dc'] === cursor['dc']
        && BigInt(current['usn'] ?? '0') >= BigInt(cursor['usn'] ?? '0');
    },

    async *scan<T extends ObjectType>(type: T, options: ScanOptions): AsyncIterable<readonly FactsOf<T>[]> {
      const scope = scopes[type];
      if (scope === null) return;
      const filter = options.since === null ? scope.filter : `(&${scope.filter}${deltaFilter(profile, options.since, type === 'person' ? deps.clock() : null)})`;
      const attributes = type === 'person' ? personAttributes(mapping) : type === 'group' ? groupAttributes(mapping) : agentAttributes(mapping);
      const ldap = await open();
      // A full scan asks the server for small pages and hands them over in batches of `pageSize`: ldapts
      // holds every decoded entry of a page until the page ends, and at 500 full entries that outlives the
      // scan thread's young generation (about half of a full scan's CPU went to garbage collection).
      const full = options.since === null;
      let facts: FactsOf<T>[] = [];
      for await (const page of pages(type, filter, attributes, full ? Math.min(config.pageSize, FULL_SCAN_READ_PAGE) : config.pageSize)) {
        if (type === 'group') {
          // A group may need further reads (AD's ranged member values): one at a time, in order.
          for (const entry of page) {
            const mapped = toGroupFacts(entry, mapping, await remainingMembers(entry, mapping.profile, ldap));
            if (mapped !== null) facts.push(mapped as FactsOf<T>);
          }
        } else {
          // People and agents map without I/O: no promise per entry (a full scan maps every entry).
          const map = type === 'person' ? toPersonFacts : toAgentFacts;
          for (const entry of page) {
            const mapped = map(entry, mapping, deps.clock());
            if (mapped !== null) facts.push(mapped as FactsOf<T>);
          }
        }
        if (facts.length >= config.pageSize || (!full && facts.length > 0)) {
          yield facts;
          facts = [];
        }
      }
      if (facts.length > 0) yield facts;
    },

    async *scanKeys(type) {
      const scope = scopes[type];
      if (scope === null) return;
      for await (const page of pages(type, scope.filter, [profile.keyAttribute])) {
        const keys = page.map((entry) => entryKey(entry, profile)).filter((key): key is string => key !== null);
        if (keys.length > 0) yield keys;
      }
    },

    async close() {
      const current = session;
      session = null;
      if (current !== null) await (await current.catch(() => null))?.close();
    },
  };
}

/**
 * What a delta search asks for. AD: entries changed since the cursor's USN, and, for people, the accounts
 * whose `accountExpires` passed since the last poll: an expiry is a leaver, but its passing writes nothing,
 * so `uSNChanged` never shows it (`expiredUntil`: now, for people; null for other types). The window starts
 * at the time the cursor was taken (an older cursor without one: no window, as before); windows overlap
 * rather than leave a gap, and an entry read twice is a no-op. The expiry term makes the server walk the
 * scope, as the deletion sweep's key scan of every poll already does.
 */
function deltaFilter(profile: DialectProfile, since: SyncCursor, expiredUntil: Date | null): string {
  if (profile.changeTracking === 'usn') {
    const changed = `(uSNChanged>=${(BigInt(since['usn'] ?? '0') + 1n).toString()})`;
    const from = since['at'] === undefined ? Number.NaN : Date.parse(since['at']);
    if (expiredUntil === null || !profile.lockAttributes.includes('accountExpires') || !Number.isFinite(from)) return changed;
    return `(|${changed}(&(accountExpires>=${dateToFileTime(new Date(from))})(accountExpires<=${dateToFileTime(expiredUntil)})))`;
  }
  return `(${profile.timeAttribute}>=${isoToGeneralizedTime(since['at'] ?? new Date(0).toISOString())})`;
}

/**
 * AD returns at most MaxValRange (1500) values of `member` per read, as `member;range=0-1499`; the rest is
 * fetched range by range with base reads of the group until a range ends with `*`.
 */
export async function remainingMembers(entry: LdapEntry, profile: DialectProfile, ldap: Pick<LdapSession, 'readEntry'>): Promise<string[]> {
  const extra: string[] = [];
  for (const [attribute, firstStart] of pendingRanges(entry, profile)) {
    let start: number | null = firstStart;
    while (start !== null) {
      const next = await ldap.readEntry(entry.dn, [`${attribute};range=${start}-*`]);
      if (next === null) break;
      const ranged = rangedValues(next, attribute);
      extra.push(...ranged.values);
      if (ranged.values.length === 0) break;
      start = ranged.nextStart;
    }
  }
  return extra;
}

const UNKNOWN_INVOCATION = 'unknown';

/**
 * AD's high-water mark: highestCommittedUSN of the one DC the source talks to, with that DC's database
 * invocationId. USNs are per DC; a cursor is only good against the same DC and the same database.
 */
async function adWatermark(ldap: LdapSession, config: LdapSourceConfig): Promise<SyncCursor> {
  const root = await ldap.readEntry('', ['highestCommittedUSN', 'dsServiceName', 'dnsHostName']);
  const usn = root === null ? null : first(root, 'highestCommittedUSN');
  const service = root === null ? null : first(root, 'dsServiceName');
  if (usn === null || service === null) {
    throw new AppError('invalid_config', `LDAP source "${config.id}": the root DSE has no highestCommittedUSN; is this Active Directory? (dialect: ad)`);
  }
  const settings = await ldap.readEntry(service, ['invocationId'], ['invocationId']);
  const invocation = settings === null ? null : firstBuffer(settings, 'invocationId');
  const dc = config.domainController ?? (root === null ? null : first(root, 'dnsHostName')) ?? new URL(config.url).hostname;
  return { kind: 'usn', usn, invocationId: invocation === null ? UNKNOWN_INVOCATION : guidToString(invocation), dc: dc.toLowerCase() };
}
