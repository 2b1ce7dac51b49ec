/**
 * One directory synchronisation run (LDAP delta poll or full reconciliation) for one source:
 *
 *   1. claim the source's lease (runs of a source never overlap), read the cursor;
 *   2. take the high-water mark BEFORE scanning, so a change made during the scan is read next time;
 *   3. scan changed (delta) or all (full) entries page by page, staging only those whose facts changed,
 *      and mark every entry still in scope (mark-and-sweep: key-only scans in delta mode);
 *   4. ask the circuit breaker: too many removals → hold the run, apply nothing;
 *   5. apply in chunks (leavers, people, groups, group members, agents), each chunk one transaction recording
 *      change events + audit + recompute outbox rows; the LAST transaction saves the cursor and closes the
 *      run, so the cursor never gets ahead of the changes it covers. A killed run resumes from the old
 *      cursor and re-applies nothing twice (facts hashes make repeats no-ops).
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError, isAppError } from '../../domain/errors.js';
import { massChangeVerdict, type MassChangePolicy } from '../../domain/mass-change.js';
import type { Clock, Logger, WorkQueue } from '../ports.js';
import type { ChangeContext } from './change-recorder.js';
import type { Policy } from '../ports.js';
import { applyAgent, retireDirectoryAgent, type AgentSyncTx } from './ldap-agents.js';
import { applyGroupMembers, applyPerson, removeGroup, removePerson, upsertGroup, type ApplyContext } from './ldap-apply.js';
import { enqueueAfterCommit } from './people.js';
import type {
  AgentFacts, DirectoryScanner, GroupFacts, ObjectType, PersonFacts, RunCounts, StagedRow, SyncCursor, SyncedObject, SyncRunRecord, SyncStateRecord,
} from './sync-ports.js';

/** Run bookkeeping and staging, outside the directory transactions. */
export interface SyncRunStore {
  transaction<T>(work: (tx: AgentSyncTx & SyncFinishTx) => Promise<T>): Promise<T>;
  /** Inserts a running run and takes the source's lease; null when another run holds it. */
  startRun(sourceId: string, mode: 'delta' | 'full', trigger: string, now: Date, leaseMs: number): Promise<number | null>;
  renewLease(sourceId: string, runId: number, now: Date, leaseMs: number): Promise<void>;
  syncState(sourceId: string): Promise<SyncStateRecord | null>;
  getRun(sourceId: string, runId: number): Promise<SyncRunRecord | null>;
  syncedObjects(sourceId: string, type: ObjectType, keys: readonly string[]): Promise<SyncedObject[]>;
  markSeen(sourceId: string, type: ObjectType, keys: readonly string[], runId: number): Promise<void>;
  stage(runId: number, type: ObjectType, rows: readonly { key: string; facts: Readonly<Record<string, unknown>>; hash: string }[]): Promise<void>;
  stagedPage(runId: number, type: ObjectType, afterSeq: number, limit: number): Promise<StagedRow[]>;
  /** Mirrored entries the run did not see, oldest key first. `activeOnly` counts only active people. */
  unseen(sourceId: string, type: ObjectType, runId: number, limit: number): Promise<{ key: string; objectId: string }[]>;
  countUnseenActivePeople(sourceId: string, runId: number): Promise<number>;
  countActivePeople(sourceId: string): Promise<number>;
  /** Live (not retired) agents the source's directory maps. */
  countDirectoryAgents(sourceId: string): Promise<number>;
  /** Of those, the ones the run did not see: they would be retired. */
  countUnseenDirectoryAgents(sourceId: string, runId: number): Promise<number>;
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

async function execute(deps: LdapSyncDeps, request: SyncRequest, runId: number, state: SyncStateRecord | null, leaseMs: number): Promise<SyncOutcome> {
  const { store, scanner, sourceId } = deps;
  const cursor = state?.cursor ?? null;
  const mode = request.mode === 'delta' && cursor !== null && (await scanner.deltaUsable(cursor)) ? 'delta' : 'full';
  const highWater = await scanner.highWater();
  const population = await store.countActivePeople(sourceId);
  const since = mode === 'delta' ? cursor : null;
  const tally = { seen: 0, staged: 0, deactivated: 0 };
  const renew = () => store.renewLease(sourceId, runId, deps.clock(), leaseMs);

  for (const type of ['person', 'group'] as const) {
    for await (const page of scanner.scan(type, { since })) {
      await stagePage(deps, runId, type, page, mode === 'full', tally);
      await renew();
    }
  }
  if (mode === 'delta') {
    for (const type of ['person', 'group'] as const) {
      for await (const keys of scanner.scanKeys(type)) await store.markSeen(sourceId, type, keys, runId);
    }
  }
  if (scanner.agentsConfigured) {
    for await (const page of scanner.scan('agent', { since: null })) {
      await stagePage(deps, runId, 'agent', page, true, tally);
      await renew();
    }
  }
  const deletions = await store.countUnseenActivePeople(sourceId, runId);
  const confirmed = request.confirmedRunId === undefined ? null : await store.getRun(sourceId, request.confirmedRunId);
  const verdict = massChangeVerdict(deps.massChange, {
    population, deletions, deactivations: tally.deactivated, confirmedRemovals: confirmed?.confirmedRemovals ?? null,
  });
  const agentsHeld = await agentVerdict(deps, runId, confirmed);
  if (verdict.hold || agentsHeld !== null) {
    const counts = { seen: tally.seen, changed: tally.staged, deleted: deletions, deactivated: tally.deactivated, population };
    const reason = [verdict.hold ? verdict.reason : null, agentsHeld].filter((part) => part !== null).join('; ');
    await store.holdRun(runId, counts, reason, deps.clock(), mode);
    deps.logger.warn({ sourceId, runId, reason }, 'directory run held by the mass-change circuit breaker');
    return { status: 'held', runId, mode, counts, heldReason: reason };
  }
  const counts = await applyStaged(deps, runId, mode, highWater, population, tally);
  deps.logger.info({ sourceId, runId, mode, ...counts }, 'directory run applied');
  return { status: 'succeeded', runId, mode, counts };
}

const AGENTS_HELD = 'directory agents';

/**
 * The circuit breaker for agents: retiring is final (a retired agent is not brought back), so a run that
 * would retire more than `massChange.maxShare` of the source's directory agents is held like a mass
 * removal of people. Confirming a held run that named agents accepts its retirements.
 */
async function agentVerdict(deps: LdapSyncDeps, runId: number, confirmed: SyncRunRecord | null): Promise<string | null> {
  const population = await deps.store.countDirectoryAgents(deps.sourceId);
  const retirements = await deps.store.countUnseenDirectoryAgents(deps.sourceId, runId);
  const accepted = confirmed?.heldReason?.includes(AGENTS_HELD) === true ? retirements : null;
  const verdict = massChangeVerdict(deps.massChange, { population, deletions: retirements, deactivations: 0, confirmedRemovals: accepted });
  if (!verdict.hold) return null;
  return `would retire ${retirements} of ${population} ${AGENTS_HELD}, above the limit of ${Math.round(deps.massChange.maxShare * 1000) / 10}% (${verdict.limit}); confirm or discard the held run`;
}

/** Stages the entries of one page whose facts differ from what was last applied; marks them seen. */
async function stagePage(
  deps: LdapSyncDeps, runId: number, type: ObjectType, page: readonly (PersonFacts | GroupFacts | object)[], full: boolean,
  tally: { seen: number; staged: number; deactivated: number },
): Promise<void> {
  const receivedAt = deps.clock().toISOString();
  const facts = page as readonly { key: string; active?: boolean }[];
  const keys = facts.map((item) => item.key);
  const known = new Map((await deps.store.syncedObjects(deps.sourceId, type, keys)).map((object) => [object.key, object]));
  const rows: { key: string; facts: Readonly<Record<string, unknown>>; hash: string }[] = [];
  for (const item of facts) {
    const hash = factsHash(item);
    const existing = known.get(item.key);
    if (existing?.factsHash === hash) continue;
    if (type === 'person' && item.active === false && existing?.active === true) tally.deactivated += 1;
    rows.push({ key: item.key, facts: { ...item, receivedAt }, hash });
  }
  tally.seen += facts.length;
  tally.staged += rows.length;
  if (full) await deps.store.markSeen(deps.sourceId, type, keys, runId);
  await deps.store.stage(runId, type, rows);
}

/** Stable hash of what Tether applies from an entry; the change time alone is not a change. */
export function factsHash(facts: object): string {
  const { sourceTime: _time, receivedAt: _received, ...rest } = facts as Record<string, unknown>;
  return createHash('sha256').update(canonical(rest)).digest('hex');
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

type Step = (tx: AgentSyncTx, context: ApplyContext, row: StagedRow | { key: string; objectId: string }) => Promise<readonly string[]>;

async function applyStaged(
  deps: LdapSyncDeps, runId: number, mode: 'delta' | 'full', highWater: SyncCursor, population: number, tally: { seen: number; deactivated: number },
): Promise<RunCounts> {
  const { store, sourceId } = deps;
  const chunkSize = deps.chunkSize ?? DEFAULT_CHUNK;
  const receivedAt = deps.clock();
  const change: ChangeContext = { actor: `ldap:${sourceId}`, sourceId, origin: 'ldap', receivedAt, sourceTime: null };
  let chunk = 0;
  let changed = 0;
  let deleted = 0;
  const commit = async (work: (tx: AgentSyncTx, context: ApplyContext) => Promise<readonly string[]>) => {
    const recompute = await store.transaction((tx) => work(tx, { change, runId, now: deps.clock() }));
    await enqueueAfterCommit(deps, recompute);
    chunk += 1;
    await store.renewLease(sourceId, runId, deps.clock(), leaseOf(deps));
    await deps.afterChunk?.(chunk);
  };
  const eachChunk = async (rows: readonly (StagedRow | { key: string; objectId: string })[], step: Step) =>
    commit(async (tx, context) => {
      const recompute: string[] = [];
      for (const row of rows) recompute.push(...(await step(tx, context, row)));
      return recompute;
    });

  // Leavers first: a user name freed by a deleted entry may be taken by a new one in the same run.
  for (const type of ['person', 'group'] as const) {
    for (;;) {
      const gone = await store.unseen(sourceId, type, runId, chunkSize);
      if (gone.length === 0) break;
      await eachChunk(gone, (tx, context, row) => (type === 'person' ? removePerson(tx, context, row as { key: string; objectId: string }) : removeGroup(tx, context, row as { key: string; objectId: string })));
      deleted += type === 'person' ? gone.length : 0;
    }
  }
  for (;;) {
    const gone = await store.unseen(sourceId, 'agent', runId, chunkSize);
    if (gone.length === 0) break;
    await eachChunk(gone, (tx, context, row) => retireDirectoryAgent(tx, context, row as { key: string; objectId: string }));
    changed += gone.length;
  }
  changed += await forEachStaged(deps, runId, 'person', chunkSize, async (rows) => eachChunk(rows, async (tx, context, row) => {
    const staged = row as StagedRow;
    const [existing] = await tx.syncedObjects(sourceId, 'person', [staged.key]);
    return applyPerson(tx, context, staged.facts as unknown as PersonFacts, staged.hash, existing);
  }));
  changed += await forEachStaged(deps, runId, 'group', chunkSize, async (rows) => eachChunk(rows, async (tx, context, row) => {
    const staged = row as StagedRow;
    const [existing] = await tx.syncedObjects(sourceId, 'group', [staged.key]);
    return upsertGroup(tx, context, staged.facts as unknown as GroupFacts, existing);
  }));
  await forEachStaged(deps, runId, 'group', chunkSize, async (rows) => eachChunk(rows, async (tx, context, row) => {
    const staged = row as StagedRow;
    return applyGroupMembers(tx, context, staged.facts as unknown as GroupFacts, staged.hash);
  }));
  // Agents last: their sponsors are people this run may just have created.
  const pending: string[] = [];
  changed += await forEachStaged(deps, runId, 'agent', chunkSize, async (rows) => eachChunk(rows, async (tx, context, row) => {
    const staged = row as StagedRow;
    const [existing] = await tx.syncedObjects(sourceId, 'agent', [staged.key]);
    const applied = await applyAgent(tx, context, staged.facts as unknown as AgentFacts, staged.hash, existing, deps.policy?.() ?? null);
    if (applied.pending !== null && existing === undefined) pending.push(applied.pending);
    return applied.recompute;
  }));
  changed -= pending.length;
  if (pending.length > 0) deps.logger.info({ sourceId, runId, pendingAgents: pending.length, reasons: [...new Set(pending)].slice(0, 5) }, 'directory service accounts not registered as agents yet');
  const counts = { seen: tally.seen, changed, deleted, deactivated: tally.deactivated };
  // The cursor commits in the same transaction as the run's last change (here: its closing record).
  await store.transaction(async (tx) => {
    await tx.finishRun(runId, { ...counts, population }, highWater, mode, deps.clock());
  });
  return counts;
}

async function forEachStaged(
  deps: LdapSyncDeps, runId: number, type: ObjectType, chunkSize: number, apply: (rows: readonly StagedRow[]) => Promise<void>,
): Promise<number> {
  let after = 0;
  let total = 0;
  for (;;) {
    const rows = await deps.store.stagedPage(runId, type, after, chunkSize);
    if (rows.length === 0) return total;
    await apply(rows);
    total += rows.length;
    after = rows.at(-1)?.seq ?? after;
  }
}

function leaseOf(deps: LdapSyncDeps): number {
  return deps.leaseMs ?? DEFAULT_LEASE_MS;
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
