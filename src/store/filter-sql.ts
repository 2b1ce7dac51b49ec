import { AppError } from '../domain/errors.js';
import type { Filter, FilterValue } from '../app/directory/directory-query.js';
import { isUuid } from './ids.js';

/**
 * Translates the SCIM filter AST into a parameterised SQL predicate. Attributes that have a column (id,
 * userName, externalId, displayName, active, meta dates) compare on the column, so `eq` on them hits an
 * index; the rest read the stored JSON representation. Attribute names are case-insensitive (RFC 7644 §3.4.2.2).
 */
export interface ResourceMapping {
  readonly alias: string;
  readonly columns: Readonly<Record<string, Column>>;
  /** Multi-valued attributes answered from a table rather than the JSON document (members, groups). */
  readonly relations: Readonly<Record<string, (params: SqlParams, alias: string, value: FilterValue, op: string) => string>>;
  /** Canonical spelling of known JSON attributes, keyed by lower case. */
  readonly canonical: ReadonlyMap<string, string>;
  readonly caseExact: ReadonlySet<string>;
}

export interface Column {
  readonly sql: string;
  readonly type: 'text' | 'citext' | 'uuid' | 'boolean' | 'timestamp';
}

export class SqlParams {
  readonly values: unknown[] = [];
  constructor(offset = 0) {
    for (let index = 0; index < offset; index += 1) this.values.push(undefined);
  }
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}


export function filterToSql(filter: Filter, mapping: ResourceMapping, params: SqlParams): string {
  switch (filter.op) {
    case 'and':
    case 'or':
      return `(${filter.filters.map((inner) => filterToSql(inner, mapping, params)).join(` ${filter.op} `)})`;
    case 'not':
      return `(not coalesce(${filterToSql(filter.filter, mapping, params)}, false))`;
    case 'valuePath':
      return valuePathSql(filter.path, filter.filter, mapping, params);
    case 'pr':
      return presentSql(filter.path, mapping);
    default:
      return compareSql(filter.path, filter.op, filter.value, mapping, params);
  }
}

/** Own entries only: a path such as `constructor` must not find Object.prototype members. */
function entry<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** `groups` means `groups.value`; `groups.display` is its own relation. Each relation checks its value's type. */
function relationOf(key: string, mapping: ResourceMapping) {
  return entry(mapping.relations, key) ?? entry(mapping.relations, `${key}.value`);
}

function compareSql(path: string, op: string, value: FilterValue, mapping: ResourceMapping, params: SqlParams): string {
  const key = path.toLowerCase();
  const relation = relationOf(key, mapping);
  if (relation !== undefined) return relation(params, mapping.alias, value, op);
  const column = entry(mapping.columns, key);
  if (column !== undefined) return columnCompare(column, op, value, params);
  const { jsonArray, leaf } = jsonPath(path, mapping);
  const caseExact = mapping.caseExact.has(key);
  if (jsonArray !== null) {
    // Multi-valued attribute (emails.value): true when any element matches.
    const element = leaf === null ? `e #>> '{}'` : `e ->> ${quoteLiteral(leaf)}`;
    return `exists (select 1 from jsonb_array_elements(case when jsonb_typeof(${jsonArray}) = 'array' then ${jsonArray} else '[]'::jsonb end) e where ${textCompare(element, op, value, caseExact, params)})`;
  }
  return textCompare(leaf as string, op, value, caseExact, params);
}

function columnCompare(column: Column, op: string, value: FilterValue, params: SqlParams): string {
  switch (column.type) {
    case 'uuid': {
      if (op !== 'eq' && op !== 'ne') return textCompare(`${column.sql}::text`, op, value, true, params);
      const matches = isUuid(value);
      if (op === 'eq') return matches ? `${column.sql} = ${params.add(value)}::uuid` : 'false';
      return matches ? `${column.sql} <> ${params.add(value)}::uuid` : 'true';
    }
    case 'boolean': {
      const bool = toBoolean(value);
      if (op === 'eq') return `${column.sql} = ${params.add(bool)}`;
      if (op === 'ne') return `${column.sql} <> ${params.add(bool)}`;
      throw invalid(`operator ${op} is not defined for boolean attributes`);
    }
    case 'timestamp': {
      if (!isDateTime(value)) throw invalid('date comparisons need an xsd:dateTime string');
      const sqlOp = ORDER_OPS[op] ?? (op === 'eq' ? '=' : op === 'ne' ? '<>' : null);
      if (sqlOp === null) throw invalid(`operator ${op} is not defined for dateTime attributes`);
      return `${column.sql} ${sqlOp} ${params.add(new Date(value))}`;
    }
    case 'text':
    case 'citext':
      return textCompare(column.sql, op, value, column.type === 'text', params);
  }
}

const ORDER_OPS: Readonly<Record<string, string>> = { gt: '>', ge: '>=', lt: '<', le: '<=' };

