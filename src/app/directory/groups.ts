import { isDeepStrictEqual } from 'node:util';
import { AppError } from '../../domain/errors.js';
import type { Clock, Logger, WorkQueue } from '../ports.js';
import type { GroupMember, GroupRecord, GroupWrite } from '../records.js';
import { recordDirectoryChange, type ChangeContext, type ChangeRecorderTx } from './change-recorder.js';
import { startEnqueueAfterCommit, type ExpectedVersion } from './people.js';
import { describeExpected, versionMatches } from '../expected-version.js';

export interface GroupsTx extends ChangeRecorderTx {
  lockGroup(sourceId: string, id: string): Promise<GroupRecord | null>;
  insertGroup(sourceId: string, id: string, write: GroupWrite, now: Date): Promise<GroupRecord>;
  /** Writes the group's own attributes and bumps its version. */
  updateGroup(id: string, write: GroupWrite, now: Date): Promise<GroupRecord>;
  /**
   * New versions (and lastModified) for people whose groups changed (a rename, a group created with them
   * or deleted): the groups a User shows are part of it, so its ETag must move (RFC 7644 §3.14).
   */
  touchPeople(ids: readonly string[], now: Date): Promise<void>;
  /** Bumps the version when only membership changed. */
  touchGroup(id: string, now: Date): Promise<GroupRecord>;
  softDeleteGroup(id: string, now: Date): Promise<void>;
  /** The given ids that exist (not deleted) in the source, as users or groups. */
  resolveMembers(sourceId: string, ids: readonly string[]): Promise<GroupMember[]>;
  /** Inserts memberships that are not there yet; returns the ids actually added. */
  addMembers(groupId: string, members: readonly GroupMember[], now: Date): Promise<string[]>;
  /** Deletes the given memberships; returns the ids actually removed. */
  removeMembers(groupId: string, memberIds: readonly string[]): Promise<string[]>;
  memberIds(groupId: string): Promise<string[]>;
  /**
   * A membership delta in one round trip: removes, adds the ids that exist in the source, bumps the version
   * (and sets updated_at to `now`) if anything changed, and bumps the version of every person under the
   * changed members (their groups changed); returns what changed, the known ids, those people, and the
   * group's new version (null when nothing changed).
   */
  changeMembers(
    sourceId: string, groupId: string, add: readonly { id: string; display: string | null }[], removeIds: readonly string[], now: Date,
    bumpVersion?: boolean,
    /** False when the caller bumps those people itself, together with others (one ordered lock pass). */
    touchPeople?: boolean,
  ): Promise<{ added: string[]; removed: string[]; known: string[]; affectedPersonIds: string[]; version: number | null }>;
  /** Person ids reached from these member ids: users themselves, groups through nesting (cycle-safe). */
  personsUnder(memberIds: readonly string[]): Promise<string[]>;
}

