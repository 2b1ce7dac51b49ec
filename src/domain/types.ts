/** The vocabulary of design.md §2. Pure data; no behaviour, no I/O. */

export const RISK_CLASSES = ['read', 'write', 'orchestrate'] as const;
export type RiskClass = (typeof RISK_CLASSES)[number];

export const ENVIRONMENTS = ['sandbox', 'pilot', 'production'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export const AGENT_STATES = ['active', 'pending_reassignment', 'suspended', 'retired'] as const;
export type AgentState = (typeof AGENT_STATES)[number];

export interface Tool {
  readonly id: string;
  readonly system: string;
  readonly risk: RiskClass;
}

/** A condition on a sponsor. Group names compare case-insensitively, like directory group names do. */
export type GrantCondition =
  | { readonly kind: 'group'; readonly group: string }
  | { readonly kind: 'attribute'; readonly attribute: string; readonly values: readonly string[] };

export interface GrantRule {
  readonly id: string;
  readonly version: number;
  /** Any one condition suffices (OR); an empty list never matches. */
  readonly when: readonly GrantCondition[];
  /** Tool ids or patterns (`crm.*`, `*`). */
  readonly tools: readonly string[];
}

/** What an environment may hold at most. */
export interface Ceiling {
  readonly risks: readonly RiskClass[];
  /** Tool patterns never allowed in this environment, whatever the risk. */
  readonly deny: readonly string[];
}

export type Ceilings = Readonly<Record<Environment, Ceiling>>;

export interface SponsorGroup {
  readonly id: string;
  readonly name: string;
}

/** The sponsor as the entitlement computation sees it: current directory state only. */
export interface SponsorSnapshot {
  readonly id: string;
  readonly active: boolean;
  readonly deleted: boolean;
  readonly groups: readonly SponsorGroup[];
  /** Flattened attributes used by rules (department, title, costCenter, ...). */
  readonly attributes: Readonly<Record<string, string>>;
}

export interface DelegationSnapshot {
  readonly id: string;
  readonly tools: readonly string[];
  readonly notBefore: Date | null;
  readonly expiresAt: Date | null;
}

export interface AgentSnapshot {
  readonly id: string;
  readonly state: AgentState;
  readonly environment: Environment;
  readonly requestedTools: readonly string[];
  readonly expiresAt: Date | null;
  readonly delegation: DelegationSnapshot | null;
}

/** Why a sponsor covers a tool. */
export type CoverageVia =
  | { readonly kind: 'group'; readonly groupId: string; readonly groupName: string }
  | { readonly kind: 'attribute'; readonly attribute: string; readonly value: string };

export interface Provenance {
  readonly ruleId: string;
  readonly ruleVersion: number;
  readonly via: CoverageVia;
  readonly delegationId: string;
}

export interface Entitlement {
  readonly toolId: string;
  readonly system: string;
  readonly risk: RiskClass;
  readonly provenance: Provenance;
}
