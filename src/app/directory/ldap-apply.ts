/**
 * Applies directory facts to the mirror inside the caller's transaction, recording every change exactly as
 * SCIM writes do (recordDirectoryChange: change event + audit + recompute outbox rows, origin 'ldap').
 * Entries are matched by immutable key through `sync_objects`, never by DN; member DNs are resolved
 * through the same table, and members not mirrored yet wait as pending references.
 */
import { isDeepStrictEqual } from 'node:util';
import { classifyChange, type PersonState } from '../../domain/classify.js';
import type { GroupMember, PersonRecord, PersonWrite } from '../records.js';
import { recordDirectoryChange, type ChangeContext } from './change-recorder.js';
import type { GroupsTx } from './groups.js';
import type { PeopleTx } from './people.js';
import type { GroupFacts, ObjectType, PersonFacts, SyncedObject } from './sync-ports.js';

/** The transaction operations directory sync uses, besides the SCIM write path's own. */
export interface SyncTx extends PeopleTx, GroupsTx {
  syncedObjects(sourceId: string, type: ObjectType, keys: readonly string[]): Promise<SyncedObject[]>;
  upsertSyncedObject(sourceId: string, type: ObjectType, object: { key: string; objectId: string; dn: string; factsHash: string | null }, runId: number): Promise<void>;
  deleteSyncedObject(sourceId: string, type: ObjectType, key: string): Promise<void>;
  markSeen(sourceId: string, type: ObjectType, keys: readonly string[], runId: number): Promise<void>;
  /** Mirrored entries by normalised DN. */
  objectsByDn(sourceId: string, dnNorms: readonly string[]): Promise<{ dnNorm: string; objectId: string; type: ObjectType }[]>;
  /** Live people of the source by lower-cased user name (posixGroup memberUid). */
  personsByUserName(sourceId: string, userNames: readonly string[]): Promise<{ userName: string; id: string }[]>;
  /** Replaces a group's unresolved member references. */
  setPendingMembers(sourceId: string, groupId: string, refs: readonly string[]): Promise<void>;
  /** Takes (returns and deletes) the pending references to any of `refs`. */
  takePendingMembers(sourceId: string, refs: readonly string[]): Promise<{ groupId: string; ref: string }[]>;
}

export interface ApplyContext {
  readonly change: ChangeContext;
  readonly runId: number;
  readonly now: Date;
}

/** Normalised DN used to match member values with entries (lower case, no spaces around separators). */
export function normalizeDn(dn: string): string {
  return dn.trim().replace(/\s*([,=+])\s*/g, '$1').toLowerCase();
}

const uidRef = (userName: string) => `uid:${userName.toLowerCase()}`;

function personWrite(facts: PersonFacts): PersonWrite {
  return {
    externalId: facts.key,
    userName: facts.userName,
    displayName: facts.displayName,
    active: facts.active,
    attributes: facts.attributes,
    resource: {
      userName: facts.userName,
      ...(facts.displayName === null ? {} : { displayName: facts.displayName }),
      active: facts.active,
      ...(facts.email === null ? {} : { emails: [{ value: facts.email, primary: true }] }),
    },
  };
}

function contextFor(base: ApplyContext, sourceTime: string | null, receivedAt: string | undefined): ChangeContext {
  return {
    ...base.change,
    sourceTime: sourceTime === null ? null : new Date(sourceTime),
    receivedAt: receivedAt === undefined ? base.change.receivedAt : new Date(receivedAt),
  };
}

