/**
 * Pass 1 of a chunk of staged groups set-based: the new groups (every group of a first load) are created
 * with their sync objects by one statement and their `group.created` events recorded by another, instead of
 * four round trips each. Groups already mirrored (a rename) and a key staged twice go through upsertGroup,
 * entry by entry, afterwards.
 */
import { changeRows } from './change-recorder.js';
import { upsertGroup } from './ldap-apply.js';
import { contextFor, type ApplyContext, type SyncTx } from './ldap-tx.js';
import type { GroupFacts, StagedRow } from './sync-ports.js';

type StagedGroupFacts = GroupFacts & { receivedAt?: string };

/** Creates or renames the groups of one chunk; returns the sponsors to recompute once it commits. */
export async function applyGroupsChunk(tx: SyncTx, context: ApplyContext, rows: readonly StagedRow[]): Promise<readonly string[]> {
  const sourceId = context.change.sourceId;
  const staged = rows.map((row) => row.facts as unknown as StagedGroupFacts);
  const mirrored = new Map((await tx.syncedObjects(sourceId, 'group', staged.map((facts) => facts.key))).map((object) => [object.key, object]));
  const created = new Set<string>();
  const fresh = staged.filter((facts) => {
    if (mirrored.has(facts.key) || created.has(facts.key)) return false;
    created.add(facts.key);
    return true;
  });
  const groups = fresh.map((facts) => ({
    id: crypto.randomUUID(), key: facts.key, dn: facts.dn, facts,
    write: { externalId: facts.key, displayName: facts.name, resource: { displayName: facts.name } },
  }));
  await tx.insertSyncedGroups(sourceId, groups, context.runId, context.now);
  const sponsors = (await tx.recordChanges(groups.map((group) => changeRows(contextFor(context, group.facts.sourceTime, group.facts.receivedAt), {
    kind: 'noop', subjectType: 'group', subjectId: group.id, action: 'group.created', detail: {}, affectedPersonIds: [], now: context.now,
  })))).flat();
  const freshSet = new Set<StagedGroupFacts>(fresh);
  for (const facts of staged.filter((entry) => !freshSet.has(entry))) {
    // Mirrored already, or staged twice (then created just now): read its sync object again.
    const [existing] = created.has(facts.key) ? await tx.syncedObjects(sourceId, 'group', [facts.key]) : [mirrored.get(facts.key)];
    sponsors.push(...(await upsertGroup(tx, context, facts, existing)));
  }
  return sponsors;
}
