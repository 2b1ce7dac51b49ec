import { isAppError } from '../../domain/errors.js';
import { DEFAULT_PAGE_SIZE, LIST_RESPONSE, MAX_PAGE_SIZE } from './constants.js';
import type { ResourceName, ScimCall, ScimOperations, ScimResult } from './operations.js';

interface ListBody {
  readonly totalResults: number;
  readonly Resources: readonly unknown[];
}

/**
 * `POST /.search` at the SCIM root (RFC 7644 §3.4.3): one result list over Users, Groups, then Agents. Paging runs
 * over that concatenation. A filter on an attribute one resource type does not have (`userName` for
 * Groups) matches none of that type instead of failing the whole search.
 */
export async function searchAll(operations: ScimOperations, call: ScimCall, params: Readonly<Record<string, unknown>>): Promise<ScimResult> {
  const startIndex = Math.max(1, toInt(pick(params, 'startIndex')) ?? 1);
  const count = Math.min(MAX_PAGE_SIZE, Math.max(0, toInt(pick(params, 'count')) ?? DEFAULT_PAGE_SIZE));
  const resources: unknown[] = [];
  let totalResults = 0;
  let offset = startIndex - 1;
  for (const resource of operations.resources) {
    const remaining = count - resources.length;
    const page = await listOrEmpty(operations, resource, call, { ...params, startIndex: Math.max(1, offset + 1), count: Math.max(remaining, 0) });
    totalResults += page.totalResults;
    resources.push(...page.Resources.slice(0, remaining));
    offset = Math.max(0, offset - page.totalResults);
  }
  return { status: 200, body: { schemas: [LIST_RESPONSE], totalResults, startIndex, itemsPerPage: resources.length, Resources: resources } };
}

async function listOrEmpty(operations: ScimOperations, resource: ResourceName, call: ScimCall, params: Record<string, unknown>): Promise<ListBody> {
  try {
    return (await operations.list(resource, call, params)).body as ListBody;
  } catch (error) {
    // Only an attribute unknown to this resource type is a non-match; a malformed filter still fails.
    if (isAppError(error) && error.code === 'invalid_filter' && error.meta['unknownAttribute'] === true) return { totalResults: 0, Resources: [] };
    throw error;
  }
}

function pick(params: Readonly<Record<string, unknown>>, name: string): unknown {
  const key = Object.keys(params).find((candidate) => candidate.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : params[key];
}

function toInt(value: unknown): number | undefined {
  const number = typeof value === 'number' ? value : typeof value === 'string' && value !== '' ? Number(value) : Number.NaN;
  return Number.isInteger(number) ? number : undefined;
}
