/**
 * Pure mapping from search entries to Tether's facts: no I/O; time is an argument (AD's accountExpires).
 * Each dialect's quirks live in its profile; this file applies them.
 */
import type { AgentFacts, GroupFacts, PersonFacts } from '../../../src/app/directory/sync-ports.js';
import type { Environment } from '../../../src/domain/types.js';
import type { LdapSourceConfig } from '../config.js';
import type { DialectProfile } from './dialects.js';
import { fileTimeToDate, first, firstBuffer, generalizedTimeToIso, guidToString, namingValue, rangedValues, values, type LdapEntry } from './values.js';

/** The mapping settings of one source, resolved against its dialect's defaults. */
export interface EntryMapping {
  readonly profile: DialectProfile;
  readonly userName: string;
  readonly displayName: string;
  readonly email: string;
  /** The attribute holding the manager's DN. */
  readonly manager: string;
  readonly ruleAttributes: Readonly<Record<string, string>>;
  readonly active: LdapSourceConfig['mapping']['active'] | undefined;
  readonly agents: LdapSourceConfig['agents'] | undefined;
}

export function resolveMapping(config: Pick<LdapSourceConfig, 'mapping' | 'agents'>, profile: DialectProfile): EntryMapping {
  return {
    profile,
    userName: config.mapping.userName ?? profile.userName,
    displayName: config.mapping.displayName ?? profile.displayName,
    email: config.mapping.email ?? profile.email,
    manager: config.mapping.manager ?? 'manager',
    ruleAttributes: config.mapping.attributes ?? profile.ruleAttributes,
    active: config.mapping.active,
    agents: config.agents,
  };
}

/** Only the attributes a mapping reads: full scans stay small on the wire and in memory. */
export function personAttributes(mapping: EntryMapping): string[] {
  const { profile } = mapping;
  return unique([
    profile.keyAttribute, profile.timeAttribute, mapping.userName, mapping.displayName, mapping.email, mapping.manager,
    ...Object.values(mapping.ruleAttributes), ...profile.lockAttributes, ...(mapping.active === undefined ? [] : [mapping.active.attribute]),
  ]);
}

export function groupAttributes(mapping: EntryMapping): string[] {
  const { profile } = mapping;
  return unique([profile.keyAttribute, profile.timeAttribute, profile.groupName, ...profile.memberDnAttributes, ...(profile.memberUidAttribute === null ? [] : [profile.memberUidAttribute])]);
}

export function agentAttributes(mapping: EntryMapping): string[] {
  const agents = mapping.agents;
  if (agents === undefined) return [];
  const { profile } = mapping;
  return unique([
    profile.keyAttribute, profile.timeAttribute, agents.nameAttribute ?? mapping.userName, 'cn', agents.purposeAttribute,
    ...sponsorAttributes(agents), ...optional(agents.backupSponsorsAttribute), ...optional(agents.environmentAttribute),
    ...optional(agents.requestedToolsAttribute), ...profile.lockAttributes,
  ]);
}

/** The configured sponsor attribute, or AD's managedBy then the person-style manager. */
function sponsorAttributes(agents: NonNullable<EntryMapping['agents']>): string[] {
  return agents.sponsorAttribute === undefined ? ['managedBy', 'manager'] : [agents.sponsorAttribute];
}

function optional(attribute: string | undefined): string[] {
  return attribute === undefined ? [] : [attribute];
}

const binaryKeys = new WeakMap<DialectProfile, boolean>();

/** Whether the dialect's key is a binary attribute (AD objectGUID); asked once per entry, answered once per profile. */
function hasBinaryKey(profile: DialectProfile): boolean {
  let binary = binaryKeys.get(profile);
  if (binary === undefined) {
    binary = profile.binaryAttributes.some((name) => name.toLowerCase() === profile.keyAttribute.toLowerCase());
    binaryKeys.set(profile, binary);
  }
  return binary;
}

