import { diffEntitlements } from '../../domain/diff.js';
import { AppError } from '../../domain/errors.js';
import type { Entitlement } from '../../domain/types.js';
import type { ApplyRequest, Clock, Logger, TargetConnector } from '../ports.js';
import type { AuditEntry, EntitlementVersionRecord } from '../records.js';

export interface DeliveryView {
  readonly agentName: string;
  readonly currentVersion: number;
  /** The version the target holds, 0 when it has never received one. */
  readonly appliedVersion: number;
}

/** What a delivery reads, in one statement. */
export interface DeliveryState {
  readonly view: DeliveryView;
  /** The version to deliver; null when it does not exist. */
  readonly target: EntitlementVersionRecord | null;
  /** What the target holds now (its applied version's entitlements; empty when it holds none). */
  readonly held: readonly Entitlement[];
}

/** A delivery's bookkeeping after the target accepted it. */
export interface AppliedWrite {
  readonly agentId: string;
  readonly targetId: string;
  readonly version: number;
  /** The version the target held before (its events were delivered already). */
  readonly fromExclusive: number;
  readonly revocation: boolean;
  readonly now: Date;
  readonly audit: Pick<AuditEntry, 'actor' | 'detail'>;
}

export interface DeliverStore {
  deliveryView(agentId: string, targetId: string): Promise<DeliveryView | null>;
  version(agentId: string, version: number): Promise<EntitlementVersionRecord | null>;
  deliveryState(agentId: string, targetId: string, version: number): Promise<DeliveryState | null>;
  /** Marks every pending push row of (agent, target) up to `version` as done. */
  completePushes(agentId: string, targetId: string, uptoVersion: number, now: Date): Promise<void>;
  /**
   * Atomically: raises the applied version only upwards and completes the pushes up to it; only when it was
   * raised, records the delivery of the events behind versions (fromExclusive, version] and the audit entry
   * `entitlements.applied`. Returns those events, or null when the target already held this or newer.
   */
  recordApply(write: AppliedWrite): Promise<DeliveredEvent[] | null>;
  transaction<T>(work: (tx: DeliverTx) => Promise<T>): Promise<T>;
}

export interface DeliveredEvent {
  readonly changeEventId: string;
  readonly receivedAt: Date;
}

export interface VerifiedEvent {
  readonly receivedAt: Date;
  readonly revocation: boolean;
}

export interface DeliverTx {
  /** Records that the target was read back holding `version`; returns the events newly verified by it. */
  recordVerified(agentId: string, targetId: string, version: number, now: Date): Promise<VerifiedEvent[]>;
  appendAudit(entry: AuditEntry): Promise<void>;
}

/** Timing of one change event at one target, from receipt: applied, then verified by read-back. */
export type DeliveryStage = 'applied' | 'verified';

export interface DeliverDeps {
  readonly store: DeliverStore;
  readonly connectors: ReadonlyMap<string, TargetConnector>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Called once per change event newly applied at a target, with its receive→apply latency. */
  readonly onDelivered?: (targetId: string, latencySeconds: number) => void;
  /** Called per change event and stage; `revocation` when the version took a right away. */
  readonly onTiming?: (targetId: string, stage: DeliveryStage, latencySeconds: number, revocation: boolean) => void;
}

export type DeliverOutcome = 'applied' | 'already_applied' | 'superseded' | 'agent_missing';

/**
 * Pushes one entitlement version to one target. Idempotent per (agent, version): a version the target already
 * holds, or one superseded by a newer version (whose own push is queued), is acknowledged without a call.
 * Readable targets are read back after applying, and the version counts as verified only if they hold it.
 */
