/**
 * The `manager` rule attribute of LDAP people: the person id of the manager the entry's `manager` DN names,
 * once that manager is mirrored from the same source (succession proposals and grant rules read it). A
 * manager not mirrored yet waits as a pending reference (`manager:<dn>`) and is filled in when that person
 * appears or is renamed to the DN, in the same transaction, with its own change event.
 */
import { classifyChange } from '../../domain/classify.js';
import type { PersonRecord } from '../records.js';
import { recordDirectoryChange } from './change-recorder.js';
import { normalizeDn, type ApplyContext, type SyncTx } from './ldap-tx.js';

const MANAGER_PREFIX = 'manager:';

/** The pending reference a person holds while the manager DN it names is not mirrored. */
export const managerRef = (dnNorm: string) => `${MANAGER_PREFIX}${dnNorm}`;
export const isManagerRef = (ref: string) => ref.startsWith(MANAGER_PREFIX);

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

/** Rule attributes with `manager` set to the resolved id, or without it: a DN is never a rule value. */
export function withManager(attributes: Readonly<Record<string, string>>, managerId: string | null): Record<string, string> {
  const { manager: _mapped, ...rest } = attributes;
  return managerId === null ? rest : { ...rest, manager: managerId };
}

/** The people that waited for `managerId` (taken pending references) now name it; returns the sponsors to recompute. */
export async function adoptManagedPeople(tx: SyncTx, context: ApplyContext, managerId: string, waiting: readonly string[]): Promise<string[]> {
  const sourceId = context.change.sourceId;
  const recompute: string[] = [];
  for (const personId of new Set(waiting)) {
    const current = await tx.lockPerson(sourceId, personId);
    if (current === null || current.attributes['manager'] === managerId) continue;
    const groupIds = await tx.groupIdsOf(current.id);
    const updated = await tx.updatePerson(current.id, { ...current, attributes: withManager(current.attributes, managerId) }, context.now);
    const recorded = await recordDirectoryChange(tx, context.change, {
      kind: classifyChange(stateOf(current, groupIds), stateOf(updated, groupIds)),
      subjectType: 'person', subjectId: current.id, action: 'person.updated', detail: { changed: ['manager'], dnChanged: false },
      affectedPersonIds: [current.id], now: context.now,
    });
    recompute.push(...recorded.recomputePersonIds);
  }
  return recompute;
}

function stateOf(person: PersonRecord, groupIds: readonly string[]) {
  return { active: person.active, groupIds, attributes: person.attributes };
}
