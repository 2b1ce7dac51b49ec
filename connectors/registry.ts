import type { TargetConnector } from '../src/app/ports.js';
import type { WebhookConfig } from './webhook/config.js';
import { createWebhookConnector, type WebhookDeps } from './webhook/connector.js';

/**
 * Every target kind Tether supports. Adding a kind here without a factory below is a compile error;
 * its config schema joins the discriminated union in src/config/file.ts.
 */
export type TargetKind = 'webhook';

export interface TargetConfigs {
  webhook: WebhookConfig;
}

export type TargetConfig = TargetConfigs[TargetKind];

export type ConnectorDeps = WebhookDeps;

interface TargetFactory<K extends TargetKind> {
  readonly create: (config: TargetConfigs[K], deps: ConnectorDeps) => TargetConnector;
}

export const TARGET_FACTORIES: { readonly [K in TargetKind]: TargetFactory<K> } = {
  webhook: { create: createWebhookConnector },
};

export function createConnector(config: TargetConfig, deps: ConnectorDeps): TargetConnector {
  const factory: TargetFactory<typeof config.kind> = TARGET_FACTORIES[config.kind];
  return factory.create(config, deps);
}
