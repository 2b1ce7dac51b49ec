/**
 * Succession inside a sponsor's recompute: what happens to an agent whose sponsor left or came back,
 * committed in the recompute's transaction with compare-and-set on the agent's sponsor, state and version.
 */
import { AppError } from '../../domain/errors.js';
import { decideSuccession, MAX_MANAGER_LEVELS, type PersonNode, type SuccessionAction, type SuccessionState } from '../../domain/succession.js';
import type { AgentState, SponsorSnapshot } from '../../domain/types.js';
import type { AuditEntry, OutboxRow } from '../records.js';

export interface SponsorshipChange {
  readonly sponsorId: string;
  readonly backupSponsorIds: readonly string[];
  readonly state: AgentState;
  readonly succession: SuccessionState | null;
}

export interface SponsorshipTx {
  /** People by id (deleted ones included, flagged); unknown ids are left out. */
  personNodes(ids: readonly string[]): Promise<PersonNode[]>;
  /**
   * Rewrites sponsor, backups, state and succession only if the agent still has `expected` sponsor, state
   * and version; false when another writer got there first.
   */
  applySponsorship(agentId: string, expected: { sponsorId: string; state: AgentState; version: number }, change: SponsorshipChange, now: Date): Promise<boolean>;
  insertOutbox(rows: readonly OutboxRow[]): Promise<void>;
  appendAudit(entry: AuditEntry): Promise<void>;
}

export interface SponsorshipSubject {
  readonly agentId: string;
  readonly state: AgentState;
  readonly sponsorId: string;
  readonly backupSponsorIds: readonly string[];
  readonly succession: SuccessionState | null;
}

function sponsorGone(sponsor: SponsorSnapshot | null): boolean {
  return sponsor === null || sponsor.deleted || !sponsor.active;
}

/** The leaver, the backups and the leaver's managers up to MAX_MANAGER_LEVELS, loaded level by level. */
async function peopleAround(tx: SponsorshipTx, subject: SponsorshipSubject): Promise<Map<string, PersonNode>> {
  const people = new Map((await tx.personNodes([subject.sponsorId, ...subject.backupSponsorIds])).map((person) => [person.id, person]));
  let managerId = people.get(subject.sponsorId)?.managerId ?? null;
  for (let level = 1; level <= MAX_MANAGER_LEVELS && managerId !== null; level += 1) {
    let manager = people.get(managerId);
    if (manager === undefined) {
      manager = (await tx.personNodes([managerId]))[0];
      if (manager === undefined) break;
      people.set(manager.id, manager);
    }
    managerId = manager.managerId;
  }
  return people;
}

/** Decides what succession does for this agent; loads people only when the sponsor is gone or the agent waits. */
export async function planSponsorship(tx: SponsorshipTx, subject: SponsorshipSubject, sponsor: SponsorSnapshot | null, now: Date, graceMs: number): Promise<SuccessionAction> {
  if (subject.state === 'active' && !sponsorGone(sponsor)) return { kind: 'none' };
  if (subject.state !== 'active' && subject.state !== 'pending_reassignment') return { kind: 'none' };
  const people = sponsorGone(sponsor) ? await peopleAround(tx, subject) : new Map<string, PersonNode>();
  return decideSuccession({
    state: subject.state, sponsorId: subject.sponsorId, sponsor, backupSponsorIds: subject.backupSponsorIds, succession: subject.succession,
    people, now, graceMs,
  });
}

/**
 * Commits a succession action after the agent's rights were recomputed (so a leaver's revocation is
 * already in the version). A handover queues the new sponsor's recompute, answering the same change event.
 * Returns the person to enqueue after commit, if any.
 */
export async function applySponsorship(
  tx: SponsorshipTx,
  subject: SponsorshipSubject,
  action: SuccessionAction,
  context: { readonly version: number; readonly changeEventId: string | null; readonly now: Date },
): Promise<string | null> {
  if (action.kind === 'none') return null;
  const change: SponsorshipChange =
    action.kind === 'handover' ? { sponsorId: action.sponsorId, backupSponsorIds: action.backupSponsorIds, state: 'active', succession: null }
      : action.kind === 'restore' ? { sponsorId: subject.sponsorId, backupSponsorIds: subject.backupSponsorIds, state: 'active', succession: null }
        : { sponsorId: subject.sponsorId, backupSponsorIds: subject.backupSponsorIds, state: 'pending_reassignment', succession: action.succession };
  const expected = { sponsorId: subject.sponsorId, state: subject.state, version: context.version };
  if (!(await tx.applySponsorship(subject.agentId, expected, change, context.now))) {
    throw new AppError('conflict', `agent ${subject.agentId} changed during succession`);
  }
  await tx.appendAudit({
    at: context.now,
    actor: 'system:succession',
    action: `agent.${action.kind === 'handover' ? 'sponsor_handover' : action.kind === 'restore' ? 'sponsor_restored' : 'pending_reassignment'}`,
    subjectType: 'agent',
    subjectId: subject.agentId,
    detail: {
      previousSponsorId: subject.sponsorId, sponsorId: change.sponsorId, state: change.state, changeEventId: context.changeEventId,
      ...(action.kind === 'pending_reassignment'
        ? { proposedSponsorId: action.succession.proposal.sponsorId, proposal: action.succession.proposal.outcome, suspendAt: action.succession.suspendAt.toISOString() }
        : {}),
    },
  });
  if (action.kind !== 'handover') return null;
  await tx.insertOutbox([{ kind: 'recompute', personId: action.sponsorId, changeEventId: context.changeEventId }]);
  return action.sponsorId;
}
