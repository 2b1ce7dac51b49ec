/**
 * One directory synchronisation run (LDAP delta poll or full reconciliation) for one source:
 *
 *   1. claim the source's lease (runs of a source never overlap), read the cursor;
 *   2. take the high-water mark BEFORE scanning, so a change made during the scan is read next time;
 *   3. scan changed (delta) or all (full) entries page by page, staging only those whose facts changed;
 *   4. deletion detection compares key sets: the keys a run read from the directory (recorded per page)
 *      against the mirrored ones, in one set difference;
 *   5. ask the circuit breaker: too many removals → hold the run;
 *   6. apply in chunks, each chunk one transaction recording change events + audit + recompute outbox rows,
 *      its recomputes enqueued as it commits; the LAST transaction saves the cursor and closes the run, so
 *      the cursor never gets ahead of the changes it covers. A killed run resumes from the old cursor and
 *      re-applies nothing twice (facts hashes make repeats no-ops).
 *
 * The order differs by mode. A full reconciliation knows every removal before it applies anything, so a
 * held run applies nothing. A delta poll applies the changed entries first (people, groups, agents: their
 * recomputes are enqueued within milliseconds of the poll starting) and only then scans every key to find
 * deletions; the breaker judges the changes' deactivations before applying them, and the removals (with
 * those deactivations) before removing anything. A held sweep keeps the cursor, so the next poll reads the
 * same changes again (no-ops) and sweeps again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError, isAppError } from '../../domain/errors.js';
import { belowHoldFloor, type MassChangePolicy } from '../../domain/mass-change.js';
import type { Clock, Logger, Policy, WorkQueue } from '../ports.js';
import type { GovernancePolicy } from '../governance/policy.js';
import type { AgentSyncTx } from './ldap-agents.js';
import { heldReason } from './ldap-breaker.js';
import { leaseKeeper } from './ldap-lease.js';
import { createRunApplier, type RunApplier } from './ldap-run-apply.js';
import { newTally, stageScan, type Tally } from './ldap-stage.js';
import type {
  ChangedEntry, DirectoryScanner, ObjectType, RunCounts, StagedRow, SyncCursor, SyncRunRecord, SyncStateRecord, UnseenCounts,
} from './sync-ports.js';

/** Run bookkeeping and staging, outside the directory transactions. */
export interface SyncRunStore {
  transaction<T>(work: (tx: AgentSyncTx & SyncFinishTx) => Promise<T>): Promise<T>;
  /** Inserts a running run and takes the source's lease; null when another run holds it. */
  startRun(sourceId: string, mode: 'delta' | 'full', trigger: string, now: Date, leaseMs: number): Promise<number | null>;
  renewLease(sourceId: string, runId: number, now: Date, leaseMs: number): Promise<void>;
  syncState(sourceId: string): Promise<SyncStateRecord | null>;
  getRun(sourceId: string, runId: number): Promise<SyncRunRecord | null>;
  /** Of a page of entries, those whose hash differs from the mirror's; records the keys as read by `seenBy`. */
  changedEntries(sourceId: string, type: ObjectType, entries: readonly { key: string; hash: string }[], seenBy: number | null): Promise<ChangedEntry[]>;
  /** Records keys the run read from the directory: deletion detection compares them with the mirror's. */
  markSeen(runId: number, type: ObjectType, keys: readonly string[]): Promise<void>;
  stage(runId: number, type: ObjectType, rows: readonly { key: string; facts: Readonly<Record<string, unknown>>; hash: string }[]): Promise<void>;
  stagedPage(runId: number, type: ObjectType, afterSeq: number, limit: number): Promise<StagedRow[]>;
  /** Mirrored entries the run did not read, oldest key first. */
  unseen(sourceId: string, type: ObjectType, runId: number, limit: number): Promise<{ key: string; objectId: string }[]>;
  unseenCounts(sourceId: string, runId: number): Promise<UnseenCounts>;
  /** Of `rows`, the keys whose user name another live mirrored person holds now. */
  userNameHolders(sourceId: string, rows: readonly { key: string; userName: string }[]): Promise<string[]>;
  countActivePeople(sourceId: string): Promise<number>;
  /** Live (not retired) agents the source's directory maps. */
  countDirectoryAgents(sourceId: string): Promise<number>;
  /** Groups of the source mirrored now. */
  countDirectoryGroups(sourceId: string): Promise<number>;
  /**
   * Holds the run (superseding an older held run of the source), drops its staging, releases the lease.
   * `mode` is what the run did: a delta request without a usable cursor runs (and is recorded) as full.
   */
  holdRun(runId: number, counts: RunCounts & { population: number }, reason: string, now: Date, mode: 'delta' | 'full'): Promise<void>;
  failRun(runId: number, error: string, now: Date): Promise<void>;
}

