/**
 * The apply half of a directory run: staged entries and removals applied in chunks, each chunk one
 * transaction (change events + audit + recompute outbox rows), its sponsors' recomputes enqueued as soon as
 * it commits. People and groups are applied set-based, a few statements per chunk (ldap-*-batch.ts); agents
 * and removals entry by entry. The run's flow (ldap-sync.ts) decides the order; this file knows how to
 * apply each kind.
 */
import type { Logger, Policy, WorkQueue } from '../ports.js';
import type { ChangeContext } from './change-recorder.js';
import { applyAgent, retireDirectoryAgent, type AgentSyncTx } from './ldap-agents.js';
import { applyPeopleChunk } from './ldap-apply-batch.js';
import { applyGroupMembersChunk } from './ldap-group-members-batch.js';
import { applyGroupsChunk } from './ldap-groups-batch.js';
import { shouldRefreshStatistics, statisticsStale } from './ldap-statistics.js';
import { applyGroupMembers, applyPerson, removeGroup, removePerson, upsertGroup, type ApplyContext } from './ldap-apply.js';
import { enqueueAfterCommit } from './people.js';
import { RESOLVE_ONLY, type AgentFacts, type GroupFacts, type ObjectType, type PersonFacts, type StagedRow, type UnseenCounts } from './sync-ports.js';
import type { GovernancePolicy } from '../governance/policy.js';

/** What applying needs from the store, outside the transactions. */
export interface ApplyStore {
  transaction<T>(work: (tx: AgentSyncTx) => Promise<T>): Promise<T>;
  stagedPage(runId: number, type: ObjectType, afterSeq: number, limit: number): Promise<StagedRow[]>;
  /** Mirrored entries the run did not read, oldest key first. */
  unseen(sourceId: string, type: ObjectType, runId: number, limit: number): Promise<{ key: string; objectId: string }[]>;
  /** Of `rows`, the keys whose user name another live mirrored person holds now. */
  userNameHolders(sourceId: string, rows: readonly { key: string; userName: string }[]): Promise<string[]>;
}

export interface ApplyDeps {
  readonly sourceId: string;
  readonly store: ApplyStore;
  readonly queue: WorkQueue;
  readonly clock: () => Date;
  readonly logger: Logger;
  readonly policy?: () => Policy;
  /** Delegation lifetime limits for agents the directory registers. */
  readonly governance?: () => GovernancePolicy;
  readonly chunkSize: number;
  /** Runs after each committed chunk (lease renewal, and the tests' killed-worker seam). */
  readonly afterChunk: (chunk: number) => Promise<void>;
}

type Removed = { key: string; objectId: string };

