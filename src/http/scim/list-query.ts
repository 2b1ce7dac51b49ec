import { AppError } from '../../domain/errors.js';
import type { DirectoryQuery } from '../../app/directory/directory-query.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './constants.js';
import { withoutCoreSchema } from './attribute-names.js';
import { parseScimFilter } from './filter.js';
import { parseProjection, type Projection } from './projection.js';

export interface ListRequest {
  readonly query: DirectoryQuery;
  readonly projection: Projection;
}

function integer(value: unknown, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  if (!Number.isInteger(number)) throw new AppError('invalid_value', `${name} must be an integer`, { detail: `${name} must be an integer` });
  return number;
}

/**
 * Query parameters of GET (or the body of POST /.search) → a directory query. Per RFC 7644 §3.4.2.4,
 * startIndex < 1 means 1 and a negative count means 0; count is capped at the advertised maximum.
 */
export function parseListRequest(params: Readonly<Record<string, unknown>>): ListRequest {
  const get = (name: string) => {
    const key = Object.keys(params).find((candidate) => candidate.toLowerCase() === name.toLowerCase());
    return key === undefined ? undefined : params[key];
  };
  const filterText = get('filter');
  if (filterText !== undefined && typeof filterText !== 'string') throw new AppError('invalid_filter', 'filter must be a string', { detail: 'filter must be a string' });
  const sortOrder = get('sortOrder');
  if (sortOrder !== undefined && sortOrder !== 'ascending' && sortOrder !== 'descending') {
    throw new AppError('invalid_value', 'sortOrder', { detail: 'sortOrder must be "ascending" or "descending"' });
  }
  const sortBy = get('sortBy');
  if (sortBy !== undefined && typeof sortBy !== 'string') throw new AppError('invalid_value', 'sortBy', { detail: 'sortBy must be one attribute name' });
  return {
    query: {
      filter: filterText === undefined || filterText.trim() === '' ? null : parseScimFilter(filterText),
      // Past the last result the page is empty; the cap keeps the SQL offset inside bigint.
      startIndex: Math.min(Number.MAX_SAFE_INTEGER, Math.max(1, integer(get('startIndex'), 'startIndex') ?? 1)),
      count: Math.min(MAX_PAGE_SIZE, Math.max(0, integer(get('count'), 'count') ?? DEFAULT_PAGE_SIZE)),
      // The store refuses a sortBy it cannot reach (invalidValue); only the core URN is resolved here.
      sortBy: typeof sortBy === 'string' && sortBy.trim() !== '' ? withoutCoreSchema(sortBy.trim()) : null,
      sortOrder: sortOrder === 'descending' ? 'descending' : 'ascending',
    },
    projection: parseProjection(get('attributes'), get('excludedAttributes')),
  };
}
