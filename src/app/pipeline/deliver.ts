import { diffEntitlements } from '../../domain/diff.js';
import { AppError } from '../../domain/errors.js';
import type { ApplyRequest, Clock, Logger, TargetConnector } from '../ports.js';
import type { AuditEntry, EntitlementVersionRecord } from '../records.js';

export interface DeliveryView {
  readonly agentName: string;
  readonly currentVersion: number;
  /** The version the target holds, 0 when it has never received one. */
  readonly appliedVersion: number;
}

export interface DeliverStore {
  deliveryView(agentId: string, targetId: string): Promise<DeliveryView | null>;
  version(agentId: string, version: number): Promise<EntitlementVersionRecord | null>;
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
  /** Raises the applied version only upwards; false when the target already holds this or newer. */
  recordApplied(agentId: string, targetId: string, version: number, now: Date): Promise<boolean>;
  /** Marks every pending push row of (agent, target) up to `version` as done. */
  completePushes(agentId: string, targetId: string, uptoVersion: number, now: Date): Promise<void>;
  /** Records delivery of the events behind versions (fromExclusive, toInclusive]; returns them. */
  recordDeliveries(agentId: string, targetId: string, fromExclusive: number, toInclusive: number, now: Date, revocation?: boolean): Promise<DeliveredEvent[]>;
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
  const view = await deps.store.deliveryView(agentId, targetId);
  if (view === null) return 'agent_missing';
  if (view.appliedVersion >= version || view.currentVersion > version) {
    await deps.store.transaction((tx) => tx.completePushes(agentId, targetId, version, deps.clock()));
    return view.appliedVersion >= version ? 'already_applied' : 'superseded';
  }
  const target = await deps.store.version(agentId, version);
  if (target === null) throw new AppError('internal', `entitlement version ${version} of agent ${agentId} is missing`);
  const applied = view.appliedVersion === 0 ? null : await deps.store.version(agentId, view.appliedVersion);
  const diff = diffEntitlements(applied?.entitlements ?? [], target.entitlements);
  const request = applyRequest(agentId, view.agentName, target, diff);
  await connector.apply(request);
  const delivered = await deps.store.transaction(async (tx) => {
    const now = deps.clock();
    const raised = await tx.recordApplied(agentId, targetId, version, now);
    await tx.completePushes(agentId, targetId, version, now);
    if (!raised) return null;
    const events = await tx.recordDeliveries(agentId, targetId, view.appliedVersion, version, now, diff.revoked.length > 0);
    await tx.appendAudit({
      at: now,
      actor: `system:target:${targetId}`,
      action: 'entitlements.applied',
      subjectType: 'agent',
      subjectId: agentId,
      detail: { targetId, version, granted: diff.granted, revoked: diff.revoked },
    });
    return events.map((event) => ({ latencySeconds: (now.getTime() - event.receivedAt.getTime()) / 1000 }));
  });
  if (delivered === null) {
    // A newer version was applied while this one was in flight, and this apply may have overwritten it.
    await reapplyNewest(deps, connector, agentId);
    return 'superseded';
  }
  for (const event of delivered) {
    deps.onDelivered?.(targetId, event.latencySeconds);
    deps.onTiming?.(targetId, 'applied', event.latencySeconds, diff.revoked.length > 0);
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
