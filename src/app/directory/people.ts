import { classifyChange } from '../../domain/classify.js';
import { AppError } from '../../domain/errors.js';
import type { Clock, Logger, WorkQueue } from '../ports.js';
import type { PersonRecord, PersonWrite } from '../records.js';
import { recordDirectoryChange, type ChangeContext, type ChangeRecorderTx } from './change-recorder.js';
import { personUpdates, startEnqueueAfterCommit, stateOf, type ExpectedVersion, type PersonUpdates, type PersonUpdatesTx } from './person-updates.js';
import { describeExpected, versionMatches } from '../expected-version.js';

export interface PeopleTx extends ChangeRecorderTx, PersonUpdatesTx {
  /** Locks the row for the rest of the transaction; null when absent or deleted. */
  lockPerson(sourceId: string, id: string): Promise<PersonRecord | null>;
  /** Throws AppError('uniqueness') when userName is taken in the source. */
  insertPerson(sourceId: string, id: string, write: PersonWrite, now: Date): Promise<PersonRecord>;
  updatePerson(id: string, write: PersonWrite, now: Date): Promise<PersonRecord>;
  softDeletePerson(id: string, now: Date): Promise<void>;
  /** Locks the live groups `personId` is a member of, in id order (before the person: group writes lock in that order). */
  lockGroupsOf(personId: string): Promise<void>;
  /** Ids of every group the person belongs to, directly or through nested groups. */
  groupIdsOf(personId: string): Promise<string[]>;
}

export interface PeopleDeps {
  readonly store: { transaction<T>(work: (tx: PeopleTx) => Promise<T>): Promise<T> };
  readonly queue: WorkQueue;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * The group commit that serves updatePerson, shared by all requests of the process (built by
   * personUpdates over the same store and queue). Absent, each update is a transaction of its own.
   */
  readonly updates?: PersonUpdates;
}

export { enqueueAfterCommit, startEnqueueAfterCommit, type ExpectedVersion } from './person-updates.js';

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
  startEnqueueAfterCommit(deps, recomputePersonIds);
  return record;
}

/** Updates go through the group commit (person-updates.ts): concurrent requests share one transaction. */
export function updatePerson(
  deps: PeopleDeps,
  context: ChangeContext,
  id: string,
  produce: (current: PersonRecord) => PersonWrite,
  expectedVersion: ExpectedVersion,
): Promise<PersonRecord> {
  return (deps.updates ?? personUpdates(deps, { maxBatch: 1, maxInFlight: 1 })).submit({ context, id, produce, expectedVersion });
}

export async function deletePerson(
  deps: PeopleDeps,
  context: ChangeContext,
  id: string,
  expectedVersion: ExpectedVersion,
): Promise<void> {
  const recomputePersonIds = await deps.store.transaction(async (tx) => {
    // Its groups' versions move with the deletion (softDeletePerson); a group PATCH locks the group, then
    // the member, so the groups are locked first here too.
    await tx.lockGroupsOf(id);
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
  startEnqueueAfterCommit(deps, recomputePersonIds);
}

async function requirePerson(
  tx: PeopleTx,
  sourceId: string,
  id: string,
  expectedVersion: ExpectedVersion,
): Promise<PersonRecord> {
  const current = await tx.lockPerson(sourceId, id);
  if (current === null) throw new AppError('not_found', `User ${id} not found`, { detail: `Resource ${id} not found` });
  if (expectedVersion !== null && !versionMatches(expectedVersion, current.version)) {
    throw new AppError('precondition_failed', 'version mismatch', {
      detail: `Resource ${id} has changed since version ${describeExpected(expectedVersion)}`,
    });
  }
  return current;
}

