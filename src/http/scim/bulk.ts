import { z } from 'zod';
import { AppError, isAppError } from '../../domain/errors.js';
import { BULK_REQUEST, BULK_RESPONSE } from './constants.js';
import { scimErrorBody } from './errors.js';
import type { ScimCall, ScimOperations, ScimResult } from './operations.js';

const operationSchema = z.object({
  method: z.string().transform((method) => method.toUpperCase()).pipe(z.enum(['POST', 'PUT', 'PATCH', 'DELETE'])),
  bulkId: z.string().min(1).max(256).optional(),
  version: z.string().max(64).optional(),
  path: z.string().min(1).max(1024),
  data: z.unknown().optional(),
});

const bulkRequestSchema = z.object({
  schemas: z.array(z.string()).refine((schemas) => schemas.includes(BULK_REQUEST), `schemas must contain ${BULK_REQUEST}`),
  failOnErrors: z.number().int().min(1).optional(),
  Operations: z.array(z.unknown()).min(1, 'Operations must not be empty'),
});

type BulkOperation = z.output<typeof operationSchema>;

interface BulkOutcome {
  readonly method: string;
  readonly bulkId?: string;
  readonly version?: string;
  readonly location?: string;
  readonly status: string;
  readonly response?: unknown;
}

const BULK_ID = /^bulkId:(.+)$/;
const PATH = /^\/(Users|Groups|Agents)(?:\/([^/]+))?$/i;

/**
 * RFC 7644 §3.7 Bulk. Each operation runs exactly like the equivalent single request (same code, its own
 * transaction: Bulk is not atomic). `bulkId:x` references in paths and data resolve to the id the POST
 * with bulkId x created; an operation whose reference is defined later in the request waits for it, and
 * one whose reference cannot resolve (unknown, failed, or circular) fails with 409. After failOnErrors
 * errors the remaining operations are not run and not reported.
 */
export async function runBulk(
  operations: ScimOperations,
  call: ScimCall,
  body: unknown,
  limits: { readonly maxOperations: number; readonly readOnly: boolean },
): Promise<ScimResult> {
  const request = bulkRequestSchema.safeParse(body);
  if (!request.success) {
    const issue = request.error.issues[0];
    throw new AppError('invalid_syntax', 'invalid bulk request', { detail: `BulkRequest ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}` });
  }
  if (request.data.Operations.length > limits.maxOperations) {
    throw new AppError('payload_too_large', 'too many bulk operations', { detail: `A Bulk request may hold at most ${limits.maxOperations} operations` });
  }
  if (limits.readOnly) throw new AppError('forbidden', 'read-only credential', { detail: 'This credential is read-only' });
  const duplicate = duplicateBulkId(request.data.Operations);
  if (duplicate !== undefined) {
    throw new AppError('invalid_value', 'duplicate bulkId', { detail: `bulkId ${JSON.stringify(duplicate.slice(0, 256))} is used by more than one operation` });
  }

  const resolved = new Map<string, string>();
  const failedBulkIds = new Set<string>();
  const outcomes = new Map<number, BulkOutcome>();
  let errors = 0;
  let pending = request.data.Operations.map((raw, index) => ({ raw, index }));
  const failOnErrors = request.data.failOnErrors ?? Number.POSITIVE_INFINITY;

  const locate = (path: unknown) => locationOf(path, call.baseUrl, operations.resources, resolved);
  const record = (index: number, outcome: BulkOutcome) => {
    outcomes.set(index, outcome);
    if (Number(outcome.status) >= 400) errors += 1;
  };

  while (pending.length > 0 && errors < failOnErrors) {
    const deferred: typeof pending = [];
    for (const item of pending) {
      if (errors >= failOnErrors) break;
      const parsed = operationSchema.safeParse(item.raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const raw = item.raw as { path?: unknown } | null;
        record(item.index, failure(item.raw, new AppError('invalid_syntax', 'invalid bulk operation', { detail: `Operations[${item.index}].${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}` }), locate(raw?.path)));
        continue;
      }
      const operation = parsed.data;
      const references = bulkIdsIn(operation.path, operation.data);
      const unresolved = references.filter((reference) => !resolved.has(reference));
      const broken = unresolved.find((reference) => failedBulkIds.has(reference) || !definedLater(pending, item.index, reference));
      if (broken !== undefined) {
        if (operation.bulkId !== undefined) failedBulkIds.add(operation.bulkId);
        record(item.index, failure(operation, new AppError('uniqueness', 'unresolved bulkId', { detail: `bulkId:${broken} does not resolve to a created resource` }), locate(operation.path), 'conflict'));
        continue;
      }
      if (unresolved.length > 0) {
        deferred.push(item);
        continue;
      }
      const outcome = await runOne(operations, call, operation, resolved, locate);
      if (Number(outcome.status) >= 400 && operation.bulkId !== undefined) failedBulkIds.add(operation.bulkId);
      record(item.index, outcome);
    }
    if (deferred.length === pending.length) {
      // No progress: every remaining operation waits on another one (a cycle).
      for (const item of deferred) {
        const operation = operationSchema.parse(item.raw);
        record(item.index, failure(operation, new AppError('uniqueness', 'circular bulkId reference', { detail: 'Circular bulkId references cannot be resolved' }), locate(operation.path), 'conflict'));
      }
      break;
    }
    pending = deferred;
  }
  const ordered = [...outcomes.entries()].sort(([left], [right]) => left - right).map(([, outcome]) => outcome);
  return { status: 200, body: { schemas: [BULK_RESPONSE], Operations: ordered } };
}

