/**
 * The scan half of a directory run: pages of entries from the directory, compared by facts hash with what
 * was last applied, and only the differing ones staged (in PostgreSQL, so memory stays bounded by a page).
 * A scan that reads a whole scope also records the keys it read: the sweep compares key sets afterwards.
 */
import { factsHash } from './ldap-facts-hash.js';
import type { DirectoryScanner, ObjectType, ScanOptions, SyncedObject } from './sync-ports.js';

/** What staging needs from the store. */
export interface StageStore {
  syncedObjects(sourceId: string, type: ObjectType, keys: readonly string[]): Promise<SyncedObject[]>;
  /** `syncedObjects` that also records the keys as read by the run (one round trip per page). */
  syncedObjectsSeen(sourceId: string, type: ObjectType, keys: readonly string[], runId: number): Promise<SyncedObject[]>;
  stage(runId: number, type: ObjectType, rows: readonly { key: string; facts: Readonly<Record<string, unknown>>; hash: string }[]): Promise<void>;
}

/** Running totals of a run's scans. */
export interface Tally {
  seen: number;
  staged: number;
  /** Active mirrored people the directory now states inactive. */
  deactivated: number;
}

export const newTally = (): Tally => ({ seen: 0, staged: 0, deactivated: 0 });

export interface StageScope {
  readonly sourceId: string;
  readonly runId: number;
  readonly type: ObjectType;
  readonly since: ScanOptions['since'];
  /** Record every key read (a scan of the whole scope: full runs, and the agents scope on every run). */
  readonly markSeen: boolean;
}

/** Scans one kind of entry and stages those whose facts changed; `afterPage` runs between pages. */
export async function stageScan(
  deps: { store: StageStore; scanner: DirectoryScanner; clock: () => Date }, scope: StageScope, tally: Tally, afterPage: () => Promise<void>,
): Promise<void> {
  for await (const page of deps.scanner.scan(scope.type, { since: scope.since })) {
    await stagePage(deps, scope, page, tally);
    await afterPage();
  }
}

async function stagePage(deps: { store: StageStore; clock: () => Date }, scope: StageScope, page: readonly object[], tally: Tally): Promise<void> {
  const { store } = deps;
  const receivedAt = deps.clock().toISOString();
  const facts = page as readonly { key: string; active?: boolean }[];
  const keys = facts.map((item) => item.key);
  const mirrored = scope.markSeen
    ? await store.syncedObjectsSeen(scope.sourceId, scope.type, keys, scope.runId)
    : await store.syncedObjects(scope.sourceId, scope.type, keys);
  const known = new Map(mirrored.map((object) => [object.key, object]));
  const rows: { key: string; facts: Readonly<Record<string, unknown>>; hash: string }[] = [];
  for (const item of facts) {
    const hash = factsHash(item);
    const existing = known.get(item.key);
    if (existing?.factsHash === hash) continue;
    if (scope.type === 'person' && item.active === false && existing?.active === true) tally.deactivated += 1;
    rows.push({ key: item.key, facts: { ...item, receivedAt }, hash });
  }
  tally.seen += facts.length;
  tally.staged += rows.length;
  await store.stage(scope.runId, scope.type, rows);
}
