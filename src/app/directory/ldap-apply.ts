/**
 * Applies directory facts to the mirror inside the caller's transaction, recording every change exactly as
 * SCIM writes do (recordDirectoryChange: change event + audit + recompute outbox rows, origin 'ldap').
 * Entries are matched by immutable key through `sync_objects`, never by DN; member DNs are resolved
 * through the same table, and members not mirrored yet wait as pending references.
 */
import { classifyChange } from '../../domain/classify.js';
import { recordDirectoryChange } from './change-recorder.js';
import { memberDelta } from './ldap-group-members.js';
import { adoptManagedPeople, isManagerRef, resolveManager } from './ldap-managers.js';
import { changedFields, personWrite, referencesTo } from './ldap-person-write.js';
import { stateOf } from './person-updates.js';
import { contextFor, normalizeDn, type ApplyContext, type SyncTx } from './ldap-tx.js';
import type { GroupFacts, PersonFacts, SyncedObject } from './sync-ports.js';

export { normalizeDn, type ApplyContext, type SyncTx } from './ldap-tx.js';

/** Creates or updates one person; returns the sponsors to recompute. */
export async function applyPerson(
  tx: SyncTx, context: ApplyContext, facts: PersonFacts & { receivedAt?: string }, hash: string, existing: SyncedObject | undefined,
): Promise<readonly string[]> {
  const sourceId = context.change.sourceId;
  const change = contextFor(context, facts.sourceTime, facts.receivedAt);
  const current = existing === undefined ? null : await tx.lockPerson(sourceId, existing.objectId);
  const id = current?.id ?? crypto.randomUUID();
  const write = personWrite(facts, await resolveManager(tx, sourceId, id, facts.managerDn ?? null, current !== null));
  // Groups that named this entry before it was mirrored (or renamed), and people that named it as their manager.
  const references = referencesTo(facts);
  const refs = [references.dn, references.uid, references.manager];
  if (current === null) {
    const created = await tx.insertPerson(sourceId, id, write, context.now);
    await tx.upsertSyncedObject(sourceId, 'person', { key: facts.key, objectId: id, dn: facts.dn, factsHash: hash }, context.runId);
    const { groupIds, managed } = await resolvePendingFor(tx, sourceId, { id, type: 'User' }, refs, context.now);
    const adopted = await adoptManagedPeople(tx, context, id, managed);
    const recorded = await recordDirectoryChange(tx, change, {
      kind: classifyChange(null, stateOf(created, groupIds)),
      subjectType: 'person', subjectId: id, action: 'person.created', detail: { active: created.active, dnChanged: false },
      affectedPersonIds: [id], now: context.now,
    });
    return [...adopted, ...recorded.recomputePersonIds];
  }
  const dnChanged = existing !== undefined && normalizeDn(existing.dn) !== normalizeDn(facts.dn);
  await tx.upsertSyncedObject(sourceId, 'person', { key: facts.key, objectId: current.id, dn: facts.dn, factsHash: hash }, context.runId);
  const { groupIds: pendingGroups, managed } = await resolvePendingFor(tx, sourceId, { id: current.id, type: 'User' }, refs, context.now);
  const adopted = await adoptManagedPeople(tx, context, current.id, managed);
  const changed = changedFields(current, write);
  if (changed.length === 0 && pendingGroups.length === 0) return adopted;
  const groupIds = await tx.groupIdsOf(current.id);
  const before = groupIds.filter((groupId) => !pendingGroups.includes(groupId));
  const updated = changed.length === 0 ? current : await tx.updatePerson(current.id, write, context.now);
  const recorded = await recordDirectoryChange(tx, change, {
    kind: classifyChange(stateOf(current, before), stateOf(updated, groupIds)),
    subjectType: 'person', subjectId: current.id, action: 'person.updated',
    detail: { changed, dnChanged, ...(pendingGroups.length > 0 ? { groupsJoined: pendingGroups.length } : {}) },
    affectedPersonIds: [current.id], now: context.now,
  });
  return [...adopted, ...recorded.recomputePersonIds];
}

/** Deletes a person that left the directory (or the configured scope): a leaver. */
export async function removePerson(tx: SyncTx, context: ApplyContext, object: { key: string; objectId: string }): Promise<readonly string[]> {
  const sourceId = context.change.sourceId;
  await tx.deleteSyncedObject(sourceId, 'person', object.key);
  const current = await tx.lockPerson(sourceId, object.objectId);
  if (current === null) return [];
  const groupIds = await tx.groupIdsOf(current.id);
  await tx.setPendingMembers(sourceId, current.id, []);
  await tx.softDeletePerson(current.id, context.now);
  const recorded = await recordDirectoryChange(tx, context.change, {
    kind: classifyChange(stateOf(current, groupIds), null),
    subjectType: 'person', subjectId: current.id, action: 'person.deleted', detail: { reason: 'absent_from_directory' },
    affectedPersonIds: [current.id], now: context.now,
  });
  return recorded.recomputePersonIds;
}

/**
 * Pass 1 for a group: create it or update its name. Its hash stays null until pass 2 has applied its
 * members, so a run killed between the passes applies the group again next time.
 */