/** The entry's immutable key; binary keys (AD objectGUID) become their canonical string. */
export function entryKey(entry: LdapEntry, profile: DialectProfile): string | null {
  if (hasBinaryKey(profile)) {
    const bytes = firstBuffer(entry, profile.keyAttribute);
    return bytes === null || bytes.length !== 16 ? null : guidToString(bytes);
  }
  return first(entry, profile.keyAttribute);
}

const ruleEntryLists = new WeakMap<Readonly<Record<string, string>>, readonly (readonly [string, string])[]>();

/** The rule attributes as [Tether name, LDAP attribute] pairs, listed once per mapping (not once per entry). */
function ruleEntries(ruleAttributes: Readonly<Record<string, string>>): readonly (readonly [string, string])[] {
  let list = ruleEntryLists.get(ruleAttributes);
  if (list === undefined) {
    list = Object.entries(ruleAttributes);
    ruleEntryLists.set(ruleAttributes, list);
  }
  return list;
}

/** A person, or null when the entry lacks a key or a user name (it cannot be tracked safely). */
export function toPersonFacts(entry: LdapEntry, mapping: EntryMapping, now: Date): PersonFacts | null {
  const key = entryKey(entry, mapping.profile);
  const userName = namingValue(entry, mapping.userName);
  if (key === null || userName === null || userName.trim() === '') return null;
  const attributes: Record<string, string> = {};
  for (const [name, ldapAttribute] of ruleEntries(mapping.ruleAttributes)) {
    const value = first(entry, ldapAttribute);
    if (value !== null && value !== '') attributes[name] = value;
  }
  return {
    key,
    dn: entry.dn,
    userName,
    displayName: first(entry, mapping.displayName),
    email: first(entry, mapping.email),
    active: isActive(entry, mapping, now),
    attributes,
    managerDn: nonEmpty(first(entry, mapping.manager)),
    sourceTime: generalizedTimeToIso(first(entry, mapping.profile.timeAttribute)),
  };
}

/** Disabled by the dialect's lock attributes, or by the configured active attribute. Fails closed. */
export function isActive(entry: LdapEntry, mapping: EntryMapping, now: Date): boolean {
  if (!dialectActive(entry, mapping.profile, now)) return false;
  const rule = mapping.active;
  if (rule === undefined) return true;
  const found = values(entry, rule.attribute).map((value) => value.toLowerCase());
  if (rule.activeValues !== undefined) return rule.activeValues.some((value) => found.includes(value.toLowerCase()));
  return !(rule.inactiveValues ?? []).some((value) => found.includes(value.toLowerCase()));
}

const UAC_ACCOUNTDISABLE = 0x2;
const ADMINISTRATIVE_LOCK = '000001010000Z';

function dialectActive(entry: LdapEntry, profile: DialectProfile, now: Date): boolean {
  if (profile.lockAttributes.includes('pwdAccountLockedTime')) {
    // ppolicy (draft-behera): 000001010000Z is the administrative lock, "disabled until an administrator
    // unlocks it". Any other value is the time intruder detection locked the password after failed binds:
    // that lock lapses with pwdLockoutDuration (the attribute stays until the next good bind), and a
    // password-guessing attacker can set it on anyone, so it is not a leaver (nor is AD's lockoutTime).
    return first(entry, 'pwdAccountLockedTime') !== ADMINISTRATIVE_LOCK;
  }
  if (profile.lockAttributes.includes('nsAccountLock')) return first(entry, 'nsAccountLock')?.toLowerCase() !== 'true';
  // Every AD user and computer object has userAccountControl: when it is missing, the reader cannot see it
  // (an ACL), and an account whose state is unknown is not treated as enabled. (A reader that sees no one's
  // is then a mass deactivation, which the circuit breaker holds.)
  const uac = first(entry, 'userAccountControl');
  const flags = uac === null ? Number.NaN : Number.parseInt(uac, 10);
  if (!Number.isFinite(flags) || (flags & UAC_ACCOUNTDISABLE) !== 0) return false;
  const expires = fileTimeToDate(first(entry, 'accountExpires'));
  return expires === null || expires.getTime() > now.getTime();
}

