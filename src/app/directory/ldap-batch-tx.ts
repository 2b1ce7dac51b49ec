/**
 * The set-based half of the directory-sync transaction port: statements that apply a whole chunk of
 * entries at once (ldap-*-batch.ts), so a chunk costs a handful of round trips whatever its size.
 */
import type { GroupMember, GroupWrite, PersonRecord, PersonWrite } from '../records.js';
import type { ObjectType } from './sync-ports.js';

export interface SyncBatchTx {
  /**
   * Takes the pending references to any of `refs` and adds each member a taken reference resolves to
   * (`memberId`, null for none) to the group holding it, bumping the group's version per member added.
   */
  takePendingMemberships(
    sourceId: string, refs: readonly { ref: string; memberId: string | null }[], now: Date,
  ): Promise<{ taken: { groupId: string; ref: string }[]; added: { groupId: string; memberId: string }[] }>;
  /**
   * Creates people with their sync objects and the pending references they hold, in one statement; throws
   * AppError('uniqueness') (writing nothing) when a user name is taken.
   */
  insertSyncedPeople(sourceId: string, people: readonly NewSyncedPerson[], runId: number, now: Date): Promise<PersonRecord[]>;
  /** The planner's row estimate of the mirror's sync objects; null when never analyzed. */
  mirrorRowEstimate(): Promise<number | null>;
  /** Refreshes the planner statistics of the mirror tables. */
  analyzeMirror(): Promise<void>;
  /** Creates groups with their sync objects (facts hash null until pass 2), in one statement. */
  insertSyncedGroups(sourceId: string, groups: readonly NewSyncedGroup[], runId: number, now: Date): Promise<void>;
  /** Direct members of each group (groups without members are absent). */
  membersOfGroups(groupIds: readonly string[]): Promise<Map<string, string[]>>;
  /** Membership deltas of many groups at once, each changed group's version bumped once; returns what changed. */
  changeMemberships(
    adds: readonly { groupId: string; member: GroupMember }[], removes: readonly { groupId: string; memberId: string }[], now: Date,
  ): Promise<{ added: { groupId: string; memberId: string }[]; removed: { groupId: string; memberId: string }[] }>;
  /** setPendingMembers for many holders at once. */
  replacePendingMembers(sourceId: string, holderIds: readonly string[], refs: readonly { holderId: string; ref: string }[]): Promise<void>;
  /** upsertSyncedObject for many entries of one type, distinct keys. */
  upsertSyncedObjects(sourceId: string, type: ObjectType, objects: readonly { key: string; objectId: string; dn: string; factsHash: string | null }[], runId: number): Promise<void>;
  /** personsUnder for many member sets, each under its tag. */
  personsUnderMany(sets: readonly { tag: string; memberIds: readonly string[] }[]): Promise<Map<string, string[]>>;
}

/** A person a directory run creates, with its sync object and the pending references it holds. */
export interface NewSyncedPerson {
  readonly id: string;
  readonly write: PersonWrite;
  readonly key: string;
  readonly dn: string;
  readonly factsHash: string;
  readonly pendingRefs: readonly string[];
}

/** A group a directory run creates, with its sync object. */
export interface NewSyncedGroup {
  readonly id: string;
  readonly write: GroupWrite;
  readonly key: string;
  readonly dn: string;
}
