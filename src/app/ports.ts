/** Ports shared by several use cases. Adapters live in jobs/, store/ and connectors/. */
import type { Entitlement } from '../domain/types.js';
import type { Ceilings, GrantRule, Tool } from '../domain/types.js';

/** The work queue as the use cases need it: fire-and-forget hints; the outbox is the source of truth. */
export interface WorkQueue {
  /**
   * Recomputes these sponsors: pass every sponsor of one commit in one call (jobs carry several sponsors,
   * see jobs/queues.ts). Not deduplicated per sponsor; a recompute that finds nothing to change writes nothing.
   */
  enqueueRecompute(personIds: readonly string[], origin?: RecomputeOrigin): Promise<void>;
  enqueuePush(jobs: readonly { targetId: string; agentId: string; version: number }[]): Promise<void>;
}

/**
 * `commit`: the fast path right after a write commits. `relay`: the outbox relay handing over work that is
 * still pending after its grace period — usually already queued behind a backlog, so the queue may drop a
 * relay hand-over while the previous one still waits (the relay reads the outbox again next round).
 */
export type RecomputeOrigin = 'commit' | 'relay';

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
  /** Set when drift repair re-applies a version the target already received, so receivers do not dedupe it away. */
  readonly repairId?: string;
}

/** What a target holds for one agent, as read back from it. */
export interface TargetHolding {
  /** The tool ids the target currently grants the agent (sorted, unique). */
  readonly tools: readonly string[];
}

/** The agent a read-back is about; targets key agents by Tether's agent id, never by name. */
export interface TargetAgentRef {
  readonly agentId: string;
  readonly agentName: string;
}

/**
 * A downstream system that enforces agent rights (docs/targets.md).
 *
 * - `apply` makes the target hold exactly `request.effective` for the agent (full state; `granted`/`revoked`
 *   are hints). It must be idempotent per (agent, version): re-applying changes nothing. Ordering across
 *   versions is the pipeline's (deliverVersion only ever raises the applied version and re-applies the
 *   newest one if an older apply raced past it).
 * - `read` returns what the target holds now (null: the agent is unknown there); `canRead` is false for
 *   targets that cannot be read back (a webhook without `readUrl`), which drift checks then skip.
 * - `check` probes reachability and credentials.
 * - Failures are AppErrors: `target_unavailable` (retryable, with `retryAfterSeconds` when the target said
 *   so) or `target_rejected` (permanent: the push is dead-lettered).
 */
export interface TargetConnector {
  readonly id: string;
  readonly kind: string;
  readonly canRead?: boolean;
  apply(request: ApplyRequest): Promise<void>;
  read?(agent: TargetAgentRef): Promise<TargetHolding | null>;
  check?(): Promise<{ readonly detail: string }>;
}

/** The full contract every factory in connectors/registry.ts must return. */
export interface DownstreamConnector extends TargetConnector {
  readonly canRead: boolean;
  read(agent: TargetAgentRef): Promise<TargetHolding | null>;
  check(): Promise<{ readonly detail: string }>;
}
