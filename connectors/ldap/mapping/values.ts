/**
 * Reading attribute values from search entries, with the shapes LDAP servers really send: missing
 * attributes, multi-valued ones, binary ones, and Active Directory's ranged `member;range=0-1499`.
 */
import { parseDn } from '../../../src/domain/dn.js';

/** A search entry as ldapts returns it (structurally), so mapping stays free of the client library. */
export interface LdapEntry {
  readonly dn: string;
  readonly [attribute: string]: Buffer | Buffer[] | string[] | string;
}

/** Every value of an attribute as strings (attribute names are case-insensitive). */
export function values(entry: LdapEntry, attribute: string): string[] {
  const raw = rawValue(entry, attribute);
  if (raw === undefined) return [];
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map(asText);
}

/** The first value as a string. Full reconciliations call this ~10 times per entry: no array is built. */
export function first(entry: LdapEntry, attribute: string): string | null {
  const raw = rawValue(entry, attribute);
  const item = Array.isArray(raw) ? raw[0] : raw;
  return item === undefined ? null : asText(item);
}

/**
 * The value that names the entry: for a multi-valued attribute (inetOrgPerson's `uid` and `cn` are), the
 * one its RDN holds, else the first. LDAP values are unordered (RFC 4511 §4.1.7), so "the first" alone
 * could rename a person whenever the server returned the values in another order; the RDN value is the
 * one the directory itself uses as the name.
 */
export function namingValue(entry: LdapEntry, attribute: string): string | null {
  const raw = rawValue(entry, attribute);
  if (!Array.isArray(raw) || raw.length < 2) return first(entry, attribute);
  const named = rdnValues(entry.dn, attribute);
  const list = raw.map(asText);
  return list.find((value) => named.includes(value.toLowerCase())) ?? list[0] ?? null;
}

/** The values the DN's first RDN gives `attribute` (lower case, escapes removed). */
function rdnValues(dn: string, attribute: string): string[] {
  const wanted = attribute.toLowerCase();
  return (parseDn(dn)[0] ?? []).filter((ava) => ava.type === wanted && !ava.hex).map((ava) => ava.value.toLowerCase());
}

/** The first value as bytes: binary attributes (objectGUID, objectSid) must be requested as buffers. */
export function firstBuffer(entry: LdapEntry, attribute: string): Buffer | null {
  const raw = rawValue(entry, attribute);
  const item = Array.isArray(raw) ? raw[0] : raw;
  if (item === undefined) return null;
  return Buffer.isBuffer(item) ? item : null;
}

const asText = (item: Buffer | string): string => (typeof item === 'string' ? item : item.toString('utf8'));

/** The client's filler for a requested attribute the entry lacks. */
const isEmptyList = (value: LdapEntry[string] | undefined): boolean => Array.isArray(value) && value.length === 0;

function rawValue(entry: LdapEntry, attribute: string): LdapEntry[string] | undefined {
  // Servers usually answer with the name as configured: an exact match needs no scan of every key. The
  // client fills requested attributes the entry lacks with [] under the requested name, and a value under
  // another spelling then still wins through the scan below.
  if (attribute !== 'dn' && Object.hasOwn(entry, attribute)) {
    const exact = entry[attribute];
    if (!isEmptyList(exact)) return exact;
  }
  const wanted = lowerCase(attribute);
  let empty: LdapEntry[string] | undefined;
  for (const key of Object.keys(entry)) {
    if (key === 'dn' || lowerCase(key) !== wanted) continue;
    const value = entry[key];
    if (!isEmptyList(value)) return value;
    empty = value;
  }
  return empty;
}

/**
 * Attribute names in lower case, remembered: every entry of a full scan lacks the same requested attributes
 * (a lock time, say), and each such miss compares every key of the entry; a few dozen names recur.
 */
const lowerCases = new Map<string, string>();
const LOWER_CASES_KEPT = 1024;

function lowerCase(name: string): string {
  let lower = lowerCases.get(name);
  if (lower === undefined) {
    lower = name.toLowerCase();
    if (lowerCases.size >= LOWER_CASES_KEPT) lowerCases.clear();
    lowerCases.set(name, lower);
  }
  return lower;
}

export interface RangedValues {
  readonly values: string[];
  /** The first index of the next range to request, or null when these are all the values. */
  readonly nextStart: number | null;
}

const RANGE = /^([a-z0-9-]+);range=(\d+)-(\d+|\*)$/i;

/**
 * Values of a possibly ranged attribute. AD answers a large `member` with `member;range=0-1499` and (through
 * ldapts) a spurious empty `member`; the ranged key wins, and `nextStart` says whether more must be fetched.
 */
