/**
 * Pass 2 of a chunk of staged groups set-based: where applyGroupMembers costs about twelve round trips per
 * group, a chunk costs nine statements — sync objects, member DNs, member uids and current memberships looked
 * up for every group at once, one statement for every membership delta (with the version bumps), one for the
 * pending references, one for the sync objects, one walking the people under the changed members, one
 * recording every change. Each group's delta is decided by the same pure memberDelta as entry by entry.
 *
 * One difference, by design: the people under a changed nested group are read after every group of the
 * chunk has its members, so a parent group's event may count (and recompute) people its child group gained
 * in the same chunk; entry by entry, that depended on which of the two came first.
 */
import { changeRows } from './change-recorder.js';
import { applyGroupMembers } from './ldap-apply.js';
import { memberDelta, type MemberDelta } from './ldap-group-members.js';
import { contextFor, normalizeDn, type ApplyContext, type SyncTx } from './ldap-tx.js';
import type { GroupFacts, StagedRow } from './sync-ports.js';

type StagedGroup = { readonly facts: GroupFacts & { receivedAt?: string }; readonly hash: string };

interface GroupPlan {
  readonly groupId: string;
  readonly staged: StagedGroup;
  readonly delta: MemberDelta;
}

/** Applies the members of one chunk of staged groups; returns the sponsors to recompute once it commits. */
export async function applyGroupMembersChunk(tx: SyncTx, context: ApplyContext, rows: readonly StagedRow[]): Promise<readonly string[]> {
  const sourceId = context.change.sourceId;
  const { first, repeats } = firstOfEachKey(rows.map((row): StagedGroup => ({ facts: row.facts as unknown as StagedGroup['facts'], hash: row.hash })));
  const objects = new Map((await tx.syncedObjects(sourceId, 'group', first.map((row) => row.facts.key))).map((object) => [object.key, object.objectId]));
  const present = first.flatMap((staged) => {
    const groupId = objects.get(staged.facts.key);
    return groupId === undefined ? [] : [{ groupId, staged }];
  });
  const plans = await planDeltas(tx, sourceId, present);
  const sponsors = plans.length === 0 ? [] : await applyPlans(tx, context, plans);
  // A group staged twice in one chunk: its later entries after the first has landed, as before.
  for (const staged of repeats) sponsors.push(...(await applyGroupMembers(tx, context, staged.facts, staged.hash)));
  return sponsors;
}

async function planDeltas(tx: SyncTx, sourceId: string, present: readonly { groupId: string; staged: StagedGroup }[]): Promise<GroupPlan[]> {
  const dns = [...new Set(present.flatMap(({ staged }) => staged.facts.memberDns.map(normalizeDn)))];
  const uids = [...new Set(present.flatMap(({ staged }) => staged.facts.memberUids))];
  const byDn = new Map((await tx.objectsByDn(sourceId, dns)).map((row) => [row.dnNorm, row]));
  const byUid = new Map((await tx.personsByUserName(sourceId, uids)).map((row) => [row.userName, row.id]));
  const current = await tx.membersOfGroups(present.map(({ groupId }) => groupId));
  return present.map(({ groupId, staged }) => ({
    groupId, staged, delta: memberDelta(staged.facts, groupId, { byDn, byUid }, new Set(current.get(groupId) ?? [])),
  }));
}

async function applyPlans(tx: SyncTx, context: ApplyContext, plans: readonly GroupPlan[]): Promise<string[]> {
  const sourceId = context.change.sourceId;
  const { added, removed } = await tx.changeMemberships(
    plans.flatMap((plan) => plan.delta.add.map((member) => ({ groupId: plan.groupId, member }))),
    plans.flatMap((plan) => plan.delta.removeIds.map((memberId) => ({ groupId: plan.groupId, memberId }))),
    context.now,
  );
  await tx.replacePendingMembers(sourceId, plans.map((plan) => plan.groupId), plans.flatMap((plan) => plan.delta.pending.map((ref) => ({ holderId: plan.groupId, ref }))));
  await tx.upsertSyncedObjects(sourceId, 'group', plans.map((plan) => ({ key: plan.staged.facts.key, objectId: plan.groupId, dn: plan.staged.facts.dn, factsHash: plan.staged.hash })), context.runId);
  const addedTo = membersByGroup(added);
  const removedFrom = membersByGroup(removed);
  const changed = plans.filter((plan) => addedTo.has(plan.groupId) || removedFrom.has(plan.groupId));
  if (changed.length === 0) return [];
  const affected = await tx.personsUnderMany(changed.map((plan) => ({
    tag: plan.groupId, memberIds: [...(addedTo.get(plan.groupId) ?? []), ...(removedFrom.get(plan.groupId) ?? [])],
  })));
  const changes = changed.map((plan) => {
    const people = affected.get(plan.groupId) ?? [];
    return changeRows(contextFor(context, plan.staged.facts.sourceTime, plan.staged.facts.receivedAt), {
      kind: people.length > 0 ? 'mover' : 'noop', subjectType: 'group', subjectId: plan.groupId, action: 'group.updated',
      detail: {
        renamed: false, membersAdded: addedTo.get(plan.groupId)?.length ?? 0, membersRemoved: removedFrom.get(plan.groupId)?.length ?? 0,
        unresolvedMembers: plan.delta.pending.length,
      },
      affectedPersonIds: people, now: context.now,
    });
  });
  return (await tx.recordChanges(changes)).flat();
}

function firstOfEachKey(rows: readonly StagedGroup[]): { first: StagedGroup[]; repeats: StagedGroup[] } {
  const seen = new Set<string>();
  const first: StagedGroup[] = [];
  const repeats: StagedGroup[] = [];
  for (const row of rows) {
    if (seen.has(row.facts.key)) repeats.push(row);
    else {
      seen.add(row.facts.key);
      first.push(row);
    }
  }
  return { first, repeats };
}

function membersByGroup(pairs: readonly { groupId: string; memberId: string }[]): Map<string, string[]> {
  const byGroup = new Map<string, string[]>();
  for (const { groupId, memberId } of pairs) {
    const list = byGroup.get(groupId);
    if (list === undefined) byGroup.set(groupId, [memberId]);
    else list.push(memberId);
  }
  return byGroup;
}
