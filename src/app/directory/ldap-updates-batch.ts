/**
 * The updates of a chunk (staged people already mirrored) set-based, as applyPerson would apply each: lock
 * every row, resolve managers, replace the pending manager references, move the sync objects, take the
 * pending references that name the new DNs and user names (with the memberships they resolve to), read the
 * groups of the people with an event, write the changed rows — one statement each — then set the manager
 * of the people outside the chunk that waited for one of them. Returns the change rows for the caller to
 * record.
 *
 * Managers resolve against the chunk's new DNs too, and the pending manager references of the chunk's
 * people are replaced before any is taken: a person's manager is always what its current facts name, never
 * a stale reference left from older facts.
 */
import { classifyChange } from '../../domain/classify.js';
import type { PersonRecord, PersonWrite } from '../records.js';
import { changeRows } from './change-recorder.js';
import { referenceTargets, resolveTaken, type StagedPerson } from './ldap-joiners.js';
import { managerRef } from './ldap-manager-ref.js';
import { adoptManagers, type ChangeRows } from './ldap-managers.js';
import { changedFields, personWrite } from './ldap-person-write.js';
import { stateOf } from './person-updates.js';
import { contextFor, normalizeDn, type ApplyContext, type SyncTx } from './ldap-tx.js';
import type { SyncedObject } from './sync-ports.js';

export interface StagedUpdate {
  readonly staged: StagedPerson;
  readonly existing: SyncedObject;
}

interface PlannedUpdate {
  readonly id: string;
  readonly staged: StagedPerson;
  readonly existing: SyncedObject;
  readonly current: PersonRecord;
  readonly write: PersonWrite;
  readonly changed: string[];
}

/**
 * Applies the updates whose person is live; returns their change rows and the updates whose person is gone
 * (applyPerson creates those again, entry by entry).
 */
export async function applyUpdates(tx: SyncTx, context: ApplyContext, updates: readonly StagedUpdate[]): Promise<{ changes: ChangeRows[]; gone: StagedUpdate[] }> {
  const sourceId = context.change.sourceId;
  const locked = new Map((await tx.lockPeople(updates.map((update) => update.existing.objectId))).filter((person) => person.sourceId === sourceId).map((person) => [person.id, person]));
  const live = updates.filter((update) => locked.has(update.existing.objectId));
  const gone = updates.filter((update) => !locked.has(update.existing.objectId));
  if (live.length === 0) return { changes: [], gone };
  const dns = [...new Set(live.flatMap(({ staged }) => (staged.facts.managerDn === null ? [] : [normalizeDn(staged.facts.managerDn)])))];
  const managers = new Map((await tx.objectsByDn(sourceId, dns)).filter((object) => object.type === 'person').map((object) => [object.dnNorm, object.objectId]));
  // A manager renamed in this same chunk is found at its new DN, as if its entry had been applied first.
  for (const { staged, existing } of live) managers.set(normalizeDn(staged.facts.dn), existing.objectId);
  const planned = live.map(({ staged, existing }): PlannedUpdate & { pendingRefs: string[] } => {
    const current = locked.get(existing.objectId) as PersonRecord;
    const dnNorm = staged.facts.managerDn === null ? null : normalizeDn(staged.facts.managerDn);
    const managerId = dnNorm === null ? null : (managers.get(dnNorm) ?? null);
    const write = personWrite(staged.facts, managerId);
    return { id: current.id, staged, existing, current, write, changed: changedFields(current, write), pendingRefs: dnNorm !== null && managerId === null ? [managerRef(dnNorm)] : [] };
  });
  await tx.replacePendingMembers(sourceId, planned.map((update) => update.id), planned.flatMap((update) => update.pendingRefs.map((ref) => ({ holderId: update.id, ref }))));
  await tx.upsertSyncedObjects(sourceId, 'person', planned.map((update) => ({ key: update.staged.key, objectId: update.id, dn: update.staged.facts.dn, factsHash: update.staged.hash })), context.runId);
  // Groups (and people) that named a new DN or user name before this run renamed the entry to it.
  const targets = referenceTargets(planned);
  const { taken, added } = await tx.takePendingMemberships(sourceId, targets, context.now);
  const { groupsOf, adoptions } = resolveTaken(targets, taken, added);
  const withEvent = planned.filter((update) => update.changed.length > 0 || groupsOf.has(update.id));
  const groups = await tx.groupIdsOfMany(withEvent.map((update) => update.id));
  const writes = withEvent.filter((update) => update.changed.length > 0);
  const updated = new Map((await tx.updatePeople(writes.map((update) => ({ id: update.id, write: update.write })), context.now)).map((person) => [person.id, person]));
  const changes = withEvent.map((update) => {
    const joined = groupsOf.get(update.id) ?? [];
    const groupIds = groups.get(update.id) ?? [];
    const before = groupIds.filter((groupId) => !joined.includes(groupId));
    const dnChanged = normalizeDn(update.existing.dn) !== normalizeDn(update.staged.facts.dn);
    return changeRows(contextFor(context, update.staged.facts.sourceTime, update.staged.facts.receivedAt), {
      kind: classifyChange(stateOf(update.current, before), stateOf(updated.get(update.id) ?? update.current, groupIds)),
      subjectType: 'person', subjectId: update.id, action: 'person.updated',
      detail: { changed: update.changed, dnChanged, ...(joined.length > 0 ? { groupsJoined: joined.length } : {}) },
      affectedPersonIds: [update.id], now: context.now,
    });
  });
  return { changes: [...changes, ...(await adoptManagers(tx, context, adoptions))], gone };
}
