import { parse, type Filter as ParsedFilter } from 'scim2-parse-filter';
import { AppError } from '../../domain/errors.js';
import type { Filter } from '../../app/directory/directory-query.js';
import { storableText, withoutCoreSchema } from './attribute-names.js';

const MAX_FILTER_LENGTH = 4096;
/** Logical nesting (and / or / not / value paths) beyond this is abuse, not a directory query. */
const MAX_FILTER_DEPTH = 16;
/** Comparisons per filter: IdPs send one or two; a few hundred would only burden the database. */
const MAX_FILTER_TERMS = 100;

/** Parses a SCIM filter (RFC 7644 §3.4.2.2) into the store-neutral AST; bad input is `invalidFilter`. */
export function parseScimFilter(text: string): Filter {
  if (text.length > MAX_FILTER_LENGTH) throw invalid('filter is too long');
  // PostgreSQL text cannot hold NUL; no attribute value can contain it, so such a filter is malformed.
  if (text.includes('\u0000')) throw invalid('filter contains a NUL character');
  const { ast, strings } = parseLenient(text);
  return convert(ast, 0, { count: 0, strings });
}

interface Parsed {
  readonly ast: ParsedFilter;
  /** The decoded string values; the AST holds their index in their place. */
  readonly strings: readonly string[];
}

/** Strict parse first; only if that fails, retry with bare-word values quoted (`userName eq abc`). */
function parseLenient(text: string): Parsed {
  try {
    return parseDecoded(text);
  } catch (error) {
    if (error instanceof AppError) throw error;
    const quoted = quoteBareValues(text);
    if (quoted !== text) {
      try {
        return parseDecoded(quoted);
      } catch {
        // fall through: report the filter as sent
      }
    }
    throw invalid(`filter "${text.slice(0, 200)}" is not a valid SCIM filter`);
  }
}

/**
 * A compValue string is a JSON string (RFC 7644 §3.4.2.2, RFC 8259 §7): `\\` is one backslash, `\u0061` is
 * `a`. The parser library only unescapes `\"` (it keeps every other backslash), so each string is decoded
 * here and the library sees its index instead — a plain string it cannot misread.
 */
function parseDecoded(text: string): Parsed {
  const strings: string[] = [];
  const indexed = text.replace(QUOTED, (literal) => `"${strings.push(decodeString(literal)) - 1}"`);
  return { ast: parse(indexed), strings };
}

function decodeString(literal: string): string {
  let value: unknown;
  try {
    value = JSON.parse(literalBackslashes(literal));
  } catch {
    throw invalid(`${literal.slice(0, 200)} is not a valid JSON string (RFC 8259 §7 escapes)`);
  }
  // PostgreSQL text holds neither NUL nor lone surrogates; no stored value contains them.
  if (typeof value !== 'string' || !storableText(value)) throw invalid('filter strings must not contain NUL characters or unpaired surrogates');
  return value;
}

/**
 * A backslash that starts no JSON escape (`CONTOSO\jdoe` sent by a client that does not escape, as the
 * filter's bare-word form and the old reading took it) stays a backslash: such text cannot be meant as
 * JSON, and refusing it would fail the lookup-before-create of every `DOMAIN\user` account such a client
 * provisions. Valid escapes (`\\`, `\"`, `\u0061`, ...) are read as JSON.
 */
function literalBackslashes(literal: string): string {
  return literal.replace(/\\(\\|["/bfnrt]|u[0-9a-fA-F]{4})|\\/g, (whole, escape: string | undefined) => escape === undefined ? '\\\\' : whole);
}

/** A JSON string token, as the parser library delimits it. */
const QUOTED = /"(?:[^"\\]|\\[\s\S])*"/g;
/** `attrPath op word`, where the word is not JSON (true / false / null / a number). */
const BARE_VALUE = /(^|[\s([])([A-Za-z][\w.:$-]*\s+(?:eq|ne|co|sw|ew|gt|ge|lt|le)\s+)([^\s"()[\]]+)/gi;
const JSON_LITERAL = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)$/i;

/**
 * Some clients send comparison values unquoted. Outside string literals, a bare word after a comparison
 * operator is quoted as a JSON string; JSON literals stay as they are, so `active eq true` keeps its type.
 */
export function quoteBareValues(text: string): string {
  let result = '';
  let last = 0;
  for (const match of text.matchAll(QUOTED)) {
    result += quoteSegment(text.slice(last, match.index)) + match[0];
    last = match.index + match[0].length;
  }
  return result + quoteSegment(text.slice(last));
}

function quoteSegment(segment: string): string {
  return segment.replace(BARE_VALUE, (whole, before: string, head: string, word: string) =>
    JSON_LITERAL.test(word) ? whole : `${before}${head}${JSON.stringify(word)}`);
}

interface Context {
  count: number;
  readonly strings: readonly string[];
}

function convert(node: ParsedFilter, depth: number, terms: Context): Filter {
  if (depth > MAX_FILTER_DEPTH) throw invalid(`filter is nested more than ${MAX_FILTER_DEPTH} levels deep`);
  switch (node.op) {
    case 'and':
    case 'or':
      return { op: node.op, filters: (node as { filters: ParsedFilter[] }).filters.map((inner) => convert(inner, depth + 1, terms)) };
    case 'not':
      return { op: 'not', filter: convert((node as { filter: ParsedFilter }).filter, depth + 1, terms) };
    case '[]': {
      const valuePath = node as { attrPath: string; valFilter: ParsedFilter };
      return { op: 'valuePath', path: withoutCoreSchema(valuePath.attrPath), filter: convert(valuePath.valFilter, depth + 1, terms) };
    }
    case 'pr':
      count(terms);
      return { op: 'pr', path: withoutCoreSchema((node as { attrPath: string }).attrPath) };
    case 'eq': case 'ne': case 'co': case 'sw': case 'ew': case 'gt': case 'ge': case 'lt': case 'le': {
      count(terms);
      const compare = node as { attrPath: string; compValue: string | number | boolean | null };
      const value = typeof compare.compValue === 'string' ? terms.strings[Number(compare.compValue)] : compare.compValue;
      if (value === undefined) throw invalid('filter value could not be read');
      return { op: node.op, path: withoutCoreSchema(compare.attrPath), value };
    }
    default:
      throw invalid(`unsupported filter operator ${(node as { op: string }).op}`);
  }
}

function count(terms: Context): void {
  terms.count += 1;
  if (terms.count > MAX_FILTER_TERMS) throw invalid(`filter has more than ${MAX_FILTER_TERMS} comparisons`);
}

function invalid(detail: string): AppError {
  return new AppError('invalid_filter', detail, { detail });
}
