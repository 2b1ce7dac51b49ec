import { AppError, isAppError } from '../../domain/errors.js';
import type { Clock, Logger, TargetConnector } from '../ports.js';
import type { EntitlementVersionRecord } from '../records.js';
import { applyRequest, verify, type DeliverTx } from './deliver.js';

/** One agent as the drift check sees it: its computed version and what the target was last sent. */
export interface DriftAgent {
  readonly agentId: string;
  readonly agentName: string;
  readonly currentVersion: number;
  readonly appliedVersion: number;
}

export interface DriftCounts {
  readonly checked: number;
  readonly repaired: number;
  /** Rights found at the target that the computed version does not hold, removed. */
  readonly removed: number;
  /** Rights of the computed version the target lacked, re-applied. */
  readonly restored: number;
  readonly failed: number;
}

/** A repair leaves applied versions to the pushes (a pending push still records its own delivery). */
export type DriftTx = Pick<DeliverTx, 'recordVerified' | 'appendAudit'>;

export interface DriftStore {
  /** Agents with a computed version, in id order after `afterAgentId` (keyset paging: memory stays bounded). */
  driftPage(targetId: string, afterAgentId: string | null, limit: number, onlyAgentId?: string): Promise<DriftAgent[]>;
  version(agentId: string, version: number): Promise<EntitlementVersionRecord | null>;
  startDriftRun(targetId: string, trigger: string, agentId: string | null, now: Date): Promise<number>;
  finishDriftRun(runId: number, counts: DriftCounts, error: string | null, now: Date): Promise<void>;
  transaction<T>(work: (tx: DriftTx) => Promise<T>): Promise<T>;
}

export interface DriftDeps {
  readonly store: DriftStore;
  readonly connectors: ReadonlyMap<string, TargetConnector>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly pageSize?: number;
  /** Counts repairs (metrics). */
  readonly onRepair?: (targetId: string, removed: number, restored: number) => void;
}

export interface DriftReport extends DriftCounts {
  readonly runId: number;
  readonly targetId: string;
  readonly repairs: readonly { agentId: string; version: number; removed: readonly string[]; restored: readonly string[] }[];
}

/**
 * Reads a target back, agent by agent, and makes it hold exactly each agent's computed version: extra rights
 * are removed, missing ones re-applied, each repair audited. A target that stops answering ends the run
 * (the next scheduled run resumes); a rejected repair of one agent is logged and the run goes on.
 */
export async function runDriftCheck(
  deps: DriftDeps,
  targetId: string,
  options: { readonly trigger: string; readonly agentId?: string },
): Promise<DriftReport> {
  const connector = deps.connectors.get(targetId);
  if (connector === undefined) throw new AppError('not_found', 'target not found', { detail: `Target ${targetId} not found` });
  if (connector.canRead !== true || connector.read === undefined) {
    throw new AppError('invalid_input', `target ${targetId} cannot be read back`, { detail: `Target ${targetId} cannot be read back (a webhook needs readUrl)` });
  }
  const runId = await deps.store.startDriftRun(targetId, options.trigger, options.agentId ?? null, deps.clock());
  const counts = { checked: 0, repaired: 0, removed: 0, restored: 0, failed: 0 };
  const repairs: DriftReport['repairs'][number][] = [];
  let after: string | null = null;
  try {
    for (;;) {
      const page = await deps.store.driftPage(targetId, after, deps.pageSize ?? 200, options.agentId);
      for (const agent of page) {
        const repair = await checkAgent(deps, connector, agent, runId).catch((error: unknown) => {
          if (!isAppError(error) || error.retryable) throw error;
          counts.failed += 1;
          deps.logger.warn({ targetId, agentId: agent.agentId, err: error }, 'drift repair rejected by the target');
          return null;
        });
        counts.checked += 1;
        if (repair === null) continue;
        counts.repaired += 1;
        counts.removed += repair.removed.length;
        counts.restored += repair.restored.length;
        if (repairs.length < 100) repairs.push(repair);
        deps.onRepair?.(targetId, repair.removed.length, repair.restored.length);
      }
      const last = page.at(-1);
      if (last === undefined || options.agentId !== undefined) break;
      after = last.agentId;
    }
  } catch (error) {
    await deps.store.finishDriftRun(runId, counts, error instanceof Error ? error.message : 'failed', deps.clock());
    throw error;
  }
  await deps.store.finishDriftRun(runId, counts, null, deps.clock());
  if (counts.repaired > 0) deps.logger.info({ targetId, runId, ...counts }, 'drift repaired');
  return { runId, targetId, ...counts, repairs };
}

async function checkAgent(deps: DriftDeps, connector: TargetConnector, agent: DriftAgent, runId: number): Promise<DriftReport['repairs'][number] | null> {
  const computed = await deps.store.version(agent.agentId, agent.currentVersion);
  if (computed === null) return null;
  const holding = await connector.read?.({ agentId: agent.agentId, agentName: agent.agentName });
  const expected = new Set(computed.entitlements.map((entitlement) => entitlement.toolId));
  const held = new Set(holding?.tools ?? []);
  const restored = [...expected].filter((tool) => !held.has(tool)).sort();
  const removed = [...held].filter((tool) => !expected.has(tool)).sort();
  const request = applyRequest(agent.agentId, agent.agentName, computed, { granted: restored, revoked: removed }, String(runId));
  if (restored.length === 0 && removed.length === 0) {
    if (agent.appliedVersion >= agent.currentVersion) await verify(deps, connector, request);
    return null;
  }
  await connector.apply(request);
  await deps.store.transaction(async (tx) => {
    const now = deps.clock();
    await tx.appendAudit({
      at: now,
      actor: `system:drift:${connector.id}`,
      action: 'target.drift_repaired',
      subjectType: 'agent',
      subjectId: agent.agentId,
      detail: { targetId: connector.id, version: agent.currentVersion, runId, removed, restored },
    });
  });
  await verify(deps, connector, request);
  return { agentId: agent.agentId, version: agent.currentVersion, removed, restored };
}
