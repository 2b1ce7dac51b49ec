/**
 * The pure half of applying a chunk's joiners (people with no sync object yet) set-based: which rows are
 * joiners, each one's new id, write and manager, and how the pending references taken for the chunk map
 * back to the people they name. Decided here so the I/O half is a fixed handful of statements per chunk.
 */
import type { PersonWrite } from '../records.js';
import { isManagerRef, managerRef, type Adoption } from './ldap-manager-ref.js';
import { personWrite, referencesTo } from './ldap-person-write.js';
import { normalizeDn } from './ldap-tx.js';
import type { PersonFacts } from './sync-ports.js';

/** A staged person: its facts (with the time its page was read) and facts hash. */
export interface StagedPerson {
  readonly key: string;
  readonly facts: PersonFacts & { receivedAt?: string };
  readonly hash: string;
}

export interface PlannedJoiner {
  readonly id: string;
  readonly staged: StagedPerson;
  readonly write: PersonWrite;
  /** The `manager:` reference it holds, when its manager is neither mirrored nor in the chunk. */
  readonly pendingRefs: readonly string[];
}

/**
 * The first row of each key that has no sync object is a joiner. Everything else (updates, and a key staged
 * twice) is applied entry by entry after the joiners, in its original order.
 */
export function splitJoiners(rows: readonly StagedPerson[], mirrored: ReadonlySet<string>): { joiners: StagedPerson[]; rest: StagedPerson[] } {
  const joiners: StagedPerson[] = [];
  const rest: StagedPerson[] = [];
  const taken = new Set<string>();
  for (const row of rows) {
    if (mirrored.has(row.key) || taken.has(row.key)) rest.push(row);
    else {
      taken.add(row.key);
      joiners.push(row);
    }
  }
  return { joiners, rest };
}

/** The normalised manager DNs the joiners name: looked up among mirrored entries in one statement. */
export function managerDns(joiners: readonly StagedPerson[]): string[] {
  return [...new Set(joiners.flatMap((row) => (row.facts.managerDn === null ? [] : [normalizeDn(row.facts.managerDn)])))];
}

/**
 * Ids and writes. A manager is a mirrored person first (as entry-by-entry application finds it), else a
 * joiner of the same chunk (resolved at once instead of through a pending reference and a second event),
 * else a pending `manager:` reference that its arrival will resolve.
 */
export function planJoiners(joiners: readonly StagedPerson[], mirroredManagers: ReadonlyMap<string, string>, newId: () => string): PlannedJoiner[] {
  const ids = joiners.map(() => newId());
  const byDn = new Map<string, string>();
  joiners.forEach((row, index) => {
    const dnNorm = normalizeDn(row.facts.dn);
    if (!byDn.has(dnNorm)) byDn.set(dnNorm, ids[index] as string);
  });
  return joiners.map((staged, index) => {
    const dnNorm = staged.facts.managerDn === null ? null : normalizeDn(staged.facts.managerDn);
    const managerId = dnNorm === null ? null : (mirroredManagers.get(dnNorm) ?? byDn.get(dnNorm) ?? null);
    return {
      id: ids[index] as string,
      staged,
      write: personWrite(staged.facts, managerId),
      pendingRefs: dnNorm !== null && managerId === null ? [managerRef(dnNorm)] : [],
    };
  });
}

/**
 * The pending references that name the people just created or renamed, each with the member it resolves to
 * (null for a `manager:` reference: not a membership). The first person named by a reference takes it.
 */
export function referenceTargets(planned: readonly { readonly id: string; readonly staged: StagedPerson }[]): { ref: string; memberId: string | null; ownerId: string }[] {
  const seen = new Set<string>();
  const targets: { ref: string; memberId: string | null; ownerId: string }[] = [];
  for (const joiner of planned) {
    const refs = referencesTo(joiner.staged.facts);
    for (const [ref, memberId] of [[refs.dn, joiner.id], [refs.uid, joiner.id], [refs.manager, null]] as const) {
      if (seen.has(ref)) continue;
      seen.add(ref);
      targets.push({ ref, memberId, ownerId: joiner.id });
    }
  }
  return targets;
}

/** What the taken references mean: the groups each person joined, and the people now naming their manager. */
export function resolveTaken(
  targets: readonly { ref: string; ownerId: string }[],
  taken: readonly { groupId: string; ref: string }[],
  added: readonly { groupId: string; memberId: string }[],
): { groupsOf: Map<string, string[]>; adoptions: Adoption[] } {
  const owner = new Map(targets.map((target) => [target.ref, target.ownerId]));
  const adoptions = taken.flatMap((row) => {
    const managerId = isManagerRef(row.ref) ? owner.get(row.ref) : undefined;
    return managerId === undefined ? [] : [{ personId: row.groupId, managerId }];
  });
  const groupsOf = new Map<string, string[]>();
  for (const row of added) {
    const list = groupsOf.get(row.memberId);
    if (list === undefined) groupsOf.set(row.memberId, [row.groupId]);
    else if (!list.includes(row.groupId)) list.push(row.groupId);
  }
  return { groupsOf, adoptions };
}
