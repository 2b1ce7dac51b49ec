/**
 * Distinguished names compared the way LDAP servers compare them (RFC 4514 string form; RFC 4517
 * distinguishedNameMatch over naming attributes matched case-insensitively, as cn, uid, ou, dc are).
 *
 * Why not a string comparison: one DN has many spellings, and servers do not keep one. slapd returns an
 * entry added as `cn=Doe\, Jane` as `cn=Doe\2C Jane`, while a `member` value loaded by slapadd keeps the
 * spelling of the LDIF; attribute types and values differ in case; spaces around separators and inside
 * values are insignificant; the values of a multi-valued RDN (`cn=Ann+uid=ann`) come in any order. Two
 * spellings that name one entry must meet, and two different entries (`Smith\, John` and `Smith\,John`)
 * must not.
 *
 * Pure and lenient: a malformed DN still gets a canonical form (nothing here throws), it just matches
 * only its own spellings.
 */

/** One attribute value assertion of an RDN: the type in lower case, the value with its escapes removed. */
export interface Ava {
  readonly type: string;
  readonly value: string;
  /** `#0403…`: the value is the hex of its BER encoding (RFC 4514 §2.4); `value` holds the hex. */
  readonly hex: boolean;
}

const decoder = new TextDecoder();
const HEX_PAIR = /^[0-9a-fA-F]{2}$/;

/** The RDNs of a DN, most specific first, each as its AVAs. */
export function parseDn(dn: string): Ava[][] {
  const rdns: Ava[][] = [];
  let avas: Ava[] = [];
  let raw = '';
  const endAva = () => {
    avas.push(parseAva(raw));
    raw = '';
  };
  for (let index = 0; index < dn.length; index += 1) {
    const char = dn[index] as string;
    if (char === '\\' && index + 1 < dn.length) {
      raw += char + (dn[index + 1] as string);
      index += 1;
    } else if (char === '+') {
      endAva();
    } else if (char === ',' || char === ';') {
      endAva();
      rdns.push(avas);
      avas = [];
    } else {
      raw += char;
    }
  }
  if (raw.trim() !== '' || avas.length > 0 || rdns.length > 0) {
    endAva();
    rdns.push(avas);
  }
  return rdns;
}

/** The canonical form: equal for every spelling of one DN, different for different DNs. */
export function canonicalDn(dn: string): string {
  return parseDn(dn)
    .map((rdn) => rdn.map((ava) => `${ava.type}=${ava.hex ? `#${ava.value}` : escapeValue(foldValue(ava.value))}`).sort().join('+'))
    .join(',');
}

/** An RDN value without its escapes: `\,` is a comma, `\2C` the byte 0x2C (hex pairs may spell UTF-8). */
export function unescapeDnValue(raw: string): string {
  if (!raw.includes('\\')) return raw;
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  for (let index = 0; index < raw.length; index += 1) {
    const char = raw[index] as string;
    const pair = char === '\\' ? raw.slice(index + 1, index + 3) : '';
    if (HEX_PAIR.test(pair)) {
      bytes.push(Number.parseInt(pair, 16));
      index += 2;
    } else {
      if (char === '\\' && index + 1 < raw.length) index += 1;
      bytes.push(...encoder.encode(raw[index]));
    }
  }
  return decoder.decode(new Uint8Array(bytes));
}

function parseAva(text: string): Ava {
  const equals = unescapedIndexOf(text, '=');
  const type = (equals < 0 ? '' : text.slice(0, equals)).trim().toLowerCase();
  const rawValue = trimUnescaped(equals < 0 ? text : text.slice(equals + 1));
  if (rawValue.startsWith('#')) return { type, value: rawValue.slice(1).toLowerCase(), hex: true };
  return { type, value: unescapeDnValue(rawValue), hex: false };
}

function unescapedIndexOf(text: string, wanted: string): number {
  for (let index = 0; index < text.length; index += 1) {
    if (text[index] === '\\') index += 1;
    else if (text[index] === wanted) return index;
  }
  return -1;
}

/** Leading spaces, and trailing ones that are not escaped (`cn=foo\ ` keeps its space). */
function trimUnescaped(text: string): string {
  let end = text.length;
  while (end > 0 && text[end - 1] === ' ' && !isEscaped(text, end - 1)) end -= 1;
  return text.slice(0, end).replace(/^ +/, '');
}

function isEscaped(text: string, position: number): boolean {
  let backslashes = 0;
  for (let index = position - 1; index >= 0 && text[index] === '\\'; index -= 1) backslashes += 1;
  return backslashes % 2 === 1;
}

/** caseIgnoreMatch: case and insignificant spaces (leading, trailing, runs) do not count. */
function foldValue(value: string): string {
  return value.toLowerCase().replace(/\s+/g, ' ').trim();
}

/** Every character with a meaning in a DN, escaped as a hex pair: one spelling per value. */
function escapeValue(value: string): string {
  const escaped = value.replace(/[\\,+"<>;=\0]/g, (char) => `\\${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return escaped.startsWith('#') ? `\\23${escaped.slice(1)}` : escaped;
}