/** What the final transaction of a run writes besides directory changes. */
export interface SyncFinishTx {
  finishRun(runId: number, counts: RunCounts & { population: number }, cursor: SyncCursor, mode: 'delta' | 'full', now: Date): Promise<void>;
}

export interface LdapSyncDeps {
  readonly sourceId: string;
  readonly store: SyncRunStore;
  readonly scanner: DirectoryScanner;
  readonly queue: WorkQueue;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly massChange: MassChangePolicy;
  /** The tool catalog, to refuse directory agents requesting unknown tools (they stay pending). */
  readonly policy?: () => Policy;
  /** Delegation lifetime limits (policy.maxDelegationDays) for agents the directory registers. */
  readonly governance?: () => GovernancePolicy;
  /** Rows per apply transaction. */
  readonly chunkSize?: number;
  readonly leaseMs?: number;
  /** How long a full reconciliation waits for a running poll to release the source's lease. */
  readonly leaseWaitMs?: number;
  /** Test seam: runs after each committed apply chunk (a throw here simulates a killed worker). */
  readonly afterChunk?: (chunk: number) => Promise<void>;
}

export interface SyncRequest {
  readonly mode: 'delta' | 'full';
  /** scheduled | admin_api:<token> | cli... (recorded on the run). */
  readonly trigger: string;
  /** A held run an admin confirmed: this run may remove about as many people as that one would have. */
  readonly confirmedRunId?: number;
}

export type SyncOutcome =
  | { readonly status: 'skipped'; readonly reason: string }
  | { readonly status: 'succeeded' | 'held'; readonly runId: number; readonly mode: 'delta' | 'full'; readonly counts: RunCounts; readonly heldReason?: string };

const DEFAULT_CHUNK = 500;
const DEFAULT_LEASE_MS = 15 * 60_000;
const DEFAULT_LEASE_WAIT_MS = 10 * 60_000;
const LEASE_RETRY_MS = 250;

export async function runDirectorySync(deps: LdapSyncDeps, request: SyncRequest): Promise<SyncOutcome> {
  const { store, sourceId } = deps;
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  const state = await store.syncState(sourceId);
  const runId = await claim(deps, request, leaseMs);
  if (runId === null) return { status: 'skipped', reason: 'another run of this source is in progress' };
  try {
    return await execute(deps, request, runId, state, leaseMs);
  } catch (error) {
    const message = isAppError(error) ? error.message : error instanceof Error ? error.message : String(error);
    await store.failRun(runId, message, deps.clock()).catch((failure: unknown) => deps.logger.error({ err: failure, runId }, 'could not record a failed sync run'));
    throw error;
  } finally {
    await deps.scanner.close();
  }
}

/**
 * Takes the source's lease. A delta poll that finds another run in progress is skipped (the next poll
 * comes soon); a full reconciliation someone asked for (or a confirmed held run) waits for the lease,
 * so a request arriving during a poll is not lost.
 */
async function claim(deps: LdapSyncDeps, request: SyncRequest, leaseMs: number): Promise<number | null> {
  const start = () => deps.store.startRun(deps.sourceId, request.mode, request.trigger, deps.clock(), leaseMs);
  let runId = await start();
  if (request.mode !== 'full') return runId;
  const deadline = deps.clock().getTime() + (deps.leaseWaitMs ?? DEFAULT_LEASE_WAIT_MS);
  while (runId === null && deps.clock().getTime() < deadline) {
    await sleep(LEASE_RETRY_MS);
    runId = await start();
  }
  if (runId === null) {
    throw new AppError('unavailable', `source ${deps.sourceId}: another run held the lease too long; the full reconciliation did not start`);
  }
  return runId;
}