async function runOne(
  operations: ScimOperations,
  base: ScimCall,
  operation: BulkOperation,
  resolved: Map<string, string>,
  locate: (path: string) => string | undefined,
): Promise<BulkOutcome> {
  try {
    const path = PATH.exec(substitutePath(operation.path, resolved));
    if (path === null) throw new AppError('invalid_path', 'bulk path', { detail: `Bulk path ${operation.path} must be /{Resource} or /{Resource}/{id} (Users, Groups, Agents)` });
    const resource = operations.resources.find((name) => name.toLowerCase() === path[1]?.toLowerCase());
    if (resource === undefined) throw new AppError('invalid_path', 'bulk path', { detail: `Bulk path ${operation.path} names a resource type not served here` });
    const id = path[2] === undefined ? undefined : decodeURIComponent(path[2]);
    const call: ScimCall = { ...base, query: {}, body: substitute(operation.data, resolved), ifMatch: operation.version, ifNoneMatch: undefined, wantsRepresentation: false };
    let result: ScimResult;
    if (operation.method === 'POST') {
      if (id !== undefined) throw new AppError('invalid_path', 'bulk POST path', { detail: `POST must address /${resource}` });
      if (operation.bulkId === undefined) throw new AppError('invalid_value', 'bulkId required', { detail: 'A Bulk POST needs a bulkId' });
      result = await operations.create(resource, call);
      const created = (result.body as { id?: unknown } | undefined)?.id;
      if (typeof created === 'string') resolved.set(operation.bulkId, created);
    } else {
      if (id === undefined) throw new AppError('invalid_path', 'bulk path without id', { detail: `${operation.method} must address /${resource}/{id}` });
      result = operation.method === 'PUT' ? await operations.replace(resource, id, call)
        : operation.method === 'PATCH' ? await operations.patch(resource, id, call)
        : await operations.remove(resource, id, call);
    }
    const location = result.location ?? locate(operation.path);
    return {
      method: operation.method,
      ...(operation.bulkId === undefined ? {} : { bulkId: operation.bulkId }),
      ...(result.version === undefined ? {} : { version: `W/"${result.version}"` }),
      ...(location === undefined ? {} : { location }),
      status: String(result.status),
    };
  } catch (error) {
    if (!isAppError(error) || error.code === 'internal') throw error;
    return failure(operation, error, locate(operation.path));
  }
}

