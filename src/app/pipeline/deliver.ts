import { diffEntitlements } from '../../domain/diff.js';
import { AppError } from '../../domain/errors.js';
import type { Clock, Logger, TargetConnector } from '../ports.js';
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

export interface DeliverTx {
  /** Raises the applied version only upwards; false when the target already holds this or newer. */
  recordApplied(agentId: string, targetId: string, version: number, now: Date): Promise<boolean>;
  /** Marks every pending push row of (agent, target) up to `version` as done. */
  completePushes(agentId: string, targetId: string, uptoVersion: number, now: Date): Promise<void>;
  /** Records delivery of the events behind versions (fromExclusive, toInclusive]; returns them. */
  recordDeliveries(agentId: string, targetId: string, fromExclusive: number, toInclusive: number, now: Date): Promise<DeliveredEvent[]>;
  appendAudit(entry: AuditEntry): Promise<void>;
}

export interface DeliverDeps {
  readonly store: DeliverStore;
  readonly connectors: ReadonlyMap<string, TargetConnector>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Called once per change event newly applied at a target, with its receive→apply latency. */
  readonly onDelivered?: (targetId: string, latencySeconds: number) => void;
}

export type DeliverOutcome = 'applied' | 'already_applied' | 'superseded' | 'agent_missing';

/**
 * Pushes one entitlement version to one target. Idempotent per (agent, version): a version the target already
 * holds, or one superseded by a newer version (whose own push is queued), is acknowledged without a call.
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
  if (view.appliedVersion >= version) {
    await deps.store.transaction((tx) => tx.completePushes(agentId, targetId, version, deps.clock()));
    return 'already_applied';
  }
  if (view.currentVersion > version) {
    await deps.store.transaction((tx) => tx.completePushes(agentId, targetId, version, deps.clock()));
    return 'superseded';
  }
  const target = await deps.store.version(agentId, version);
  if (target === null) throw new AppError('internal', `entitlement version ${version} of agent ${agentId} is missing`);
  const applied = view.appliedVersion === 0 ? null : await deps.store.version(agentId, view.appliedVersion);
  const diff = diffEntitlements(applied?.entitlements ?? [], target.entitlements);
  await connector.apply({
    agentId,
    agentName: view.agentName,
    version,
    sponsorId: target.sponsorId,
    effective: target.entitlements,
    granted: diff.granted,
    revoked: diff.revoked,
    reason: target.reason,
    changeEventId: target.changeEventIds.at(-1) ?? null,
  });
  const delivered = await deps.store.transaction(async (tx) => {
    const now = deps.clock();
    const raised = await tx.recordApplied(agentId, targetId, version, now);
    await tx.completePushes(agentId, targetId, version, now);
    if (!raised) return [];
    const events = await tx.recordDeliveries(agentId, targetId, view.appliedVersion, version, now);
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
  for (const event of delivered) deps.onDelivered?.(targetId, event.latencySeconds);
  return 'applied';
}