export async function deliverVersion(
  deps: DeliverDeps,
  targetId: string,
  agentId: string,
  version: number,
): Promise<DeliverOutcome> {
  const connector = deps.connectors.get(targetId);
  if (connector === undefined) throw new AppError('invalid_config', `no connector for target ${targetId}`);
  const state = await deps.store.deliveryState(agentId, targetId, version);
  if (state === null) return 'agent_missing';
  const { view, target } = state;
  if (view.appliedVersion >= version || view.currentVersion > version) {
    await deps.store.completePushes(agentId, targetId, version, deps.clock());
    return view.appliedVersion >= version ? 'already_applied' : 'superseded';
  }
  if (target === null) throw new AppError('internal', `entitlement version ${version} of agent ${agentId} is missing`);
  const diff = diffEntitlements(state.held, target.entitlements);
  const request = applyRequest(agentId, view.agentName, target, diff);
  await connector.apply(request);
  const now = deps.clock();
  const revocation = diff.revoked.length > 0;
  const delivered = await deps.store.recordApply({
    agentId, targetId, version, fromExclusive: view.appliedVersion, revocation, now,
    audit: { actor: `system:target:${targetId}`, detail: { targetId, version, granted: diff.granted, revoked: diff.revoked } },
  });
  if (delivered === null) {
    // A newer version was applied while this one was in flight, and this apply may have overwritten it.
    await reapplyNewest(deps, connector, agentId);
    return 'superseded';
  }
  for (const event of delivered) {
    const latencySeconds = (now.getTime() - event.receivedAt.getTime()) / 1000;
    deps.onDelivered?.(targetId, latencySeconds);
    deps.onTiming?.(targetId, 'applied', latencySeconds, revocation);
  }
  // The version is applied and recorded; a failed read-back leaves it unverified for the drift check to settle.
  await verify(deps, connector, request).catch((error: unknown) =>
    deps.logger.warn({ targetId, agentId, version, err: error }, 'read-back after apply failed; left for the drift check'),
  );
  return 'applied';
}

/** Reads the target back; equal to the version just applied → verified (else the retry re-applies it). */
export interface VerifyDeps {
  readonly store: { transaction<T>(work: (tx: Pick<DeliverTx, 'recordVerified'>) => Promise<T>): Promise<T> };
  readonly clock: Clock;
  readonly onTiming?: DeliverDeps['onTiming'];
}

export async function verify(deps: VerifyDeps, connector: TargetConnector, request: ApplyRequest): Promise<boolean> {
  if (connector.canRead !== true || connector.read === undefined) return false;
  const holding = await connector.read({ agentId: request.agentId, agentName: request.agentName });
  const expected = toolSet(request.effective.map((entitlement) => entitlement.toolId));
  const held = toolSet(holding?.tools ?? []);
  if (expected !== held) {
    throw new AppError('target_unavailable', `target ${connector.id} does not hold version ${request.version} of agent ${request.agentId} after applying it`, {
      meta: { missing: diffList(expected, held), extra: diffList(held, expected) },
    });
  }
  const events = await deps.store.transaction((tx) => tx.recordVerified(request.agentId, connector.id, request.version, deps.clock()));
  const now = deps.clock().getTime();
  for (const event of events) deps.onTiming?.(connector.id, 'verified', (now - event.receivedAt.getTime()) / 1000, event.revocation);
  return true;
}

async function reapplyNewest(deps: DeliverDeps, connector: TargetConnector, agentId: string): Promise<void> {
  const view = await deps.store.deliveryView(agentId, connector.id);
  if (view === null || view.appliedVersion === 0) return;
  const newest = await deps.store.version(agentId, view.appliedVersion);
  if (newest === null) return;
  deps.logger.warn({ targetId: connector.id, agentId, version: view.appliedVersion }, 'an older version raced past a newer one: re-applying the newer');
  await connector.apply(applyRequest(agentId, view.agentName, newest, { granted: [], revoked: [] }));
}

export function applyRequest(
  agentId: string,
  agentName: string,
  version: EntitlementVersionRecord,
  diff: { readonly granted: readonly string[]; readonly revoked: readonly string[] },
  repairId?: string,
): ApplyRequest {
  return {
    agentId,
    agentName,
    version: version.version,
    sponsorId: version.sponsorId,
    effective: version.entitlements,
    granted: diff.granted,
    revoked: diff.revoked,
    reason: version.reason,
    changeEventId: version.changeEventIds.at(-1) ?? null,
    ...(repairId === undefined ? {} : { repairId }),
  };
}

function toolSet(tools: readonly string[]): string {
  return [...new Set(tools)].sort().join('\n');
}

function diffList(a: string, b: string): string[] {
  const other = new Set(b.split('\n'));
  return a.split('\n').filter((tool) => tool !== '' && !other.has(tool));
}