/**
 * RFC 7644 §3.7.3: every operation result but a failed POST carries `location`, the resource's URI in the
 * URL form the request used — the path's resource and id, `bulkId:x` replaced once x is created. A POST
 * path names no resource: its location is the created one's, or none.
 */
function locationOf(path: unknown, baseUrl: string, resources: readonly string[], resolved: ReadonlyMap<string, string>): string | undefined {
  if (typeof path !== 'string') return undefined;
  const match = PATH.exec(substitutePath(path, resolved));
  const resource = resources.find((name) => name.toLowerCase() === match?.[1]?.toLowerCase());
  return resource === undefined || match?.[2] === undefined ? undefined : `${baseUrl}/${resource}/${match[2]}`;
}

/** RFC 7644 §3.7: bulkId is unique within a request; a repeated one would make its references ambiguous. */
function duplicateBulkId(operations: readonly unknown[]): string | undefined {
  const seen = new Set<string>();
  for (const operation of operations) {
    const bulkId = (operation as { bulkId?: unknown } | null)?.bulkId;
    if (typeof bulkId !== 'string') continue;
    if (seen.has(bulkId)) return bulkId;
    seen.add(bulkId);
  }
  return undefined;
}

function failure(operation: unknown, error: AppError, location: string | undefined, code?: 'conflict'): BulkOutcome {
  const { method, bulkId } = (operation ?? {}) as { method?: unknown; bulkId?: unknown };
  const body = scimErrorBody(error);
  const status = code === 'conflict' ? '409' : String(error.status);
  const name = typeof method === 'string' ? method.toUpperCase() : 'UNKNOWN';
  return {
    method: name,
    ...(typeof bulkId === 'string' ? { bulkId } : {}),
    // A failed POST created nothing to locate (its path names no resource, or a wrong one).
    ...(location === undefined || name === 'POST' ? {} : { location }),
    status,
    response: { ...body, status, ...(code === 'conflict' ? { scimType: 'invalidValue' } : {}) },
  };
}

function definedLater(pending: readonly { raw: unknown; index: number }[], index: number, bulkId: string): boolean {
  return pending.some((item) => item.index !== index && (item.raw as { bulkId?: unknown } | null)?.bulkId === bulkId);
}

/** Every `bulkId:x` reference in the path and anywhere in the data, as x. */
function bulkIdsIn(path: string, data: unknown): string[] {
  const found = new Set<string>();
  const visit = (value: unknown, depth: number): void => {
    if (depth > 32) return;
    if (typeof value === 'string') {
      const match = BULK_ID.exec(value);
      if (match?.[1] !== undefined) found.add(match[1]);
    } else if (Array.isArray(value)) {
      for (const item of value) visit(item, depth + 1);
    } else if (value !== null && typeof value === 'object') {
      for (const item of Object.values(value)) visit(item, depth + 1);
    }
  };
  for (const segment of path.split('/')) visit(decodeSafe(segment), 0);
  visit(data, 0);
  return [...found];
}

function decodeSafe(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function substitutePath(path: string, resolved: ReadonlyMap<string, string>): string {
  return path.split('/').map((segment) => {
    const match = BULK_ID.exec(decodeSafe(segment));
    return match?.[1] !== undefined ? (resolved.get(match[1]) ?? segment) : segment;
  }).join('/');
}

/** Replaces resolved `bulkId:x` string values anywhere in the data with the created ids. */
function substitute(value: unknown, resolved: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') {
    const match = BULK_ID.exec(value);
    return match?.[1] !== undefined ? (resolved.get(match[1]) ?? value) : value;
  }
  if (Array.isArray(value)) return value.map((item) => substitute(item, resolved));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substitute(item, resolved)]));
  }
  return value;
}