/** Applies one run's staged entries and removals; counts what it applied. */
export function createRunApplier(deps: ApplyDeps, runId: number) {
  const { store, sourceId, chunkSize } = deps;
  const change: ChangeContext = { actor: `ldap:${sourceId}`, sourceId, origin: 'ldap', receivedAt: deps.clock(), sourceTime: null };
  const counts = { changed: 0, deleted: 0 };
  /** People whose user name another entry held when they came up: applied after the removals. */
  let deferred: StagedRow[] = [];
  let chunk = 0;

  /** One chunk in one transaction; returns the sponsors to recompute. */
  function transact(work: (tx: AgentSyncTx, context: ApplyContext) => Promise<readonly string[]>): Promise<readonly string[]> {
    return store.transaction((tx) => work(tx, { change, runId, now: deps.clock() }));
  }

  /** After a chunk commits: its recomputes, then the lease renewal (and the tests' killed-worker seam). */
  async function committed(recompute: readonly string[]): Promise<void> {
    await enqueueAfterCommit(deps, recompute);
    chunk += 1;
    await deps.afterChunk(chunk);
  }

  const eachRow = <T>(rows: readonly T[], step: (tx: AgentSyncTx, context: ApplyContext, row: T) => Promise<readonly string[]>) =>
    async (tx: AgentSyncTx, context: ApplyContext) => {
      const sponsors: string[] = [];
      for (const row of rows) sponsors.push(...(await step(tx, context, row)));
      return sponsors;
    };

  async function commit<T>(rows: readonly T[], step: (tx: AgentSyncTx, context: ApplyContext, row: T) => Promise<readonly string[]>): Promise<void> {
    await committed(await transact(eachRow(rows, step)));
  }

  async function eachStaged(type: ObjectType, apply: (rows: readonly StagedRow[]) => Promise<void>): Promise<number> {
    let after = 0;
    let total = 0;
    for (;;) {
      const rows = await store.stagedPage(runId, type, after, chunkSize);
      if (rows.length === 0) return total;
      await apply(rows);
      // Entries staged only to be resolved again (sync-ports RESOLVE_ONLY) are applied, not counted as changes.
      total += rows.filter((row) => row.facts[RESOLVE_ONLY] !== true).length;
      after = rows.at(-1)?.seq ?? after;
    }
  }

  /**
   * A chunk applied set-based; if its transaction fails as a whole (a user name clash, say), the chunk is
   * applied again entry by entry in a new transaction, so the error met is the culprit's own, as before.
   */
  async function commitChunk(
    rows: readonly StagedRow[], setBased: (tx: AgentSyncTx, context: ApplyContext, rows: readonly StagedRow[]) => Promise<readonly string[]>,
    perEntry: (tx: AgentSyncTx, context: ApplyContext, row: StagedRow) => Promise<readonly string[]>,
  ): Promise<void> {
    let recompute: readonly string[];
    try {
      recompute = await transact((tx, context) => setBased(tx, context, rows));
    } catch (error) {
      deps.logger.warn({ err: error, sourceId, runId, entries: rows.length }, 'set-based apply of a chunk failed; applying it entry by entry');
      recompute = await transact(eachRow(rows, perEntry));
    }
    await committed(recompute);
  }

  const applyPeople = (rows: readonly StagedRow[]) => commitChunk(rows, applyPeopleChunk, async (tx, context, row) => {
    const [existing] = await tx.syncedObjects(sourceId, 'person', [row.key]);
    return applyPerson(tx, context, row.facts as unknown as PersonFacts, row.hash, existing);
  });

  /**
   * Planner statistics of the mirror (see ldap-statistics.ts): refreshed while a large run fills it, and once
   * after its writes. `estimate` is the row count they state, read once per run, then known from what we applied.
   */
  let statistics: { estimate: number | null; applied: number } | null = null;
  async function refreshStatistics(applied: number, due: (growth: number, estimate: number | null, minimum: number) => boolean): Promise<void> {
    if (applied < chunkSize) return;
    statistics ??= { estimate: await store.transaction((tx) => tx.mirrorRowEstimate()), applied: 0 };
    const { estimate, applied: before } = statistics;
    if (!due(applied - before, estimate, chunkSize)) return;
    await store.transaction((tx) => tx.analyzeMirror());
    statistics = { estimate: (estimate ?? 0) + applied - before, applied };
    deps.logger.info({ sourceId, runId, applied }, 'mirror statistics refreshed');
  }

  /** Splits off the rows whose user name is held by another entry (a leaver not swept yet, or a rename not applied yet). */
  async function withoutHeldNames(rows: readonly StagedRow[]): Promise<{ free: StagedRow[]; held: StagedRow[] }> {
    const names = rows.map((row) => ({ key: row.key, userName: (row.facts as unknown as PersonFacts).userName }));
    const holders = new Set(await store.userNameHolders(sourceId, names));
    return { free: rows.filter((row) => !holders.has(row.key)), held: rows.filter((row) => holders.has(row.key)) };
  }

  async function removeUnseen(type: ObjectType, remove: (tx: AgentSyncTx, context: ApplyContext, row: Removed) => Promise<readonly string[]>): Promise<number> {
    let removed = 0;
    for (;;) {
      const gone = await store.unseen(sourceId, type, runId, chunkSize);
      if (gone.length === 0) return removed;
      await commit(gone, remove);
      removed += gone.length;
    }
  }

  return {
    counts,

    /** Staged people, except those whose user name is still held: they wait for `deferredPeople`. */
    async people(): Promise<void> {
      let applied = 0;
      counts.changed += await eachStaged('person', async (rows) => {
        const { free, held } = await withoutHeldNames(rows);
        deferred = [...deferred, ...held];
        if (free.length > 0) await applyPeople(free);
        applied += free.length;
        await refreshStatistics(counts.changed + applied, statisticsStale);
      });
    },

    /** Staged groups: names first (pass 1), then members (pass 2), so a nested group exists when named. */
    async groups(): Promise<void> {
      counts.changed += await eachStaged('group', (rows) => commitChunk(rows, applyGroupsChunk, async (tx, context, row) => {
        const [existing] = await tx.syncedObjects(sourceId, 'group', [row.key]);
        return upsertGroup(tx, context, row.facts as unknown as GroupFacts, existing);
      }));
      await eachStaged('group', (rows) => commitChunk(rows, applyGroupMembersChunk, (tx, context, row) => applyGroupMembers(tx, context, row.facts as unknown as GroupFacts, row.hash)));
      await refreshStatistics(counts.changed, shouldRefreshStatistics);
    },

    /** Staged service accounts, after the people: a sponsor this run created is found. */
    async agents(): Promise<void> {
      const pending: string[] = [];
      counts.changed += await eachStaged('agent', async (rows) => commit(rows, async (tx, context, row) => {
        const [existing] = await tx.syncedObjects(sourceId, 'agent', [row.key]);
        const applied = await applyAgent(tx, context, row.facts as unknown as AgentFacts, row.hash, existing, deps.policy?.() ?? null, deps.governance?.() ?? null);
        if (applied.pending !== null && existing === undefined) pending.push(applied.pending);
        return applied.recompute;
      }));
      counts.changed -= pending.length;
      if (pending.length > 0) {
        deps.logger.info({ sourceId, runId, pendingAgents: pending.length, reasons: [...new Set(pending)].slice(0, 5) }, 'directory service accounts not registered as agents yet');
      }
    },

    /** The sweep: people and groups the directory no longer lists are removed (leavers), agents retired. */
    async removals(unseen: UnseenCounts): Promise<void> {
      if (unseen.people > 0) counts.deleted += await removeUnseen('person', removePerson);
      if (unseen.groups > 0) await removeUnseen('group', removeGroup);
      if (unseen.agents > 0) counts.changed += await removeUnseen('agent', retireDirectoryAgent);
    },

    /**
     * People whose user name was held when they came up, now that leavers are gone and renames applied.
     * Rounds, because freeing one name can free the next (a chain of renames); a name still held at the
     * end fails the run on the unique user name, as it would have anyway.
     */
    async deferredPeople(): Promise<void> {
      while (deferred.length > 0) {
        const { free, held } = await withoutHeldNames(deferred);
        const now = free.length > 0 ? free : held;
        deferred = free.length > 0 ? held : [];
        for (let start = 0; start < now.length; start += chunkSize) await applyPeople(now.slice(start, start + chunkSize));
      }
    },
  };
}

export type RunApplier = ReturnType<typeof createRunApplier>;
