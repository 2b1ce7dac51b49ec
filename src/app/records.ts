/** Records as the use cases read and write them. Storage adapters map rows to these shapes. */
import type { ChangeKind } from '../domain/classify.js';
import type { Denial } from '../domain/entitlements.js';
import type { AgentState, Entitlement, Environment } from '../domain/types.js';

/** Who did something: an API token, a SCIM credential, a directory poll, or Tether itself. */
export interface Actor {
  readonly type: 'admin_token' | 'scim_token' | 'system' | 'ldap';
  readonly id: string;
}

export function actorLabel(actor: Actor): string {
  return `${actor.type}:${actor.id}`;
}

export interface PersonWrite {
  readonly externalId: string | null;
  readonly userName: string;
  readonly displayName: string | null;
  readonly active: boolean;
  /** Flattened attributes that grant rules read. */
  readonly attributes: Readonly<Record<string, string>>;
  /** The client-writable representation, stored as given (minus secrets) for faithful reads. */
  readonly resource: Readonly<Record<string, unknown>>;
}

export interface PersonRecord extends PersonWrite {
  readonly id: string;
  readonly sourceId: string;
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface GroupMember {
  readonly id: string;
  readonly type: 'User' | 'Group';
  readonly display: string | null;
}

export interface GroupWrite {
  readonly externalId: string | null;
  readonly displayName: string;
  readonly resource: Readonly<Record<string, unknown>>;
}

export interface GroupRecord extends GroupWrite {
  readonly id: string;
  readonly sourceId: string;
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface AgentRecord {
  readonly id: string;
  readonly name: string;
  readonly purpose: string;
  readonly environment: Environment;
  readonly state: AgentState;
  readonly sponsorId: string;
  readonly backupSponsorIds: readonly string[];
  readonly owner: string | null;
  readonly requestedTools: readonly string[];
  readonly expiresAt: Date | null;
  readonly delegationId: string | null;
  readonly currentVersion: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface DelegationRecord {
  readonly id: string;
  readonly agentId: string;
  readonly approver: string;
  readonly justification: string;
  readonly tools: readonly string[];
  readonly targetSystems: readonly string[];
  readonly notBefore: Date | null;
  readonly expiresAt: Date | null;
  readonly createdAt: Date;
}

export interface EntitlementVersionRecord {
  readonly agentId: string;
  readonly version: number;
  readonly sponsorId: string;
  readonly entitlements: readonly Entitlement[];
  readonly denied: readonly Denial[];
  readonly reason: string;
  readonly changeEventIds: readonly string[];
  readonly computedAt: Date;
}

export interface TargetStateRecord {
  readonly agentId: string;
  readonly targetId: string;
  readonly appliedVersion: number;
  readonly appliedAt: Date;
}

export type ChangeEventKind = ChangeKind | 'agent_registered' | 'agent_updated' | 'agent_suspended' | 'agent_resumed' | 'agent_retired';

export interface ChangeEventWrite {
  readonly id: string;
  readonly sourceId: string | null;
  readonly origin: 'scim' | 'ldap' | 'admin';
  readonly kind: ChangeEventKind;
  readonly subjectType: 'person' | 'group' | 'agent';
  readonly subjectId: string | null;
  /** Never personal data: attribute names, counts, ids. */
  readonly detail: Readonly<Record<string, unknown>>;
  readonly sourceTime: Date | null;
  readonly receivedAt: Date;
  readonly committedAt: Date;
}

export interface AuditEntry {
  readonly at: Date;
  readonly actor: string;
  readonly action: string;
  readonly subjectType: string;
  readonly subjectId: string | null;
  readonly detail: Readonly<Record<string, unknown>>;
}

export type OutboxRow =
  | { readonly kind: 'recompute'; readonly personId: string; readonly changeEventId: string | null }
  | {
      readonly kind: 'push';
      readonly agentId: string;
      readonly version: number;
      readonly targetId: string;
      readonly changeEventId: string | null;
    };