export function rangedValues(entry: LdapEntry, attribute: string): RangedValues {
  const wanted = attribute.toLowerCase();
  for (const key of Object.keys(entry)) {
    const match = RANGE.exec(key);
    if (match === null || match[1]?.toLowerCase() !== wanted) continue;
    const end = match[3] ?? '*';
    return { values: values(entry, key), nextStart: end === '*' ? null : Number(end) + 1 };
  }
  return { values: values(entry, attribute), nextStart: null };
}

/**
 * AD's objectGUID in its canonical string form. The first three fields are little-endian on the wire
 * (a Windows GUID struct), the last two big-endian: reading the 16 bytes as plain hex gives a different id.
 */
export function guidToString(bytes: Buffer): string {
  if (bytes.length !== 16) throw new Error(`objectGUID must be 16 bytes, got ${bytes.length}`);
  const hex = (indices: readonly number[]) => indices.map((index) => (bytes[index] ?? 0).toString(16).padStart(2, '0')).join('');
  return [hex([3, 2, 1, 0]), hex([5, 4]), hex([7, 6]), hex([8, 9]), hex([10, 11, 12, 13, 14, 15])].join('-');
}

/** The reverse of guidToString, for building `(objectGUID=\xx...)` filters and tests. */
export function guidToBytes(guid: string): Buffer {
  const hex = guid.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error('not a GUID');
  const plain = Buffer.from(hex, 'hex');
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  return Buffer.from(order.map((index) => plain[index] ?? 0));
}

/** Generalized time (20240102030405Z, 20240102030405.0Z, with or without fraction) as ISO 8601; null if unparsable. */
export function generalizedTimeToIso(value: string | null): string | null {
  if (value === null) return null;
  const fast = utcSecondsToIso(value);
  if (fast !== null) return fast;
  const match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:[.,](\d+))?(Z|[+-]\d{4})$/.exec(value.trim());
  if (match === null) return null;
  const [, year, month, day, hour, minute, second = '00', fraction = '0', zone = 'Z'] = match;
  const offset = zone === 'Z' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const millis = fraction.padEnd(3, '0').slice(0, 3);
  const date = new Date(`${year}-${month}-${day}T${hour}:${minute}:${second}.${millis}${offset}`);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/**
 * The form directories stamp every entry with (modifyTimestamp `20240102030405Z`), without a regular
 * expression or a Date: a full reconciliation maps it for every entry. Null for any other form.
 */
function utcSecondsToIso(value: string): string | null {
  if (value.length !== 15 || value.charCodeAt(14) !== 90 /* Z */) return null;
  for (let index = 0; index < 14; index += 1) {
    const code = value.charCodeAt(index);
    if (code < 48 || code > 57) return null;
  }
  const month = twoDigits(value, 4);
  const day = twoDigits(value, 6);
  // Day 31 of a 30-day month (and 29 February of a common year) is left to the general path's Date check.
  if (month < 1 || month > 12 || day < 1 || day > 28 || twoDigits(value, 8) > 23 || twoDigits(value, 10) > 59 || twoDigits(value, 12) > 59) return null;
  // Built in one call from the character codes: one flat string, no substrings.
  const at = (index: number) => value.charCodeAt(index);
  return String.fromCharCode(
    at(0), at(1), at(2), at(3), 45, at(4), at(5), 45, at(6), at(7), 84, at(8), at(9), 58, at(10), at(11), 58, at(12), at(13), 46, 48, 48, 48, 90,
  );
}

/** A two-digit field of a digits-only stamp, from the character codes: no substring or number parsing. */
const twoDigits = (value: string, start: number): number => (value.charCodeAt(start) - 48) * 10 + value.charCodeAt(start + 1) - 48;

/** ISO time → generalized time with second precision, for `(modifyTimestamp>=...)` filters. */
export function isoToGeneralizedTime(iso: string): string {
  return `${iso.slice(0, 19).replace(/[-:T]/g, '')}Z`;
}

/** Date → AD FILETIME (100 ns ticks since 1601-01-01), as a decimal string for a filter. */
export function dateToFileTime(date: Date): string {
  return ((BigInt(date.getTime()) + 11_644_473_600_000n) * 10_000n).toString();
}

/** AD FILETIME (100 ns ticks since 1601-01-01) → Date; null for 0 and 0x7FFFFFFFFFFFFFFF, which mean "never". */
export function fileTimeToDate(value: string | null): Date | null {
  if (value === null || !/^-?\d+$/.test(value.trim())) return null;
  const ticks = BigInt(value.trim());
  if (ticks <= 0n || ticks >= 0x7fffffffffffffffn) return null;
  const EPOCH_DIFF_MS = 11_644_473_600_000n;
  return new Date(Number(ticks / 10_000n - EPOCH_DIFF_MS));
}
