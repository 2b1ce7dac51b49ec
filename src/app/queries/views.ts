/** Read models served by the admin API, CLI and dashboard. Shapes are part of the public contract. */
import type { Denial } from '../../domain/entitlements.js';
import type { AgentState, Entitlement, Environment } from '../../domain/types.js';

export interface PersonSummary {
  readonly id: string;
  readonly sourceId: string;
  readonly userName: string;
  readonly active: boolean;
  readonly deleted: boolean;
}

export interface AgentView {
  readonly id: string;
  readonly name: string;
  readonly purpose: string;
  readonly environment: Environment;
  readonly state: AgentState;
  readonly sponsor: PersonSummary;
  readonly backupSponsorIds: readonly string[];
  readonly owner: string | null;
  readonly requestedTools: readonly string[];
  readonly expiresAt: Date | null;
  readonly delegation: {
    readonly id: string;
    readonly approver: string;
    readonly justification: string;
    readonly tools: readonly string[];
    readonly targetSystems: readonly string[];
    readonly notBefore: Date | null;
    readonly expiresAt: Date | null;
  } | null;
  readonly version: number;
  readonly computedAt: Date | null;
  readonly reason: string | null;
  readonly effective: readonly Entitlement[];
  readonly denied: readonly Denial[];
  readonly targets: readonly { readonly targetId: string; readonly appliedVersion: number; readonly appliedAt: Date }[];
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface AgentListItem {
  readonly id: string;
  readonly name: string;
  readonly environment: Environment;
  readonly state: AgentState;
  readonly sponsorId: string;
  readonly version: number;
  readonly effectiveTools: readonly string[];
  readonly createdAt: Date;
}

export interface AgentListQuery {
  readonly sponsorId?: string;
  readonly state?: AgentState;
  readonly environment?: Environment;
  readonly tool?: string;
  readonly limit: number;
  /** Opaque keyset cursor: the id of the last item of the previous page. */
  readonly after?: string;
}

export interface ChangeEventView {
  readonly id: string;
  readonly sourceId: string | null;
  readonly origin: string;
  readonly kind: string;
  readonly subjectType: string;
  readonly subjectId: string | null;
  readonly detail: Readonly<Record<string, unknown>>;
  readonly sourceTime: Date | null;
  readonly receivedAt: Date;
  readonly committedAt: Date;
  readonly computedAt: Date | null;
  readonly deliveries: readonly { readonly targetId: string; readonly agentId: string; readonly version: number; readonly appliedAt: Date }[];
  /** Milliseconds from receipt to each stage; null when the stage has not happened (yet). */
  readonly latencyMs: {
    readonly commit: number;
    readonly compute: number | null;
    readonly firstApplied: number | null;
    readonly lastApplied: number | null;
  };
}

export interface ChangeEventQuery {
  readonly limit: number;
  /** Keyset cursor: events received strictly before this event. */
  readonly before?: string;
  readonly subjectId?: string;
}

export interface StatusView {
  readonly sources: readonly { readonly id: string; readonly kind: string; readonly people: number; readonly groups: number; readonly lastChangeAt: Date | null }[];
  readonly agents: { readonly total: number; readonly byState: Readonly<Record<string, number>> };
  readonly outbox: { readonly pending: number; readonly oldestPendingAgeSeconds: number | null };
  readonly targets: readonly { readonly id: string; readonly kind: string; readonly behind: number }[];
  readonly queues: readonly { readonly name: string; readonly waiting: number; readonly active: number; readonly delayed: number; readonly failed: number }[];
}

export interface ReadModels {
  getAgent(id: string): Promise<AgentView | null>;
  listAgents(query: AgentListQuery): Promise<AgentListItem[]>;
  listChangeEvents(query: ChangeEventQuery): Promise<ChangeEventView[]>;
  storeStatus(targets: readonly { id: string; kind: string }[]): Promise<Omit<StatusView, 'queues'>>;
}