export interface GroupsDeps {
  readonly store: { transaction<T>(work: (tx: GroupsTx) => Promise<T>): Promise<T> };
  readonly queue: WorkQueue;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * A change to one group. Member edits are deltas, so their cost is O(changed members), never a rewrite of
 * the whole group; `replaceMembers` (SCIM PUT or `replace members`) computes its own delta.
 */
export interface GroupChange {
  readonly write?: (current: GroupRecord) => GroupWrite;
  readonly addMemberIds?: readonly string[];
  readonly removeMemberIds?: readonly string[];
  readonly replaceMemberIds?: readonly string[];
  /** Labels the identity provider sent with added members (`display`), by member id. */
  readonly memberDisplays?: ReadonlyMap<string, string>;
}

export async function createGroup(
  deps: GroupsDeps,
  context: ChangeContext,
  write: GroupWrite,
  memberIds: readonly string[],
  memberDisplays: ReadonlyMap<string, string> = new Map(),
): Promise<GroupRecord> {
  const { record, recomputePersonIds } = await deps.store.transaction(async (tx) => {
    const now = deps.clock();
    const created = await tx.insertGroup(context.sourceId, crypto.randomUUID(), write, now);
    const { members, ignored } = await knownMembers(tx, context.sourceId, unique(memberIds), created.id, memberDisplays);
    const added = await tx.addMembers(created.id, members, now);
    const affected = await tx.personsUnder(added);
    await tx.touchPeople(affected, now);
    const recorded = await recordDirectoryChange(tx, context, {
      kind: affected.length > 0 ? 'mover' : 'noop',
      subjectType: 'group',
      subjectId: created.id,
      action: 'group.created',
      detail: { membersAdded: added.length, ...ignoredDetail(ignored) },
      affectedPersonIds: affected,
      now,
    });
    return { record: created, recomputePersonIds: recorded.recomputePersonIds };
  });
  startEnqueueAfterCommit(deps, recomputePersonIds);
  return record;
}

export async function changeGroup(
  deps: GroupsDeps,
  context: ChangeContext,
  id: string,
  change: GroupChange,
  expectedVersion: ExpectedVersion,
): Promise<GroupRecord> {
  const { record, recomputePersonIds } = await deps.store.transaction(async (tx) => {
    const now = deps.clock();
    const { current, delta } = await lockAndApply(tx, context.sourceId, id, change, expectedVersion, now);
    const affected = new Set<string>();
    let record = current;
    let renamed = false;
    const write = change.write?.(current);
    const attributesChanged = write !== undefined && !sameAsStored(current, write);
    if (write !== undefined && attributesChanged) {
      renamed = write.displayName.toLowerCase() !== current.displayName.toLowerCase();
      record = await tx.updateGroup(id, write, now);
      // Rules match groups by name: a rename can change what every member is covered for.
      if (renamed) for (const personId of await tx.personsUnder([id])) affected.add(personId);
    }
    const { added, removed, ignored, affectedPersonIds, version } = await (delta ?? applyMemberDelta(tx, context.sourceId, id, change, now, !attributesChanged, !renamed));
    for (const personId of affectedPersonIds) affected.add(personId);
    // After a rename every person under the group shows a new `groups[].display`: one version bump for them
    // and for those the delta moved, in one ordered pass (two passes could lock in crossing orders).
    if (renamed) await tx.touchPeople([...affected], now);
    if (version !== null) record = { ...record, version, updatedAt: now };
    // A repeated request (an IdP retry, `replace members` with the same list) changes nothing: no event.
    if (!attributesChanged && added.length === 0 && removed.length === 0 && ignored.length === 0) return { record, recomputePersonIds: [] };
    const recorded = await recordDirectoryChange(tx, context, {
      kind: affected.size > 0 ? 'mover' : 'noop',
      subjectType: 'group',
      subjectId: id,
      action: 'group.updated',
      detail: { renamed, membersAdded: added.length, membersRemoved: removed.length, ...ignoredDetail(ignored) },
      affectedPersonIds: [...affected],
      now,
    });
    return { record, recomputePersonIds: recorded.recomputePersonIds };
  });
  startEnqueueAfterCommit(deps, recomputePersonIds);
  return record;
}

export async function deleteGroup(
  deps: GroupsDeps,
  context: ChangeContext,
  id: string,
  expectedVersion: ExpectedVersion,
): Promise<void> {
  const recomputePersonIds = await deps.store.transaction(async (tx) => {
    await requireGroup(tx, context.sourceId, id, expectedVersion);
    const affected = await tx.personsUnder([id]);
    const now = deps.clock();
    await tx.removeMembers(id, await tx.memberIds(id));
    await tx.softDeleteGroup(id, now);
    await tx.touchPeople(affected, now);
    const recorded = await recordDirectoryChange(tx, context, {
      kind: affected.length > 0 ? 'mover' : 'noop',
      subjectType: 'group',
      subjectId: id,
      action: 'group.deleted',
      detail: {},
      affectedPersonIds: affected,
      now,
    });
    return recorded.recomputePersonIds;
  });
  startEnqueueAfterCommit(deps, recomputePersonIds);
}

type MemberDelta = Awaited<ReturnType<typeof applyMemberDelta>>;

/**
 * Locks the group and, when the change is a plain member delta (add / remove: no attributes, no full
 * replacement, so nothing in it depends on the locked row), applies the delta in the same round trip: the
 * statement is written right behind the lock (pipelined on PostgreSQL), and PostgreSQL runs the two in
 * order, so the delta still reads the memberships after the lock is held, as if it had waited. A missing
 * group or a version mismatch fails the request and rolls the delta back with the transaction. Any other
 * change returns no delta: it is applied after its attribute write, from the locked row.
 */
async function lockAndApply(
  tx: GroupsTx, sourceId: string, id: string, change: GroupChange, expectedVersion: ExpectedVersion, now: Date,
): Promise<{ current: GroupRecord; delta: MemberDelta | null }> {
  if (change.write !== undefined || change.replaceMemberIds !== undefined) {
    return { current: await requireGroup(tx, sourceId, id, expectedVersion), delta: null };
  }
  const locking = requireGroup(tx, sourceId, id, expectedVersion);
  const applying = applyMemberDelta(tx, sourceId, id, change, now, true);
  // The lock's outcome is awaited first, so a missing group is a 404 even when the delta is refused too.
  applying.catch(() => undefined);
  const current = await locking;
  return { current, delta: await applying };
}

/**
 * Applies the member delta of a change in one statement (changeMembers). An id both removed and added in one
 * request ends up a member, as if the removal ran first; it is simply not removed.
 */
async function applyMemberDelta(
  tx: GroupsTx,
  sourceId: string,
  groupId: string,
  change: GroupChange,
  now: Date,
  /** False when the request already bumped the version (its attributes changed): one version per request. */
  bumpVersion: boolean,
  /** False when the caller bumps the people under the changed members itself. */
  touchPeople = true,
): Promise<{ added: string[]; removed: string[]; ignored: string[]; affectedPersonIds: string[]; version: number | null }> {
  let toAdd = unique(change.addMemberIds ?? []);
  let toRemove = unique(change.removeMemberIds ?? []);
  if (change.replaceMemberIds !== undefined) {
    const wanted = new Set(change.replaceMemberIds);
    const current = await tx.memberIds(groupId);
    toRemove = unique([...toRemove, ...current.filter((memberId) => !wanted.has(memberId))]);
    toAdd = unique([...toAdd, ...wanted]);
  }
  refuseSelfMembership(toAdd, groupId);
  if (toAdd.length === 0 && toRemove.length === 0) return { added: [], removed: [], ignored: [], affectedPersonIds: [], version: null };
  const adding = new Set(toAdd);
  const displays = change.memberDisplays ?? new Map<string, string>();
  const result = await tx.changeMembers(
    sourceId, groupId,
    toAdd.map((memberId) => ({ id: memberId, display: displays.get(memberId) ?? null })),
    toRemove.filter((memberId) => !adding.has(memberId)),
    now,
    bumpVersion,
    touchPeople,
  );
  // Unknown ids are ignored, not refused (see knownMembers).
  const known = new Set(result.known);
  return { ...result, ignored: toAdd.filter((memberId) => !known.has(memberId)) };
}

/**
 * Splits member ids into those that exist in the source and those that do not. Unknown ids are ignored,
 * not refused: identity providers push groups whose members include people outside the provisioning
 * scope (Entra and Okta both do), and refusing the request would also drop every valid member change in
 * it. The ignored ids are recorded in the change event so an operator can see them.
 */
async function knownMembers(
  tx: GroupsTx,
  sourceId: string,
  ids: readonly string[],
  groupId: string,
  displays: ReadonlyMap<string, string>,
): Promise<{ members: GroupMember[]; ignored: string[] }> {
  if (ids.length === 0) return { members: [], ignored: [] };
  refuseSelfMembership(ids, groupId);
  const resolved = await tx.resolveMembers(sourceId, ids);
  const known = new Set(resolved.map((member) => member.id));
  const members = resolved.map((member) => ({ ...member, display: displays.get(member.id) ?? null }));
  return { members, ignored: ids.filter((memberId) => !known.has(memberId)) };
}

function refuseSelfMembership(ids: readonly string[], groupId: string): void {
  if (ids.includes(groupId)) {
    throw new AppError('invalid_value', 'group cannot contain itself', { detail: 'A group cannot be a member of itself' });
  }
}

const MAX_IGNORED_IN_DETAIL = 20;

function ignoredDetail(ignored: readonly string[]): Record<string, unknown> {
  if (ignored.length === 0) return {};
  return { ignoredMembers: ignored.length, ignoredMemberIds: ignored.slice(0, MAX_IGNORED_IN_DETAIL) };
}

async function requireGroup(
  tx: GroupsTx,
  sourceId: string,
  id: string,
  expectedVersion: ExpectedVersion,
): Promise<GroupRecord> {
  const current = await tx.lockGroup(sourceId, id);
  if (current === null) throw new AppError('not_found', `Group ${id} not found`, { detail: `Resource ${id} not found` });
  if (expectedVersion !== null && !versionMatches(expectedVersion, current.version)) {
    throw new AppError('precondition_failed', 'version mismatch', {
      detail: `Resource ${id} has changed since version ${describeExpected(expectedVersion)}`,
    });
  }
  return current;
}

function sameAsStored(current: GroupRecord, write: GroupWrite): boolean {
  return current.displayName === write.displayName && current.externalId === write.externalId && isDeepStrictEqual(current.resource, write.resource);
}

function unique(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}
