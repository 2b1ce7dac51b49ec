/** Ports shared by several use cases. Adapters live in jobs/, store/ and connectors/. */
import type { Entitlement } from '../domain/types.js';
import type { Ceilings, GrantRule, Tool } from '../domain/types.js';

/** The work queue as the use cases need it: fire-and-forget hints; the outbox is the source of truth. */
export interface WorkQueue {
  enqueueRecompute(personIds: readonly string[]): Promise<void>;
  enqueuePush(jobs: readonly { targetId: string; agentId: string; version: number }[]): Promise<void>;
}

export type Clock = () => Date;

/** Structured logging as the use cases need it. Objects carry ids, never personal data or secrets. */
export interface Logger {
  info(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
  error(object: Record<string, unknown>, message: string): void;
}

/** The entitlement policy from tether.yaml, with rule versions from the store. */
export interface Policy {
  readonly catalog: ReadonlyMap<string, Tool>;
  readonly rules: readonly GrantRule[];
  readonly ceilings: Ceilings;
}

export interface ApplyRequest {
  readonly agentId: string;
  readonly agentName: string;
  readonly version: number;
  readonly sponsorId: string;
  readonly effective: readonly Entitlement[];
  readonly granted: readonly string[];
  readonly revoked: readonly string[];
  readonly reason: string;
  readonly changeEventId: string | null;
}

/**
 * A downstream system that enforces agent rights. `apply` must be idempotent per (agent, version);
 * failures are AppErrors whose code says whether a retry can help (target_unavailable vs target_rejected).
 */
export interface TargetConnector {
  readonly id: string;
  readonly kind: string;
  apply(request: ApplyRequest): Promise<void>;
}
