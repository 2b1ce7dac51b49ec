/**
 * A chunk of staged people applied set-based: a fixed handful of statements per chunk instead of about
 * eight round trips per entry. One lookup of the chunk's sync objects splits it into joiners (the whole of
 * a first load) and updates; each kind is applied by a few multi-row statements, and every change event,
 * audit entry and recompute outbox row of the chunk is recorded by one more. A key staged twice, and an
 * update whose person is gone, go through applyPerson, entry by entry, afterwards.
 *
 * Semantics are applyPerson's: the same rows and the same change event per entry. One difference, by
 * design: a joiner whose manager joins in the same chunk names it at once, where entry-by-entry application
 * might first hold a pending reference and record a second event (depending on which came first).
 */
import { classifyChange } from '../../domain/classify.js';
import { changeRows } from './change-recorder.js';
import { applyPerson } from './ldap-apply.js';
import { managerDns, planJoiners, referenceTargets, resolveTaken, splitJoiners, type PlannedJoiner, type StagedPerson } from './ldap-joiners.js';
import { adoptManagers, type ChangeRows } from './ldap-managers.js';
import { stateOf } from './person-updates.js';
import { contextFor, type ApplyContext, type SyncTx } from './ldap-tx.js';
import { applyUpdates } from './ldap-updates-batch.js';
import type { StagedRow } from './sync-ports.js';

/** Applies one chunk of staged people; returns the sponsors to recompute once it commits. */
export async function applyPeopleChunk(tx: SyncTx, context: ApplyContext, rows: readonly StagedRow[]): Promise<readonly string[]> {
  const sourceId = context.change.sourceId;
  const staged = rows.map((row): StagedPerson => ({ key: row.key, facts: row.facts as unknown as StagedPerson['facts'], hash: row.hash }));
  const mirrored = new Map((await tx.syncedObjects(sourceId, 'person', staged.map((row) => row.key))).map((object) => [object.key, object]));
  const { joiners, rest } = splitJoiners(staged, new Set(mirrored.keys()));
  const joinerChanges = joiners.length === 0 ? [] : await applyJoiners(tx, context, joiners);
  const joined = new Set(joiners.map((row) => row.key));
  const firstUpdates = new Set<string>();
  const updates = rest.flatMap((row) => {
    const existing = mirrored.get(row.key);
    if (existing === undefined || joined.has(row.key) || firstUpdates.has(row.key)) return [];
    firstUpdates.add(row.key);
    return [{ staged: row, existing }];
  });
  const { changes: updateChanges, gone } = updates.length === 0 ? { changes: [], gone: [] } : await applyUpdates(tx, context, updates);
  const sponsors = (await tx.recordChanges([...joinerChanges, ...updateChanges])).flat();
  const applied = new Set(updates.map((update) => update.staged));
  for (const update of gone) applied.delete(update.staged);
  const later = rest.filter((row) => !applied.has(row));
  for (const row of later) {
    // Staged twice, or mirrored but its person gone: read its sync object again and apply it alone.
    const [existing] = await tx.syncedObjects(sourceId, 'person', [row.key]);
    sponsors.push(...(await applyPerson(tx, context, row.facts, row.hash, existing)));
  }
  return sponsors;
}

/** Creates the joiners; returns the change rows to record (theirs, and those of people that waited for them as manager). */
async function applyJoiners(tx: SyncTx, context: ApplyContext, joiners: readonly StagedPerson[]): Promise<ChangeRows[]> {
  const sourceId = context.change.sourceId;
  const managers = new Map(
    (await tx.objectsByDn(sourceId, managerDns(joiners))).filter((object) => object.type === 'person').map((object) => [object.dnNorm, object.objectId]),
  );
  const planned = planJoiners(joiners, managers, () => crypto.randomUUID());
  const targets = referenceTargets(planned);
  // Taken before the insert below adds the joiners' own pending manager references.
  const { taken, added } = await tx.takePendingMemberships(sourceId, targets, context.now);
  const created = await tx.insertSyncedPeople(
    sourceId,
    planned.map((joiner) => ({
      id: joiner.id, write: joiner.write, key: joiner.staged.key, dn: joiner.staged.facts.dn, factsHash: joiner.staged.hash, pendingRefs: joiner.pendingRefs,
    })),
    context.runId, context.now,
  );
  const { groupsOf, adoptions } = resolveTaken(targets, taken, added);
  const adopted = await adoptManagers(tx, context, adoptions);
  return [...adopted, ...planned.map((joiner, index) => joinerChange(context, joiner, created[index], groupsOf.get(joiner.id) ?? []))];
}

function joinerChange(context: ApplyContext, joiner: PlannedJoiner, created: Parameters<typeof stateOf>[0] | undefined, groupIds: readonly string[]) {
  if (created === undefined) throw new Error(`person ${joiner.id} was not returned by its insert`);
  return changeRows(contextFor(context, joiner.staged.facts.sourceTime, joiner.staged.facts.receivedAt), {
    kind: classifyChange(null, stateOf(created, groupIds)),
    subjectType: 'person', subjectId: joiner.id, action: 'person.created', detail: { active: created.active, dnChanged: false },
    affectedPersonIds: [joiner.id], now: context.now,
  });
}
