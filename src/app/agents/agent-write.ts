/**
 * An agent as an identity provider pushes it (SCIM `/Agents`): Tether's own model plus the profile the
 * provider keeps about it. Shared by the provision, update and retire use cases and their store adapter.
 */
import { AppError } from '../../domain/errors.js';
import type { Entitlement, Environment } from '../../domain/types.js';
import type { AgentRecord, ChangeEventWrite } from '../records.js';

/**
 * Tether's extension of the SCIM Agent resource: purpose, environment, requested tools, expiry and state.
 * A private URN (not `urn:ietf:...`, which only IANA-registered schemas may use), versioned like RFC 7643's.
 */
export const TETHER_AGENT_URN = 'urn:tether:params:scim:schemas:extension:agent:1.0';

/** What the provider says about an agent besides Tether's model; served back as given. */
export interface AgentProfile {
  readonly externalId: string | null;
  readonly displayName: string | null;
  readonly description: string | null;
  readonly agentType: string | null;
  /** The rest of the client-writable representation (parent, roles, protocols...), stored as given. */
  readonly resource: Readonly<Record<string, unknown>>;
}

/** The desired state of an agent, as a full replacement (PUT, or the result of a PATCH). */
export interface AgentWrite {
  readonly name: string;
  readonly purpose: string;
  readonly environment: Environment;
  /** Person ids: the first is the primary sponsor, the others are backup sponsors in order. */
  readonly ownerIds: readonly string[];
  readonly requestedTools: readonly string[];
  readonly expiresAt: Date | null;
  /** false suspends the agent (every right revoked); true resumes a suspended one. */
  readonly active: boolean;
  /** The id of the agent this one belongs under, if any. */
  readonly parentId: string | null;
  readonly profile: AgentProfile;
}

/** An agent with its provider profile, the version of its representation and its current rights. */
export interface ProvisionedAgent extends AgentRecord {
  readonly profile: AgentProfile;
  /** Bumped by every change of the row, recomputes included: the SCIM ETag. */
  readonly revision: number;
  /** Sponsor first, then backup sponsors, with a label for display. */
  readonly owners: readonly { readonly id: string; readonly display: string | null }[];
  readonly effective: readonly Entitlement[];
}

/** Change-event kinds of agents; the store keeps kinds as text. */
export type AgentChangeKind = 'agent_registered' | 'agent_updated' | 'agent_suspended' | 'agent_resumed' | 'agent_retired';

export type AgentChangeEvent = Omit<ChangeEventWrite, 'kind' | 'subjectType'> & { readonly kind: AgentChangeKind; readonly subjectType: 'agent' };

/** Who is changing an agent, from which directory source (owners must be users of it), and when it arrived. */
export interface AgentChangeContext {
  /** Audit label, e.g. `scim_token:<id>`. */
  readonly actor: string;
  readonly sourceId: string;
  /** `scim` for an identity provider's /Agents; `ldap` for service accounts a directory sync maps. */
  readonly origin: 'scim' | 'ldap';
  readonly receivedAt: Date;
}

/** The lookups that validate an AgentWrite against current state, inside the writing transaction. */
export interface AgentValidationTx {
  /** The given persons that belong to the source and are not deleted. */
  personsInSource(sourceId: string, ids: readonly string[]): Promise<{ id: string; active: boolean }[]>;
  /** Which identifier of a live agent (other than `exceptId`) already uses this name or externalId. */
  agentIdentityTaken(name: string, externalId: string | null, exceptId: string | null): Promise<'name' | 'externalId' | null>;
  /** Whether a live (not retired) agent has this id. */
  liveAgentExists(id: string): Promise<boolean>;
}

/**
 * Checks owners (users of the source; every owner not already held must be active), uniqueness of name and
 * externalId among live agents, and the parent. Returns the owner ids deduplicated, in order.
 */
export async function validateAgentWrite(
  tx: AgentValidationTx,
  sourceId: string,
  write: AgentWrite,
  current: { readonly id: string; readonly ownerIds: readonly string[] } | null,
): Promise<string[]> {
  const ownerIds = [...new Set(write.ownerIds)];
  if (ownerIds.length === 0) throw invalid('owners', 'owners must name at least one User: the first owner is the agent\'s sponsor');
  const found = new Map((await tx.personsInSource(sourceId, ownerIds)).map((person) => [person.id, person]));
  for (const [index, id] of ownerIds.entries()) {
    const person = found.get(id);
    if (person === undefined) throw invalid('owners', `owners[${index}].value "${id}" is not a User of this source`);
    if (!person.active && !(current?.ownerIds.includes(id) ?? false)) throw invalid('owners', `owners[${index}].value "${id}" is an inactive User`);
  }
  const taken = await tx.agentIdentityTaken(write.name, write.profile.externalId, current?.id ?? null);
  if (taken !== null) {
    const detail = taken === 'name' ? `An agent named "${write.name}" already exists` : `An agent with externalId "${write.profile.externalId ?? ''}" already exists`;
    throw new AppError('uniqueness', detail, { detail });
  }
  if (write.parentId !== null) {
    if (write.parentId === current?.id) throw invalid('parent', 'parent.value must not name the agent itself');
    if (!(await tx.liveAgentExists(write.parentId))) throw invalid('parent', `parent.value "${write.parentId}" is not an Agent`);
  }
  return ownerIds;
}

function invalid(field: string, detail: string): AppError {
  return new AppError('invalid_input', detail, { detail, meta: { field } });
}

/** The columns an update writes to a live agent's row: the record's own fields, plus its SCIM profile. */
export type AgentRowChange = Pick<
  AgentRecord,
  'name' | 'purpose' | 'environment' | 'state' | 'sponsorId' | 'backupSponsorIds' | 'requestedTools' | 'expiresAt' | 'delegationId'
> & { readonly profile: AgentProfile };
