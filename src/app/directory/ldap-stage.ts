/**
 * The scan half of a directory run: pages of entries from the directory, compared by facts hash with what
 * was last applied, and only the differing ones staged (in PostgreSQL, so memory stays bounded by a page).
 * A scan that reads a whole scope also records the keys it read: the sweep compares key sets afterwards.
 */
import { factsHash, fullScanHash } from './ldap-facts-hash.js';
import { RESOLVE_ONLY, type ChangedEntry, type DirectoryScanner, type HashedPage, type ObjectType, type ScanOptions } from './sync-ports.js';

/** What staging needs from the store. */
export interface StageStore {
  /**
   * Of a page of entries, those whose hash differs from the mirrored one (or not mirrored yet); records
   * the keys as read by run `seenBy` in the same round trip when it is not null.
   */
  changedEntries(sourceId: string, type: ObjectType, entries: readonly { key: string; hash: string }[], seenBy: number | null): Promise<ChangedEntry[]>;
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
  /** A full reconciliation: worth the scanner's `scanHashed` (another thread to start), when it has one. */
  readonly bulk: boolean;
}

/** Scans one kind of entry and stages those whose facts changed; `afterPage` runs between pages. */
export async function stageScan(
  deps: { store: StageStore; scanner: DirectoryScanner; clock: () => Date }, scope: StageScope, tally: Tally, afterPage: () => Promise<void>,
): Promise<void> {
  const { scanner } = deps;
  // A full scan the scanner can hash itself (off this thread): the run only compares and stages.
  if (scope.bulk && scope.since === null && scanner.scanHashed !== undefined) {
    for await (const page of scanner.scanHashed(scope.type)) {
      await stagePage(deps, scope, page, tally);
      await afterPage();
    }
    return;
  }
  for await (const scanned of scanner.scan(scope.type, { since: scope.since })) {
    const items = scanned as readonly { key: string; active?: boolean }[];
    const byKey = new Map(items.map((item) => [item.key, item]));
    const page: HashedPage = {
      entries: items.map((item) => ({ key: item.key, hash: scope.since === null ? fullScanHash(item, String(scope.runId)) : factsHash(item), active: item.active ?? null })),
      facts: (keys) => Promise.resolve(keys.map((key) => (byKey.get(key) ?? {}) as Readonly<Record<string, unknown>>)),
    };
    await stagePage(deps, scope, page, tally);
    await afterPage();
  }
}

async function stagePage(deps: { store: StageStore; clock: () => Date }, scope: StageScope, page: HashedPage, tally: Tally): Promise<void> {
  const receivedAt = deps.clock().toISOString();
  const byKey = new Map(page.entries.map((entry) => [entry.key, entry]));
  const entries = [...byKey.values()].map((entry) => ({ key: entry.key, hash: entry.hash }));
  const changed = await deps.store.changedEntries(scope.sourceId, scope.type, entries, scope.markSeen ? scope.runId : null);
  const mirroredActive = new Map(changed.map((entry) => [entry.key, entry.active]));
  const sameFacts = new Set(changed.filter((entry) => entry.sameFacts).map((entry) => entry.key));
  // In the directory's order, as before: the apply order of a page does not depend on the database's.
  const staged = [...byKey.values()].filter((entry) => mirroredActive.has(entry.key));
  const facts = staged.length === 0 ? [] : await page.facts(staged.map((entry) => entry.key));
  const rows = staged.map((entry, index) => {
    if (scope.type === 'person' && entry.active === false && mirroredActive.get(entry.key) === true) tally.deactivated += 1;
    // Staged to be resolved again only (fullScanHash): applied like any other, not counted as a change.
    return { key: entry.key, facts: { ...facts[index], receivedAt, ...(sameFacts.has(entry.key) ? { [RESOLVE_ONLY]: true } : {}) }, hash: entry.hash };
  });
  tally.seen += page.entries.length;
  tally.staged += rows.length - sameFacts.size;
  await deps.store.stage(scope.runId, scope.type, rows);
}
