import { isDeepStrictEqual } from 'node:util';
import { classifyChange, type PersonState } from '../../domain/classify.js';
import { AppError } from '../../domain/errors.js';
import type { Clock, Logger, WorkQueue } from '../ports.js';
import type { PersonRecord, PersonWrite } from '../records.js';
import { recordDirectoryChange, type ChangeContext, type ChangeRecorderTx } from './change-recorder.js';

export interface PeopleTx extends ChangeRecorderTx {
  /** Locks the row for the rest of the transaction; null when absent or deleted. */
  lockPerson(sourceId: string, id: string): Promise<PersonRecord | null>;
  /** Throws AppError('uniqueness') when userName is taken in the source. */
  insertPerson(sourceId: string, id: string, write: PersonWrite, now: Date): Promise<PersonRecord>;
  updatePerson(id: string, write: PersonWrite, now: Date): Promise<PersonRecord>;
  softDeletePerson(id: string, now: Date): Promise<void>;
  /** Ids of every group the person belongs to, directly or through nested groups. */
  groupIdsOf(personId: string): Promise<string[]>;
}

export interface PeopleDeps {
  readonly store: { transaction<T>(work: (tx: PeopleTx) => Promise<T>): Promise<T> };
  readonly queue: WorkQueue;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Optimistic concurrency: the version the client last saw (SCIM If-Match), or null for "any". */
export type ExpectedVersion = number | null;

export async function createPerson(deps: PeopleDeps, context: ChangeContext, write: PersonWrite): Promise<PersonRecord> {
  const { record, recomputePersonIds } = await deps.store.transaction(async (tx) => {
    const now = deps.clock();
    const created = await tx.insertPerson(context.sourceId, crypto.randomUUID(), write, now);
    const kind = classifyChange(null, stateOf(created, []));
    const recorded = await recordDirectoryChange(tx, context, {
      kind,
      subjectType: 'person',
      subjectId: created.id,
      action: 'person.created',
      detail: { active: created.active },
      affectedPersonIds: [created.id],
      now,
    });
    return { record: created, recomputePersonIds: recorded.recomputePersonIds };
  });
  await enqueueAfterCommit(deps, recomputePersonIds);
  return record;
}

export async function updatePerson(
  deps: PeopleDeps,
  context: ChangeContext,
  id: string,
  produce: (current: PersonRecord) => PersonWrite,
  expectedVersion: ExpectedVersion,
): Promise<PersonRecord> {
  const { record, recomputePersonIds } = await deps.store.transaction(async (tx) => {
    const current = await requirePerson(tx, context.sourceId, id, expectedVersion);
    const write = produce(current);
    // A repeated request (an IdP retry, a full PUT after GET) changes nothing: no new version, no event.
    if (sameAsStored(current, write)) return { record: current, recomputePersonIds: [] };
    const now = deps.clock();
    const groupIds = await tx.groupIdsOf(id);
    const updated = await tx.updatePerson(id, write, now);
    const kind = classifyChange(stateOf(current, groupIds), stateOf(updated, groupIds));
    const recorded = await recordDirectoryChange(tx, context, {
      kind,
      subjectType: 'person',
      subjectId: id,
      action: 'person.updated',
      detail: { changed: changedFields(current, updated) },
      affectedPersonIds: [id],
      now,
    });
    return { record: updated, recomputePersonIds: recorded.recomputePersonIds };
  });
  await enqueueAfterCommit(deps, recomputePersonIds);
  return record;
}

export async function deletePerson(
  deps: PeopleDeps,
  context: ChangeContext,
  id: string,
  expectedVersion: ExpectedVersion,
): Promise<void> {
  const recomputePersonIds = await deps.store.transaction(async (tx) => {
    const current = await requirePerson(tx, context.sourceId, id, expectedVersion);
    const groupIds = await tx.groupIdsOf(id);
    const now = deps.clock();
    await tx.softDeletePerson(id, now);
    const recorded = await recordDirectoryChange(tx, context, {
      kind: classifyChange(stateOf(current, groupIds), null),
      subjectType: 'person',
      subjectId: id,
      action: 'person.deleted',
      detail: {},
      affectedPersonIds: [id],
      now,
    });
    return recorded.recomputePersonIds;
  });
  await enqueueAfterCommit(deps, recomputePersonIds);
}

async function requirePerson(
  tx: PeopleTx,
  sourceId: string,
  id: string,
  expectedVersion: ExpectedVersion,
): Promise<PersonRecord> {
  const current = await tx.lockPerson(sourceId, id);
  if (current === null) throw new AppError('not_found', `User ${id} not found`, { detail: `Resource ${id} not found` });
  if (expectedVersion !== null && expectedVersion !== current.version) {
    throw new AppError('precondition_failed', 'version mismatch', {
      detail: `Resource ${id} has changed since version ${expectedVersion}`,
    });
  }
  return current;
}

function stateOf(person: PersonRecord, groupIds: readonly string[]): PersonState {
  return { active: person.active, groupIds, attributes: person.attributes };
}

function sameAsStored(current: PersonRecord, write: PersonWrite): boolean {
  return (
    current.userName === write.userName &&
    current.externalId === write.externalId &&
    current.displayName === write.displayName &&
    current.active === write.active &&
    isDeepStrictEqual(current.attributes, write.attributes) &&
    isDeepStrictEqual(current.resource, write.resource)
  );
}

/** Names of changed fields only: change events never carry personal data. */
function changedFields(before: PersonRecord, after: PersonRecord): string[] {
  const changed: string[] = [];
  if (before.active !== after.active) changed.push('active');
  if (before.userName !== after.userName) changed.push('userName');
  if (before.externalId !== after.externalId) changed.push('externalId');
  const keys = new Set([...Object.keys(before.attributes), ...Object.keys(after.attributes)]);
  for (const key of [...keys].sort()) if (before.attributes[key] !== after.attributes[key]) changed.push(key);
  return changed;
}

/**
 * The outbox already holds the work; enqueueing now is only the fast path. A Redis hiccup here must not
 * fail a request whose change is committed: the outbox relay re-enqueues it.
 */
export async function enqueueAfterCommit(
  deps: { readonly queue: WorkQueue; readonly logger: Logger },
  personIds: readonly string[],
): Promise<void> {
  if (personIds.length === 0) return;
  try {
    await deps.queue.enqueueRecompute(personIds);
  } catch (error) {
    deps.logger.warn({ err: error, sponsors: personIds.length }, 'enqueue after commit failed; the outbox relay will retry');
  }
}