/** One run's state while it executes. */
interface Run {
  readonly deps: LdapSyncDeps;
  readonly runId: number;
  readonly mode: 'delta' | 'full';
  readonly since: SyncCursor | null;
  readonly highWater: SyncCursor;
  /** Active people before the run; counted while the directory is searched. */
  readonly population: Promise<number>;
  readonly confirmed: SyncRunRecord | null;
  readonly tally: Tally;
  readonly apply: RunApplier;
  /** Between pages: renews the lease now and then. */
  readonly keepLease: () => Promise<void>;
}

async function execute(deps: LdapSyncDeps, request: SyncRequest, runId: number, state: SyncStateRecord | null, leaseMs: number): Promise<SyncOutcome> {
  const { store, scanner, sourceId } = deps;
  const cursor = state?.cursor ?? null;
  const mode = request.mode === 'delta' && cursor !== null && (await scanner.deltaUsable(cursor)) ? 'delta' : 'full';
  const highWater = await scanner.highWater();
  const population = store.countActivePeople(sourceId);
  // Awaited later; a failure then fails the run, never an unhandled rejection if the run fails first.
  population.catch(() => undefined);
  const keepLease = leaseKeeper(() => store.renewLease(sourceId, runId, deps.clock(), leaseMs), deps.clock, leaseMs);
  const apply = createRunApplier({
    sourceId, store, queue: deps.queue, clock: deps.clock, logger: deps.logger, chunkSize: deps.chunkSize ?? DEFAULT_CHUNK,
    ...(deps.policy === undefined ? {} : { policy: deps.policy }),
    ...(deps.governance === undefined ? {} : { governance: deps.governance }),
    afterChunk: async (chunk) => {
      await keepLease();
      await deps.afterChunk?.(chunk);
    },
  }, runId);
  const confirmed = request.confirmedRunId === undefined ? null : await store.getRun(sourceId, request.confirmedRunId);
  const run: Run = { deps, runId, mode, since: mode === 'delta' ? cursor : null, highWater, population, confirmed, tally: newTally(), apply, keepLease };
  return mode === 'delta' ? deltaPoll(run) : fullReconciliation(run);
}

const stage = (run: Run, type: ObjectType, markSeen: boolean) =>
  stageScan(run.deps, {
    sourceId: run.deps.sourceId, runId: run.runId, type, since: type === 'agent' ? null : run.since, markSeen, bulk: run.mode === 'full',
  }, run.tally, run.keepLease);

/** Every entry is read (and its key recorded) first, so the breaker judges every removal before anything is applied. */
async function fullReconciliation(run: Run): Promise<SyncOutcome> {
  for (const type of ['person', 'group', 'agent'] as const) await stage(run, type, true);
  const unseen = await run.deps.store.unseenCounts(run.deps.sourceId, run.runId);
  const held = await judge(run, unseen, false);
  if (held !== null) return held;
  await run.apply.people();
  await run.apply.groups();
  await run.apply.agents();
  await run.apply.removals(unseen);
  await run.apply.deferredPeople();
  return finish(run);
}

/**
 * Changes first, then the sweep: a changed entry's recompute is enqueued before the (whole-directory)
 * key scans run. The changes' deactivations are judged before they apply; if the sweep is held, the
 * changes stay applied (they are what the directory states) and only the removals wait.
 */
async function deltaPoll(run: Run): Promise<SyncOutcome> {
  const { store, scanner, sourceId } = run.deps;
  await stage(run, 'person', false);
  const noRemovals: UnseenCounts = { people: 0, activePeople: 0, groups: 0, agents: 0, liveAgents: 0 };
  const heldChanges = await judge(run, noRemovals, false);
  if (heldChanges !== null) return heldChanges;
  await run.apply.people();
  await stage(run, 'group', false);
  await run.apply.groups();
  await stage(run, 'agent', true);
  await run.apply.agents();
  // The sweep: deletions leave no trace in a change-time search, so every key in scope is read.
  for (const type of ['person', 'group'] as const) {
    for await (const keys of scanner.scanKeys(type)) {
      await store.markSeen(run.runId, type, keys);
      await run.keepLease();
    }
  }
  const unseen = await store.unseenCounts(sourceId, run.runId);
  const heldSweep = await judge(run, unseen, true);
  if (heldSweep !== null) return heldSweep;
  await run.apply.removals(unseen);
  await run.apply.deferredPeople();
  return finish(run);
}