/** Creates or updates one person; returns the sponsors to recompute. */
export async function applyPerson(
  tx: SyncTx, context: ApplyContext, facts: PersonFacts & { receivedAt?: string }, hash: string, existing: SyncedObject | undefined,
): Promise<readonly string[]> {
  const sourceId = context.change.sourceId;
  const change = contextFor(context, facts.sourceTime, facts.receivedAt);
  const write = personWrite(facts);
  const current = existing === undefined ? null : await tx.lockPerson(sourceId, existing.objectId);
  if (current === null) {
    const id = crypto.randomUUID();
    const created = await tx.insertPerson(sourceId, id, write, context.now);
    await tx.upsertSyncedObject(sourceId, 'person', { key: facts.key, objectId: id, dn: facts.dn, factsHash: hash }, context.runId);
    const groupIds = await resolvePendingFor(tx, sourceId, { id, type: 'User' }, [normalizeDn(facts.dn), uidRef(facts.userName)], context.now);
    const recorded = await recordDirectoryChange(tx, change, {
      kind: classifyChange(null, stateOf(created, groupIds)),
      subjectType: 'person', subjectId: id, action: 'person.created', detail: { active: created.active, dnChanged: false },
      affectedPersonIds: [id], now: context.now,
    });
    return recorded.recomputePersonIds;
  }
  const dnChanged = existing !== undefined && normalizeDn(existing.dn) !== normalizeDn(facts.dn);
  await tx.upsertSyncedObject(sourceId, 'person', { key: facts.key, objectId: current.id, dn: facts.dn, factsHash: hash }, context.runId);
  const pendingGroups = await resolvePendingFor(tx, sourceId, { id: current.id, type: 'User' }, [normalizeDn(facts.dn), uidRef(facts.userName)], context.now);
  const changed = changedFields(current, write);
  if (changed.length === 0 && pendingGroups.length === 0) return [];
  const groupIds = await tx.groupIdsOf(current.id);
  const before = groupIds.filter((groupId) => !pendingGroups.includes(groupId));
  const updated = changed.length === 0 ? current : await tx.updatePerson(current.id, write, context.now);
  const recorded = await recordDirectoryChange(tx, change, {
    kind: classifyChange(stateOf(current, before), stateOf(updated, groupIds)),
    subjectType: 'person', subjectId: current.id, action: 'person.updated',
    detail: { changed, dnChanged, ...(pendingGroups.length > 0 ? { groupsJoined: pendingGroups.length } : {}) },
    affectedPersonIds: [current.id], now: context.now,
  });
  return recorded.recomputePersonIds;
}

/** Deletes a person that left the directory (or the configured scope): a leaver. */
export async function removePerson(tx: SyncTx, context: ApplyContext, object: { key: string; objectId: string }): Promise<readonly string[]> {
  const sourceId = context.change.sourceId;
  await tx.deleteSyncedObject(sourceId, 'person', object.key);
  const current = await tx.lockPerson(sourceId, object.objectId);
  if (current === null) return [];
  const groupIds = await tx.groupIdsOf(current.id);
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
  const wanted = new Map<string, GroupMember>();
  const pending: string[] = [];
  for (const dn of facts.memberDns) {
    const found = byDn.get(normalizeDn(dn));
    if (found === undefined || found.type === 'agent') pending.push(normalizeDn(dn));
    else if (found.objectId !== groupId) wanted.set(found.objectId, { id: found.objectId, type: found.type === 'person' ? 'User' : 'Group', display: null });
  }
  for (const uid of facts.memberUids) {
    const id = byUid.get(uid.toLowerCase());
    if (id === undefined) pending.push(uidRef(uid));
    else wanted.set(id, { id, type: 'User', display: null });
  }
  const current = new Set(await tx.memberIds(groupId));
  const removed = await tx.removeMembers(groupId, [...current].filter((id) => !wanted.has(id)));
  const added = await tx.addMembers(groupId, [...wanted.values()].filter((member) => !current.has(member.id)), context.now);
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

/** Adds a newly mirrored (or renamed) entry to groups that named it before it was known. */
async function resolvePendingFor(tx: SyncTx, sourceId: string, member: { id: string; type: 'User' | 'Group' }, refs: readonly string[], now: Date): Promise<string[]> {
  const pending = await tx.takePendingMembers(sourceId, refs);
  const joined: string[] = [];
  for (const groupId of new Set(pending.map((row) => row.groupId))) {
    const added = await tx.addMembers(groupId, [{ ...member, display: null }], now);
    if (added.length > 0) {
      await tx.touchGroup(groupId, now);
      joined.push(groupId);
    }
  }
  return joined;
}

function stateOf(person: PersonRecord, groupIds: readonly string[]): PersonState {
  return { active: person.active, groupIds, attributes: person.attributes };
}

/** Names of changed fields only: change events never carry personal data. */
function changedFields(before: PersonRecord, after: PersonWrite): string[] {
  const changed: string[] = [];
  if (before.active !== after.active) changed.push('active');
  if (before.userName !== after.userName) changed.push('userName');
  if (before.displayName !== after.displayName) changed.push('displayName');
  if (before.externalId !== after.externalId) changed.push('externalId');
  if (!isDeepStrictEqual(before.resource, after.resource) && !changed.includes('displayName')) changed.push('resource');
  const keys = new Set([...Object.keys(before.attributes), ...Object.keys(after.attributes)]);
  for (const key of [...keys].sort()) if (before.attributes[key] !== after.attributes[key]) changed.push(key);
  return changed;
}
