import { parse, type Filter as ParsedFilter } from 'scim2-parse-filter';
import { AppError } from '../../domain/errors.js';
import type { Filter } from '../../app/directory/directory-query.js';

const MAX_FILTER_LENGTH = 4096;

/** Parses a SCIM filter (RFC 7644 §3.4.2.2) into the store-neutral AST; bad input is `invalidFilter`. */
export function parseScimFilter(text: string): Filter {
  if (text.length > MAX_FILTER_LENGTH) throw invalid('filter is too long');
  let ast: ParsedFilter;
  try {
    ast = parse(text);
  } catch {
    throw invalid(`filter "${text.slice(0, 200)}" is not a valid SCIM filter`);
  }
  return convert(ast);
}

function convert(node: ParsedFilter): Filter {
  switch (node.op) {
    case 'and':
    case 'or':
      return { op: node.op, filters: (node as { filters: ParsedFilter[] }).filters.map(convert) };
    case 'not':
      return { op: 'not', filter: convert((node as { filter: ParsedFilter }).filter) };
    case '[]': {
      const valuePath = node as { attrPath: string; valFilter: ParsedFilter };
      return { op: 'valuePath', path: valuePath.attrPath, filter: convert(valuePath.valFilter) };
    }
    case 'pr':
      return { op: 'pr', path: (node as { attrPath: string }).attrPath };
    case 'eq': case 'ne': case 'co': case 'sw': case 'ew': case 'gt': case 'ge': case 'lt': case 'le': {
      const compare = node as { attrPath: string; compValue: string | number | boolean | null };
      return { op: node.op, path: compare.attrPath, value: compare.compValue };
    }
    default:
      throw invalid(`unsupported filter operator ${(node as { op: string }).op}`);
  }
}

function invalid(detail: string): AppError {
  return new AppError('invalid_filter', detail, { detail });
}
