/**
 * Person updates (SCIM PUT and PATCH on /Users) by group commit: concurrent requests are applied in one
 * transaction of set-based statements — lock all rows and read their group memberships, update all rows,
 * record all change events — then each request gets its own answer. Each request keeps the semantics of a
 * transaction of its own: its write is committed with its change event, audit entry and outbox rows before
 * it is answered, a repeated request changes nothing, and its own errors (not found, version mismatch, an
 * invalid patch) are its alone. See src/app/group-commit.ts for ordering and failure attribution.
 */
import { isDeepStrictEqual } from 'node:util';
import { classifyChange, type PersonState } from '../../domain/classify.js';
import { AppError } from '../../domain/errors.js';
import { groupCommit, type GroupCommit, type Outcome } from '../group-commit.js';
import type { Clock, Logger, WorkQueue } from '../ports.js';
import type { PersonRecord, PersonWrite } from '../records.js';
import { changeRows, type BatchChangeRecorderTx, type ChangeContext } from './change-recorder.js';
import { describeExpected, versionMatches, type ExpectedVersion } from '../expected-version.js';

export interface PersonUpdatesTx extends BatchChangeRecorderTx {
  /**
   * Locks the live rows among `ids` (deleted and unknown ids are absent), in a deadlock-free order, and
   * reads each one's groups (directly or through nesting) in the same round trip.
   */
  lockPeopleWithGroups(ids: readonly string[]): Promise<{ person: PersonRecord; groupIds: string[] }[]>;
  /** Locks the live rows among `ids` (deleted and unknown ids are absent), in a deadlock-free order. */
  lockPeople(ids: readonly string[]): Promise<PersonRecord[]>;
  /** Per person, every group it is in, directly or through nesting. */
  groupIdsOfMany(personIds: readonly string[]): Promise<Map<string, string[]>>;
  /** Throws AppError('uniqueness') when a userName is taken in its source. Returns rows in input order. */
  updatePeople(writes: readonly { readonly id: string; readonly write: PersonWrite }[], now: Date): Promise<PersonRecord[]>;
}

export interface PersonUpdatesDeps {
  readonly store: { transaction<T>(work: (tx: PersonUpdatesTx) => Promise<T>): Promise<T> };
  readonly queue: WorkQueue;
  readonly clock: Clock;
  readonly logger: Logger;
}

export type { ExpectedVersion } from '../expected-version.js';

export interface PersonUpdate {
  readonly context: ChangeContext;
  readonly id: string;
  /** Builds the new state from the locked current one; may throw an AppError (e.g. an invalid patch). */
  readonly produce: (current: PersonRecord) => PersonWrite;
  readonly expectedVersion: ExpectedVersion;
}

export type PersonUpdates = GroupCommit<PersonUpdate, PersonRecord>;

export interface BatchLimits {
  /** Requests per transaction. */
  readonly maxBatch: number;
  /** Transactions in flight at once (each holds a database connection). */
  readonly maxInFlight: number;
}

export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxBatch: 64, maxInFlight: 2 };

export function personUpdates(deps: PersonUpdatesDeps, limits: BatchLimits = DEFAULT_BATCH_LIMITS): PersonUpdates {
  return groupCommit<PersonUpdate, PersonRecord>({
    ...limits,
    key: (update) => update.id,
    flush: (updates) => applyUpdates(deps, updates),
  });
}

/** What one request resolved to before the writes: an error, its unchanged record, or a write to make. */
type Plan =
  | { readonly outcome: Outcome<PersonRecord> }
  | { readonly current: PersonRecord; readonly write: PersonWrite };

async function applyUpdates(deps: PersonUpdatesDeps, updates: readonly PersonUpdate[]): Promise<Outcome<PersonRecord>[]> {
  const { outcomes, recompute } = await deps.store.transaction(async (tx) => {
    const rows = await tx.lockPeopleWithGroups(updates.map((update) => update.id));
    const locked = new Map(rows.map((row) => [row.person.id, row.person]));
    const groups = new Map(rows.map((row) => [row.person.id, row.groupIds]));
    const plans = updates.map((update) => plan(update, locked.get(update.id)));
    const writes = plans.flatMap((entry, index) => ('write' in entry ? [{ index, id: updates[index]!.id, current: entry.current, write: entry.write }] : []));
    // Filled below for the writes; the others are settled already.
    const results = new Array<Outcome<PersonRecord>>(updates.length);
    plans.forEach((entry, index) => {
      if ('outcome' in entry) results[index] = entry.outcome;
    });
    if (writes.length === 0) return { outcomes: results, recompute: [] };
    const now = deps.clock();
    // The change rows are built from the write itself (what it sets is what the row will hold), so the
    // update and the recording go out together (pipelined on PostgreSQL): one round trip for both. If the
    // update fails (a userName taken), the recording fails behind it and the transaction rolls back whole.
    const changes = writes.map((entry) => {
      const after = { ...entry.current, ...entry.write };
      const groupIds = groups.get(entry.id) ?? [];
      return changeRows(updates[entry.index]!.context, {
        kind: classifyChange(stateOf(entry.current, groupIds), stateOf(after, groupIds)),
        subjectType: 'person',
        subjectId: entry.id,
        action: 'person.updated',
        detail: { changed: changedFields(entry.current, after) },
        affectedPersonIds: [entry.id],
        now,
      });
    });
    const updating = tx.updatePeople(writes, now);
    const recording = tx.recordChanges(changes);
    recording.catch(() => undefined); // awaited below, once the update is known to have succeeded
    const updated = await updating;
    writes.forEach((entry, position) => {
      results[entry.index] = { ok: true, value: updated[position]! };
    });
    const sponsors = await recording;
    return { outcomes: results, recompute: [...new Set(sponsors.flat())] };
  });
  startEnqueueAfterCommit(deps, recompute);
  return outcomes;
}

function plan(update: PersonUpdate, current: PersonRecord | undefined): Plan {
  if (current === undefined || current.sourceId !== update.context.sourceId) {
    return { outcome: { ok: false, error: new AppError('not_found', `User ${update.id} not found`, { detail: `Resource ${update.id} not found` }) } };
  }
  if (update.expectedVersion !== null && !versionMatches(update.expectedVersion, current.version)) {
    return {
      outcome: {
        ok: false,
        error: new AppError('precondition_failed', 'version mismatch', { detail: `Resource ${update.id} has changed since version ${describeExpected(update.expectedVersion)}` }),
      },
    };
  }
  let write: PersonWrite;
  try {
    write = update.produce(current);
  } catch (error) {
    return { outcome: { ok: false, error } };
  }
  // A repeated request (an IdP retry, a full PUT after GET) changes nothing: no new version, no event.
  if (sameAsStored(current, write)) return { outcome: { ok: true, value: current } };
  return { current, write };
}

export function stateOf(person: PersonRecord, groupIds: readonly string[]): PersonState {
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

/**
 * enqueueAfterCommit without waiting for Redis: for SCIM writes, whose answer promises only what is
 * committed (mirror, change event, audit entry, outbox row). The enqueue is the fast path of work the
 * outbox already holds, so waiting for it would add a Redis round trip to every answer — and, in a group
 * commit, hold the batch's slot — for no guarantee. Never rejects: failures are logged like above.
 */
export function startEnqueueAfterCommit(deps: { readonly queue: WorkQueue; readonly logger: Logger }, personIds: readonly string[]): void {
  void enqueueAfterCommit(deps, personIds);
}