export async function upsertGroup(
  tx: SyncTx, context: ApplyContext, facts: GroupFacts & { receivedAt?: string }, existing: SyncedObject | undefined,
): Promise<readonly string[]> {
  const sourceId = context.change.sourceId;
  const change = contextFor(context, facts.sourceTime, facts.receivedAt);
  const write = { externalId: facts.key, displayName: facts.name, resource: { displayName: facts.name } };
  const current = existing === undefined ? null : await tx.lockGroup(sourceId, existing.objectId);
  if (current === null) {
    const id = crypto.randomUUID();
    await tx.insertGroup(sourceId, id, write, context.now);
    await tx.upsertSyncedObject(sourceId, 'group', { key: facts.key, objectId: id, dn: facts.dn, factsHash: null }, context.runId);
    await recordDirectoryChange(tx, change, {
      kind: 'noop', subjectType: 'group', subjectId: id, action: 'group.created', detail: {}, affectedPersonIds: [], now: context.now,
    });
    return [];
  }
  await tx.upsertSyncedObject(sourceId, 'group', { key: facts.key, objectId: current.id, dn: facts.dn, factsHash: null }, context.runId);
  if (current.displayName === facts.name) return [];
  await tx.updateGroup(current.id, write, context.now);
  // Rules match groups by name: a rename can change what every member is covered for.
  const affected = await tx.personsUnder([current.id]);
  const recorded = await recordDirectoryChange(tx, change, {
    kind: affected.length > 0 ? 'mover' : 'noop', subjectType: 'group', subjectId: current.id, action: 'group.updated',
    detail: { renamed: true, membersAdded: 0, membersRemoved: 0 }, affectedPersonIds: affected, now: context.now,
  });
  return recorded.recomputePersonIds;
}

/** Pass 2 for a group: make its direct members what the directory says, as an O(changed) delta. */
export async function applyGroupMembers(
  tx: SyncTx, context: ApplyContext, facts: GroupFacts & { receivedAt?: string }, hash: string,
): Promise<readonly string[]> {
  const sourceId = context.change.sourceId;
  const [object] = await tx.syncedObjects(sourceId, 'group', [facts.key]);
  if (object === undefined) return [];
  const groupId = object.objectId;
  const byDn = new Map((await tx.objectsByDn(sourceId, facts.memberDns.map(normalizeDn))).map((row) => [row.dnNorm, row]));
  const byUid = new Map((await tx.personsByUserName(sourceId, facts.memberUids)).map((row) => [row.userName, row.id]));
  const { add, removeIds, pending } = memberDelta(facts, groupId, { byDn, byUid }, new Set(await tx.memberIds(groupId)));
  const removed = await tx.removeMembers(groupId, removeIds);
  const added = await tx.addMembers(groupId, add, context.now);
  await tx.setPendingMembers(sourceId, groupId, pending);
  await tx.upsertSyncedObject(sourceId, 'group', { key: facts.key, objectId: groupId, dn: facts.dn, factsHash: hash }, context.runId);
  if (added.length === 0 && removed.length === 0) return [];
  await tx.touchGroup(groupId, context.now);
  const affected = await tx.personsUnder([...added, ...removed]);
  const recorded = await recordDirectoryChange(tx, contextFor(context, facts.sourceTime, facts.receivedAt), {
    kind: affected.length > 0 ? 'mover' : 'noop', subjectType: 'group', subjectId: groupId, action: 'group.updated',
    detail: { renamed: false, membersAdded: added.length, membersRemoved: removed.length, unresolvedMembers: pending.length },
    affectedPersonIds: affected, now: context.now,
  });
  return recorded.recomputePersonIds;
}

/** Deletes a group that left the directory; its members lose what it covered. */
export async function removeGroup(tx: SyncTx, context: ApplyContext, object: { key: string; objectId: string }): Promise<readonly string[]> {
  const sourceId = context.change.sourceId;
  await tx.deleteSyncedObject(sourceId, 'group', object.key);
  await tx.setPendingMembers(sourceId, object.objectId, []);
  const current = await tx.lockGroup(sourceId, object.objectId);
  if (current === null) return [];
  const affected = await tx.personsUnder([current.id]);
  await tx.removeMembers(current.id, await tx.memberIds(current.id));
  await tx.softDeleteGroup(current.id, context.now);
  const recorded = await recordDirectoryChange(tx, context.change, {
    kind: affected.length > 0 ? 'mover' : 'noop', subjectType: 'group', subjectId: current.id, action: 'group.deleted',
    detail: { reason: 'absent_from_directory' }, affectedPersonIds: affected, now: context.now,
  });
  return recorded.recomputePersonIds;
}

/**
 * Adds a newly mirrored (or renamed) entry to groups that named it before it was known; returns those
 * groups, and the people waiting for it as their manager (`manager:` references).
 */
async function resolvePendingFor(
  tx: SyncTx, sourceId: string, member: { id: string; type: 'User' | 'Group' }, refs: readonly string[], now: Date,
): Promise<{ groupIds: string[]; managed: string[] }> {
  const pending = await tx.takePendingMembers(sourceId, refs);
  const managed = pending.filter((row) => isManagerRef(row.ref)).map((row) => row.groupId);
  const joined: string[] = [];
  for (const groupId of new Set(pending.filter((row) => !isManagerRef(row.ref)).map((row) => row.groupId))) {
    const added = await tx.addMembers(groupId, [{ ...member, display: null }], now);
    if (added.length > 0) {
      await tx.touchGroup(groupId, now);
      joined.push(groupId);
    }
  }
  return { groupIds: joined, managed };
}
