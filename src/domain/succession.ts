/**
 * Leaver and succession (design.md §2): who takes over an agent whose sponsor left, and when. Pure: the
 * caller loads the people and passes the time.
 */
import type { AgentState } from './types.js';

/** A person as succession sees them: status and the `manager` rule attribute (a person id). */
export interface PersonNode {
  readonly id: string;
  readonly active: boolean;
  readonly deleted: boolean;
  readonly managerId: string | null;
}

/** How far up the management chain a proposal looks. */
export const MAX_MANAGER_LEVELS = 2;

export interface SuccessorProposal {
  /** The proposed new sponsor, or null when nobody suitable was found. */
  readonly sponsorId: string | null;
  /** Managers looked at, in order (the leaver excluded). */
  readonly path: readonly string[];
  readonly outcome: 'found' | 'no_manager' | 'unknown_manager' | 'cycle' | 'all_inactive';
}

function usable(person: PersonNode): boolean {
  return person.active && !person.deleted;
}

/**
 * The leaver's manager, walking up at most `maxLevels` levels and skipping inactive or deleted managers.
 * A chain that comes back to someone already seen (the leaver included) stops with `cycle`.
 */
export function proposeSuccessor(leaverId: string, people: ReadonlyMap<string, PersonNode>, maxLevels = MAX_MANAGER_LEVELS): SuccessorProposal {
  const seen = new Set<string>([leaverId]);
  const path: string[] = [];
  let current = people.get(leaverId)?.managerId ?? null;
  if (current === null) return { sponsorId: null, path, outcome: 'no_manager' };
  for (let level = 1; level <= maxLevels && current !== null; level += 1) {
    if (seen.has(current)) return { sponsorId: null, path, outcome: 'cycle' };
    seen.add(current);
    path.push(current);
    const manager = people.get(current);
    if (manager === undefined) return { sponsorId: null, path, outcome: 'unknown_manager' };
    if (usable(manager)) return { sponsorId: manager.id, path, outcome: 'found' };
    current = manager.managerId;
  }
  return { sponsorId: null, path, outcome: 'all_inactive' };
}

/** Where an agent stands in a succession, kept on the agent while it waits for a new sponsor. */
export interface SuccessionState {
  /** The sponsor who left; still the accountable sponsor until someone takes over. */
  readonly leaverId: string;
  readonly proposal: SuccessorProposal;
  readonly since: Date;
  /** When the grace period ends and the sweep suspends the agent. */
  readonly suspendAt: Date;
}

export interface SuccessionInput {
  readonly state: AgentState;
  readonly sponsorId: string;
  /** The sponsor as the mirror has it now; null when unknown. */
  readonly sponsor: { readonly active: boolean; readonly deleted: boolean } | null;
  /** Backup sponsor ids, in order. */
  readonly backupSponsorIds: readonly string[];
  readonly succession: SuccessionState | null;
  /** The backups, the leaver and the leaver's managers (two levels up), as far as the mirror knows them. */
  readonly people: ReadonlyMap<string, PersonNode>;
  readonly now: Date;
  readonly graceMs: number;
}

export type SuccessionAction =
  | { readonly kind: 'none' }
  /** The first active backup becomes primary; the leaver is dropped from the sponsors. */
  | { readonly kind: 'handover'; readonly sponsorId: string; readonly backupSponsorIds: readonly string[] }
  | { readonly kind: 'pending_reassignment'; readonly succession: SuccessionState }
  /** The sponsor came back within the grace period: accountability returns (rights come back as growth). */
  | { readonly kind: 'restore' };

function sponsorGone(input: SuccessionInput): boolean {
  return input.sponsor === null || input.sponsor.deleted || !input.sponsor.active;
}

/** What happens to an agent's sponsorship given its sponsor's current status. */
export function decideSuccession(input: SuccessionInput): SuccessionAction {
  if (input.state !== 'active' && input.state !== 'pending_reassignment') return { kind: 'none' };
  if (!sponsorGone(input)) {
    return input.state === 'pending_reassignment' && input.succession?.leaverId === input.sponsorId ? { kind: 'restore' } : { kind: 'none' };
  }
  const successor = input.backupSponsorIds.find((id) => {
    const backup = input.people.get(id);
    return id !== input.sponsorId && backup !== undefined && usable(backup);
  });
  if (successor !== undefined) {
    return { kind: 'handover', sponsorId: successor, backupSponsorIds: input.backupSponsorIds.filter((id) => id !== successor && id !== input.sponsorId) };
  }
  if (input.state === 'pending_reassignment') return { kind: 'none' };
  return {
    kind: 'pending_reassignment',
    succession: {
      leaverId: input.sponsorId,
      proposal: proposeSuccessor(input.sponsorId, input.people),
      since: input.now,
      suspendAt: new Date(input.now.getTime() + input.graceMs),
    },
  };
}

/** Whether the grace period of a pending reassignment is over. */
export function graceExpired(succession: SuccessionState, now: Date): boolean {
  return succession.suspendAt.getTime() <= now.getTime();
}
