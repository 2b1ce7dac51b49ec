/**
 * What every directory-sync apply step shares: the transaction port, the apply context, and DN
 * normalisation (member, manager and sponsor DNs are matched to mirrored entries through it).
 */
import { canonicalDn } from '../../domain/dn.js';
import type { ChangeContext } from './change-recorder.js';
import type { GroupsTx } from './groups.js';
import type { SyncBatchTx } from './ldap-batch-tx.js';
import type { PeopleTx } from './people.js';
import type { ObjectType, SyncedObject } from './sync-ports.js';

/** The transaction operations directory sync uses, besides the SCIM write path's own (set-based ones: SyncBatchTx). */
export interface SyncTx extends PeopleTx, GroupsTx, SyncBatchTx {
  syncedObjects(sourceId: string, type: ObjectType, keys: readonly string[]): Promise<SyncedObject[]>;
  upsertSyncedObject(sourceId: string, type: ObjectType, object: { key: string; objectId: string; dn: string; factsHash: string | null }, runId: number): Promise<void>;
  deleteSyncedObject(sourceId: string, type: ObjectType, key: string): Promise<void>;
  /** Mirrored entries by normalised DN. */
  objectsByDn(sourceId: string, dnNorms: readonly string[]): Promise<{ dnNorm: string; objectId: string; type: ObjectType }[]>;
  /** Live people of the source by lower-cased user name (posixGroup memberUid). */
  personsByUserName(sourceId: string, userNames: readonly string[]): Promise<{ userName: string; id: string }[]>;
  /**
   * Replaces the unresolved DN references an entry holds (a group's members; a person's manager, as
   * `manager:<dn>`). `groupId` is the holding entry's id.
   */
  setPendingMembers(sourceId: string, groupId: string, refs: readonly string[]): Promise<void>;
  /** Takes (returns and deletes) the pending references to any of `refs`. */
  takePendingMembers(sourceId: string, refs: readonly string[]): Promise<{ groupId: string; ref: string }[]>;
}

export interface ApplyContext {
  readonly change: ChangeContext;
  readonly runId: number;
  readonly now: Date;
}

/**
 * Normalised DN used to match member, manager and sponsor values with entries: every spelling of one DN
 * (escapes, case, spaces, AVA order) gives the same string (src/domain/dn.ts).
 */
export function normalizeDn(dn: string): string {
  return canonicalDn(dn);
}

/** The run's change context with one entry's directory time and the time its page was read. */
export function contextFor(base: ApplyContext, sourceTime: string | null, receivedAt: string | undefined): ChangeContext {
  return {
    ...base.change,
    sourceTime: sourceTime === null ? null : new Date(sourceTime),
    receivedAt: receivedAt === undefined ? base.change.receivedAt : new Date(receivedAt),
  };
}