/** Holds the run when its removals trip the breaker; null when it may go on. */
async function judge(run: Run, unseen: UnseenCounts, applied: boolean): Promise<SyncOutcome | null> {
  const { deps, tally } = run;
  // A delta poll's one changed entry must not wait for the population count (a scan of the source's
  // people) when its removals are too few for any population to hold it.
  const { massChange } = deps;
  if ([unseen.activePeople + tally.deactivated, unseen.liveAgents, unseen.groups].every((removals) => belowHoldFloor(massChange, removals))) return null;
  const population = await run.population;
  // Counting agents or groups costs a query; below the floor their breaker cannot trip.
  const agentPopulation = belowHoldFloor(massChange, unseen.liveAgents) ? 0 : await deps.store.countDirectoryAgents(deps.sourceId);
  const groupPopulation = belowHoldFloor(massChange, unseen.groups) ? 0 : await deps.store.countDirectoryGroups(deps.sourceId);
  const reason = heldReason(deps.massChange, {
    population, deletions: unseen.activePeople, deactivations: tally.deactivated, agentPopulation, retirements: unseen.liveAgents,
    groupPopulation, groupRemovals: unseen.groups,
  }, run.confirmed);
  if (reason === null) return null;
  // Held before applying anything: what the run would have changed; after its changes: what it applied.
  const changed = applied ? run.apply.counts.changed : tally.staged;
  const counts = { seen: tally.seen, changed, deleted: unseen.activePeople, deactivated: tally.deactivated };
  await deps.store.holdRun(run.runId, { ...counts, population }, reason, deps.clock(), run.mode);
  deps.logger.warn({ sourceId: deps.sourceId, runId: run.runId, reason }, 'directory run held by the mass-change circuit breaker');
  return { status: 'held', runId: run.runId, mode: run.mode, counts, heldReason: reason };
}

/** The cursor commits in the same transaction as the run's closing record, after every change it covers. */
async function finish(run: Run): Promise<SyncOutcome> {
  const { deps, tally } = run;
  const counts = { seen: tally.seen, changed: run.apply.counts.changed, deleted: run.apply.counts.deleted, deactivated: tally.deactivated };
  const population = await run.population;
  await deps.store.transaction(async (tx) => {
    await tx.finishRun(run.runId, { ...counts, population }, run.highWater, run.mode, deps.clock());
  });
  deps.logger.info({ sourceId: deps.sourceId, runId: run.runId, mode: run.mode, ...counts }, 'directory run applied');
  return { status: 'succeeded', runId: run.runId, mode: run.mode, counts };
}

/** Resolves a held run: confirm (the caller then starts a full run with `confirmedRunId`) or discard. */
export interface HeldRunStore {
  getRun(sourceId: string, runId: number): Promise<SyncRunRecord | null>;
  decideHeldRun(sourceId: string, runId: number, decision: 'confirmed' | 'discarded', actor: string, now: Date): Promise<SyncRunRecord | null>;
}

export async function decideHeldRun(
  deps: { store: HeldRunStore; clock: Clock }, sourceId: string, runId: number, decision: 'confirmed' | 'discarded', actor: string,
): Promise<SyncRunRecord> {
  const run = await deps.store.getRun(sourceId, runId);
  if (run === null) throw new AppError('not_found', `run ${runId} not found`, { detail: `Source ${sourceId} has no run ${runId}` });
  if (run.status !== 'held') {
    throw new AppError('precondition_failed', `run ${runId} is ${run.status}`, { detail: `Run ${runId} is ${run.status}, not held; only a held run can be confirmed or discarded` });
  }
  const decided = await deps.store.decideHeldRun(sourceId, runId, decision, actor, deps.clock());
  if (decided === null) throw new AppError('precondition_failed', `run ${runId} was decided concurrently`, { detail: `Run ${runId} is no longer held` });
  return decided;
}
