import type { ReadModels, StatusView } from './views.js';

export interface QueueInspector {
  counts(): Promise<StatusView['queues']>;
}

/** Sync status: what the store knows plus queue depths. A Redis outage shows as empty queue counts, not a failure. */
export async function getStatus(
  deps: { readModels: ReadModels; queues: QueueInspector; targets: readonly { id: string; kind: string }[] },
): Promise<StatusView> {
  const [store, queues] = await Promise.all([
    deps.readModels.storeStatus(deps.targets),
    deps.queues.counts().catch(() => []),
  ]);
  return { ...store, queues };
}
