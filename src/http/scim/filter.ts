import { parse, type Filter as ParsedFilter } from 'scim2-parse-filter';
import { AppError } from '../../domain/errors.js';
import type { Filter } from '../../app/directory/directory-query.js';

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
  const ast = parseLenient(text);
  const terms = { count: 0 };
  return convert(ast, 0, terms);
}

/** Strict parse first; only if that fails, retry with bare-word values quoted (`userName eq abc`). */
function parseLenient(text: string): ParsedFilter {
  try {
    return parse(text);
  } catch {
    const quoted = quoteBareValues(text);
    if (quoted !== text) {
      try {
        return parse(quoted);
      } catch {
        // fall through: report the filter as sent
      }
    }
    throw invalid(`filter "${text.slice(0, 200)}" is not a valid SCIM filter`);
  }
}

const QUOTED = /"(?:[^"\\]|\\.)*"/g;
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

function convert(node: ParsedFilter, depth: number, terms: { count: number }): Filter {
  if (depth > MAX_FILTER_DEPTH) throw invalid(`filter is nested more than ${MAX_FILTER_DEPTH} levels deep`);
  switch (node.op) {
    case 'and':
    case 'or':
      return { op: node.op, filters: (node as { filters: ParsedFilter[] }).filters.map((inner) => convert(inner, depth + 1, terms)) };
    case 'not':
      return { op: 'not', filter: convert((node as { filter: ParsedFilter }).filter, depth + 1, terms) };
    case '[]': {
      const valuePath = node as { attrPath: string; valFilter: ParsedFilter };
      return { op: 'valuePath', path: valuePath.attrPath, filter: convert(valuePath.valFilter, depth + 1, terms) };
    }
    case 'pr':
      count(terms);
      return { op: 'pr', path: (node as { attrPath: string }).attrPath };
    case 'eq': case 'ne': case 'co': case 'sw': case 'ew': case 'gt': case 'ge': case 'lt': case 'le': {
      count(terms);
      const compare = node as { attrPath: string; compValue: string | number | boolean | null };
      return { op: node.op, path: compare.attrPath, value: compare.compValue };
    }
    default:
      throw invalid(`unsupported filter operator ${(node as { op: string }).op}`);
  }
}

function count(terms: { count: number }): void {
  terms.count += 1;
  if (terms.count > MAX_FILTER_TERMS) throw invalid(`filter has more than ${MAX_FILTER_TERMS} comparisons`);
}

function invalid(detail: string): AppError {
  return new AppError('invalid_filter', detail, { detail });
}