/**
 * A group with its direct members. `ranged` lists member attributes AD cut short (`member;range=0-1499`):
 * the client fetches the remaining ranges and passes them in `extraMembers` before mapping.
 */
export function toGroupFacts(entry: LdapEntry, mapping: EntryMapping, extraMembers: readonly string[] = []): GroupFacts | null {
  const key = entryKey(entry, mapping.profile);
  const name = namingValue(entry, mapping.profile.groupName);
  if (key === null || name === null) return null;
  const memberDns = mapping.profile.memberDnAttributes.flatMap((attribute) => rangedValues(entry, attribute).values);
  // groupOfUniqueNames may carry an optional "#'0101'B" unique identifier after the DN.
  const cleaned = [...memberDns, ...extraMembers].map((dn) => dn.replace(/#'[01]*'B$/, '')).filter((dn) => dn.trim() !== '');
  const uidAttribute = mapping.profile.memberUidAttribute;
  return {
    key,
    dn: entry.dn,
    name,
    memberDns: unique(cleaned).sort(),
    memberUids: uidAttribute === null ? [] : unique(values(entry, uidAttribute)).sort(),
    sourceTime: generalizedTimeToIso(first(entry, mapping.profile.timeAttribute)),
  };
}

/** Member attributes AD returned as a partial range: attribute → the next range's first index. */
export function pendingRanges(entry: LdapEntry, profile: DialectProfile): Map<string, number> {
  const pending = new Map<string, number>();
  for (const attribute of profile.memberDnAttributes) {
    const { nextStart } = rangedValues(entry, attribute);
    if (nextStart !== null) pending.set(attribute, nextStart);
  }
  return pending;
}

const ENVIRONMENTS: readonly Environment[] = ['sandbox', 'pilot', 'production'];

/**
 * A service account as an agent: its sponsor's DN from the sponsor attribute, purpose, environment and
 * requested tools from the configured attributes or the source's defaults; disabled by the dialect's lock
 * attributes. Null when the entry lacks a key or any name.
 */
export function toAgentFacts(entry: LdapEntry, mapping: EntryMapping, now: Date): AgentFacts | null {
  const agents = mapping.agents;
  if (agents === undefined) return null;
  const key = entryKey(entry, mapping.profile);
  const name = nonEmpty(first(entry, agents.nameAttribute ?? mapping.userName)) ?? nonEmpty(first(entry, 'cn'));
  if (key === null || name === null) return null;
  const sponsorDn = sponsorAttributes(agents).map((attribute) => nonEmpty(first(entry, attribute))).find((dn) => dn !== null) ?? null;
  const environment = agents.environmentAttribute === undefined ? null : first(entry, agents.environmentAttribute)?.trim().toLowerCase();
  const tools = agents.requestedToolsAttribute === undefined ? [] : values(entry, agents.requestedToolsAttribute).map((tool) => tool.trim()).filter((tool) => tool !== '');
  return {
    key,
    dn: entry.dn,
    name,
    purpose: nonEmpty(first(entry, agents.purposeAttribute)) ?? agents.purpose ?? `directory service account ${name}`,
    environment: ENVIRONMENTS.find((known) => known === environment) ?? agents.environment,
    requestedTools: tools.length > 0 ? unique(tools).sort() : unique(agents.requestedTools).sort(),
    sponsorDn,
    backupSponsorDns: agents.backupSponsorsAttribute === undefined ? [] : values(entry, agents.backupSponsorsAttribute).filter((dn) => dn.trim() !== ''),
    // Only the dialect's lock attributes: `mapping.active` describes people, and service accounts rarely carry it.
    active: dialectActive(entry, mapping.profile, now),
    sourceTime: generalizedTimeToIso(first(entry, mapping.profile.timeAttribute)),
  };
}

function nonEmpty(value: string | null): string | null {
  return value === null || value.trim() === '' ? null : value.trim();
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}
