/**
 * The `manager` rule attribute of LDAP people: the person id of the manager the entry's `manager` DN names,
 * once that manager is mirrored from the same source (succession proposals and grant rules read it). A
 * manager not mirrored yet waits as a pending reference (`manager:<dn>`) and is filled in when that person
 * appears or is renamed to the DN, in the same transaction, with its own change event.
 */
import { classifyChange } from '../../domain/classify.js';
import { changeRows } from './change-recorder.js';
import { managerRef, withManager, type Adoption } from './ldap-manager-ref.js';
import { stateOf } from './person-updates.js';
import { normalizeDn, type ApplyContext, type SyncTx } from './ldap-tx.js';

export { isManagerRef, managerRef, withManager, type Adoption } from './ldap-manager-ref.js';

/**
 * The manager's person id, or null; records the person's pending manager reference when the manager is not
 * mirrored, and clears an older one of a person already mirrored (a new person has none to clear).
 */
export async function resolveManager(tx: SyncTx, sourceId: string, personId: string, managerDn: string | null, known: boolean): Promise<string | null> {
  const dnNorm = managerDn === null ? null : normalizeDn(managerDn);
  const found = dnNorm === null ? undefined : (await tx.objectsByDn(sourceId, [dnNorm])).find((object) => object.type === 'person');
  const refs = dnNorm !== null && found === undefined ? [managerRef(dnNorm)] : [];
  if (known || refs.length > 0) await tx.setPendingMembers(sourceId, personId, refs);
  return found?.objectId ?? null;
}

export type ChangeRows = ReturnType<typeof changeRows>;

/**
 * Sets `manager` on the people that waited for it and returns their change rows, for the caller to record
 * with its own: lock, memberships, update — three statements however many people waited.
 */
export async function adoptManagers(tx: SyncTx, context: ApplyContext, adoptions: readonly Adoption[]): Promise<ChangeRows[]> {
  const managerOf = new Map(adoptions.map((adoption) => [adoption.personId, adoption.managerId]));
  if (managerOf.size === 0) return [];
  const sourceId = context.change.sourceId;
  const locked = (await tx.lockPeople([...managerOf.keys()]))
    .filter((person) => person.sourceId === sourceId && person.attributes['manager'] !== managerOf.get(person.id));
  if (locked.length === 0) return [];
  const groups = await tx.groupIdsOfMany(locked.map((person) => person.id));
  const updated = await tx.updatePeople(
    locked.map((person) => ({ id: person.id, write: { ...person, attributes: withManager(person.attributes, managerOf.get(person.id) ?? null) } })),
    context.now,
  );
  return locked.map((current, index) => {
    const groupIds = groups.get(current.id) ?? [];
    return changeRows(context.change, {
      kind: classifyChange(stateOf(current, groupIds), stateOf(updated[index] ?? current, groupIds)),
      subjectType: 'person', subjectId: current.id, action: 'person.updated', detail: { changed: ['manager'], dnChanged: false },
      affectedPersonIds: [current.id], now: context.now,
    });
  });
}

/** The people that waited for `managerId` now name it; returns the sponsors to recompute. */
export async function adoptManagedPeople(tx: SyncTx, context: ApplyContext, managerId: string, waiting: readonly string[]): Promise<string[]> {
  const changes = await adoptManagers(tx, context, waiting.map((personId) => ({ personId, managerId })));
  if (changes.length === 0) return [];
  return (await tx.recordChanges(changes)).flat();
}
