import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { deliverVersion, type AppliedWrite, type DeliverStore, type DeliverTx, type DeliveredEvent, type DeliveryState, type DeliveryView } from '../../../../src/app/pipeline/deliver.js';
import type { TargetConnector } from '../../../../src/app/ports.js';
import type { EntitlementVersionRecord } from '../../../../src/app/records.js';
import type { Entitlement } from '../../../../src/domain/types.js';

export function entitlement(toolId: string): Entitlement {
  return {
    toolId,
    system: toolId.split('.')[0] ?? 'x',
    risk: 'read',
    provenance: { ruleId: 'rule', ruleVersion: 1, via: { kind: 'group', groupId: 'g', groupName: 'Sales' }, delegationId: 'd' },
  };
}

interface AgentRow {
  name: string;
  currentVersion: number;
  versions: Map<number, EntitlementVersionRecord>;
  applied: Map<string, number>;
}

/**
 * The delivery use case's store port in memory, so the conformance suite runs the real deliverVersion (its
 * ordering and idempotency rules) against each real connector. `staleViews` makes deliveryState answer as if
 * read before a concurrent newer delivery landed, to exercise the race path.
 */
export class MemoryDeliveryStore implements DeliverStore {
  readonly agents = new Map<string, AgentRow>();
  readonly audit: string[] = [];
  staleViews = new Map<string, DeliveryView>();

  addAgent(name: string): string {
    const id = randomUUID();
    this.agents.set(id, { name, currentVersion: 0, versions: new Map(), applied: new Map() });
    return id;
  }

  addVersion(agentId: string, tools: readonly string[]): number {
    const agent = this.#agent(agentId);
    const version = agent.currentVersion + 1;
    agent.versions.set(version, {
      agentId, version, sponsorId: randomUUID(), entitlements: tools.map(entitlement), denied: [], reason: 'test', changeEventIds: [], computedAt: new Date(),
    });
    agent.currentVersion = version;
    return version;
  }

  applied(agentId: string, targetId: string): number {
    return this.#agent(agentId).applied.get(targetId) ?? 0;
  }

  async deliveryView(agentId: string, targetId: string): Promise<DeliveryView | null> {
    const stale = this.staleViews.get(agentId);
    if (stale !== undefined) {
      this.staleViews.delete(agentId);
      return stale;
    }
    const agent = this.agents.get(agentId);
    return agent === undefined ? null : { agentName: agent.name, currentVersion: agent.currentVersion, appliedVersion: agent.applied.get(targetId) ?? 0 };
  }

  async version(agentId: string, version: number): Promise<EntitlementVersionRecord | null> {
    return this.agents.get(agentId)?.versions.get(version) ?? null;
  }

  async deliveryState(agentId: string, targetId: string, version: number): Promise<DeliveryState | null> {
    const view = await this.deliveryView(agentId, targetId);
    if (view === null) return null;
    const held = view.appliedVersion === 0 ? null : await this.version(agentId, view.appliedVersion);
    return { view, target: await this.version(agentId, version), held: held?.entitlements ?? [] };
  }

  async completePushes(): Promise<void> {}

  async recordApply(write: AppliedWrite): Promise<DeliveredEvent[] | null> {
    const agent = this.#agent(write.agentId);
    if ((agent.applied.get(write.targetId) ?? 0) >= write.version) return null;
    agent.applied.set(write.targetId, write.version);
    this.audit.push('entitlements.applied');
    return [];
  }

  async transaction<T>(work: (tx: DeliverTx) => Promise<T>): Promise<T> {
    const tx: DeliverTx = {
      recordVerified: async () => [],
      appendAudit: async (entry) => {
        this.audit.push(entry.action);
      },
    };
    return work(tx);
  }

  #agent(agentId: string): AgentRow {
    const agent = this.agents.get(agentId);
    if (agent === undefined) throw new Error(`no agent ${agentId}`);
    return agent;
  }
}

export const silent = pino({ level: 'silent' });

export function deliver(store: MemoryDeliveryStore, connector: TargetConnector, agentId: string, version: number) {
  return deliverVersion({ store, connectors: new Map([[connector.id, connector]]), clock: () => new Date(), logger: silent }, connector.id, agentId, version);
}