/** `sql op value` for a text expression; exported for relations that compare a joined column (groups.display). */
export function textCompare(sql: string, op: string, value: FilterValue, caseExact: boolean, params: SqlParams): string {
  if (value === null) {
    if (op === 'eq') return `${sql} is null`;
    if (op === 'ne') return `${sql} is not null`;
    throw invalid(`operator ${op} cannot compare with null`);
  }
  const text = typeof value === 'string' ? value : String(value);
  const left = caseExact ? sql : `lower(${sql})`;
  const right = caseExact ? params.add(text) : `lower(${params.add(text)})`;
  switch (op) {
    case 'eq':
      return `${left} = ${right}`;
    case 'ne':
      return `(${sql} is null or ${left} <> ${right})`;
    case 'co':
      return `strpos(${left}, ${right}) > 0`;
    case 'sw':
      return `starts_with(${left}, ${right})`;
    case 'ew':
      return `right(${left}, length(${right})) = ${right}`;
    default: {
      const sqlOp = ORDER_OPS[op];
      if (sqlOp === undefined) throw invalid(`unknown operator ${op}`);
      if (typeof value === 'boolean') throw invalid(`operator ${op} is not defined for boolean values`);
      return `${left} ${sqlOp} ${right}`;
    }
  }
}

function presentSql(path: string, mapping: ResourceMapping): string {
  const key = path.toLowerCase();
  const relation = relationOf(key, mapping);
  if (relation !== undefined) return relation(new SqlParams(), mapping.alias, null, 'pr');
  const column = entry(mapping.columns, key);
  if (column !== undefined) return column.type === 'text' || column.type === 'citext' ? `coalesce(${column.sql}, '') <> ''` : `${column.sql} is not null`;
  const { jsonArray, leaf } = jsonPath(path, mapping);
  if (jsonArray !== null) {
    const element = leaf === null ? `e #>> '{}'` : `e ->> ${quoteLiteral(leaf)}`;
    return `exists (select 1 from jsonb_array_elements(case when jsonb_typeof(${jsonArray}) = 'array' then ${jsonArray} else '[]'::jsonb end) e where coalesce(${element}, '') <> '')`;
  }
  const node = (leaf as string).replace(/ #>> /, ' #> ');
  return `(${node} is not null and ${node} not in ('null'::jsonb, '""'::jsonb, '[]'::jsonb, '{}'::jsonb))`;
}

function valuePathSql(path: string, inner: Filter, mapping: ResourceMapping, params: SqlParams): string {
  const key = path.toLowerCase();
  // `groups[display eq "Sales"]` is `groups.display eq "Sales"`: a relation answers one sub-attribute at a time.
  const term = 'path' in inner && inner.op !== 'valuePath' ? inner : null;
  if (term !== null && entry(mapping.relations, `${key}.${term.path.toLowerCase()}`) !== undefined) {
    return filterToSql({ ...term, path: `${path}.${term.path}` }, mapping, params);
  }
  const { jsonArray } = jsonPath(`${path}.value`, mapping);
  if (jsonArray === null) throw invalid(`${path} is not a multi-valued attribute`);
  const elementMapping: ResourceMapping = {
    alias: 'e',
    columns: {},
    relations: {},
    canonical: mapping.canonical,
    caseExact: new Set([...mapping.caseExact].filter((name) => name.startsWith(`${key}.`)).map((name) => name.slice(key.length + 1))),
  };
  const condition = filterToSql(rebase(inner), elementMapping, params);
  return `exists (select 1 from jsonb_array_elements(case when jsonb_typeof(${jsonArray}) = 'array' then ${jsonArray} else '[]'::jsonb end) e where ${condition})`;
}

/** Inside `emails[...]`, sub-attribute paths address the element itself. */
function rebase(filter: Filter): Filter {
  switch (filter.op) {
    case 'and':
    case 'or':
      return { op: filter.op, filters: filter.filters.map(rebase) };
    case 'not':
      return { op: 'not', filter: rebase(filter.filter) };
    case 'valuePath':
      throw invalid('nested value paths are not allowed');
    default:
      return { ...filter, path: `$element.${filter.path}` };
  }
}

/**
 * Resolves an attribute path against the JSON representation. Returns either a scalar text expression
 * (`leaf`) or a multi-valued array expression with the sub-attribute to read from each element.
 */
function jsonPath(path: string, mapping: ResourceMapping): { jsonArray: string | null; leaf: string | null } {
  if (path.startsWith('$element.')) {
    const sub = path.slice('$element.'.length);
    return { jsonArray: null, leaf: `e ->> ${quoteLiteral(canonicalName(sub.split('.').at(-1) ?? sub, mapping, sub))}` };
  }
  const { urn, attribute } = splitUrn(path);
  const segments = attribute.split('.').filter((segment) => segment.length > 0);
  if (segments.length === 0 || segments.length > 2) throw invalid(`invalid attribute path ${path}`);
  const canonicalUrn = urn === null ? null : (mapping.canonical.get(urn.toLowerCase()) ?? urn);
  const prefix = canonicalUrn === null ? `${mapping.alias}.resource` : `(${mapping.alias}.resource -> ${quoteLiteral(canonicalUrn)})`;
  const names = segments.map((segment, index) => canonicalName(segment, mapping, urn === null ? segments.slice(0, index + 1).join('.') : `${urn}:${segments.slice(0, index + 1).join('.')}`));
  const multiValued = MULTI_VALUED.has(names[0]?.toLowerCase() ?? '');
  if (multiValued) {
    return { jsonArray: `(${prefix} -> ${quoteLiteral(names[0] as string)})`, leaf: names[1] ?? 'value' };
  }
  return { jsonArray: null, leaf: `${prefix} #>> ${quoteLiteral(`{${names.map((name) => name.replace(/[{},"\\]/g, '')).join(',')}}`)}` };
}

const MULTI_VALUED = new Set(['emails', 'phonenumbers', 'ims', 'photos', 'addresses', 'entitlements', 'roles', 'x509certificates']);

function canonicalName(segment: string, mapping: ResourceMapping, fullPath: string): string {
  return mapping.canonical.get(fullPath.toLowerCase())?.split(/[.:]/).at(-1) ?? mapping.canonical.get(segment.toLowerCase()) ?? segment;
}

export function splitUrn(path: string): { urn: string | null; attribute: string } {
  if (!path.toLowerCase().startsWith('urn:')) return { urn: null, attribute: path };
  const index = path.lastIndexOf(':');
  return { urn: path.slice(0, index), attribute: path.slice(index + 1) };
}

/**
 * ORDER BY for sortBy (RFC 7644 §3.4.2.3), resolved like a filter path: a column sorts on the column, a JSON
 * attribute on its value, a multi-valued one on its primary (else first) element. Strings sort
 * case-insensitively unless caseExact. Ties, and no sortBy at all, keep a stable order by id. The result holds
 * only SQL written here and canonical attribute names, never the text the client sent.
 */
export function orderBySql(sortBy: string | null, sortOrder: 'ascending' | 'descending', mapping: ResourceMapping): string {
  const { alias } = mapping;
  if (sortBy === null) return `${alias}.created_at, ${alias}.id`;
  return `${sortExpression(sortBy, mapping)} ${sortOrder === 'descending' ? 'desc' : 'asc'} nulls last, ${alias}.id`;
}

function sortExpression(path: string, mapping: ResourceMapping): string {
  const key = path.toLowerCase();
  const column = entry(mapping.columns, key);
  if (column !== undefined) return column.type === 'citext' ? `lower(${column.sql})` : column.sql;
  // Relations (groups, members) have no value of their own to sort by; an unknown name sorts nothing. Both would
  // be a silent no-op, so they are refused.
  if (relationOf(key, mapping) !== undefined || !knownAttribute(key, mapping)) {
    throw new AppError('invalid_value', `sortBy ${path}`, { detail: `sortBy "${path.slice(0, 200)}" is not an attribute Tether can sort by` });
  }
  const { jsonArray, leaf } = jsonPath(path, mapping);
  if (jsonArray === null) return mapping.caseExact.has(key) ? (leaf as string) : `lower(${leaf as string})`;
  const element = `(select e ->> ${quoteLiteral(leaf as string)} from jsonb_array_elements(case when jsonb_typeof(${jsonArray}) = 'array' then ${jsonArray} else '[]'::jsonb end) with ordinality as x(e, n)
      order by coalesce(lower(e ->> 'primary'), '') = 'true' desc, n limit 1)`;
  return mapping.caseExact.has(key.includes('.') ? key : `${key}.value`) ? element : `lower(${element})`;
}

/**
 * Whether a lower-case path names a singular or multi-valued attribute the mapping knows. The canonical map also
 * holds bare sub-attribute names (`familyname`, `value`) for use inside value filters: those are not top-level
 * attributes, and a complex attribute (`name`, an extension URN) has no value of its own.
 */
function knownAttribute(key: string, mapping: ResourceMapping): boolean {
  const names = [...mapping.canonical.keys()];
  const complex = !MULTI_VALUED.has(key) && names.some((name) => name.startsWith(`${key}.`) || name.startsWith(`${key}:`));
  if (complex || !/^[\w$.:-]+$/.test(key)) return false;
  if (splitUrn(key).urn !== null) return mapping.canonical.has(key);
  const segments = key.split('.');
  if (segments.length === 2) return mapping.canonical.has(key) || (MULTI_VALUED.has(segments[0] as string) && mapping.canonical.has(segments[1] as string));
  if (segments.length !== 1 || !mapping.canonical.has(key)) return false;
  return MULTI_VALUED.has(key) || !names.some((name) => name.endsWith(`.${key}`) || name.endsWith(`:${key}`));
}

/** xsd:dateTime with a four-digit year: Date.parse alone takes "1" or "+275760-09-13", which PostgreSQL refuses. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:?\d{2})?)?$/;

function isDateTime(value: FilterValue): value is string {
  return typeof value === 'string' && DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)) && new Date(value).getUTCFullYear() >= 1;
}

function toBoolean(value: FilterValue): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw invalid('boolean attributes compare with true or false');
}

function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

function invalid(detail: string): AppError {
  return new AppError('invalid_filter', detail, { detail });
}
