import type { Request } from 'express';
import type { z } from 'zod';
import type { Role } from '../../app/auth/tokens.js';
import { actorLabel } from '../../app/records.js';

export interface RouteResult {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** A streamed body instead of `body` (exports): written chunk by chunk with backpressure. */
  readonly stream?: { readonly contentType: string; readonly chunks: AsyncIterable<string> };
}

/** One admin API operation: how it is validated, authorised, served and documented, in one place. */
export interface RouteSpec {
  readonly method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express path, e.g. /agents/:id */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly tag: string;
  readonly role: Role;
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  readonly body?: z.ZodType;
  /** `contentType` defaults to application/json; for a stream, `schema` describes one item (e.g. one JSON line). */
  readonly responses: Readonly<Record<number, { readonly description: string; readonly schema?: z.ZodType; readonly contentType?: string }>>;
  readonly handle: (input: { params: unknown; query: unknown; body: unknown; request: Request }) => Promise<RouteResult>;
}

/** The audit actor of an admin API request: the API token that made it. */
export function actorOf(request: { principal?: { tokenId?: string } | null }): string {
  return actorLabel({ type: 'admin_token', id: request.principal?.tokenId ?? 'unknown' });
}
