import type { DownstreamConnector } from '../src/app/ports.js';
import type { LdapTargetConfig } from './ldap-target/config.js';
import { createLdapTargetConnector } from './ldap-target/connector.js';
import type { OpenFgaConfig } from './openfga/config.js';
import { createOpenFgaConnector } from './openfga/connector.js';
import { createScimTargetConnector } from './scim-target/connector.js';
import type { ScimTargetConfig } from './scim-target/config.js';
import type { WebhookConfig } from './webhook/config.js';
import { createWebhookConnector } from './webhook/connector.js';

/**
 * Every target kind Tether supports. Adding a kind here without a factory below is a compile error;
 * its config schema joins the discriminated union in src/config/file.ts.
 */
export type TargetKind = 'webhook' | 'scim' | 'ldap' | 'openfga';

export interface TargetConfigs {
  webhook: WebhookConfig;
  scim: ScimTargetConfig;
  ldap: LdapTargetConfig;
  openfga: OpenFgaConfig;
}

export type TargetConfig = TargetConfigs[TargetKind];

/** What factories may use: the HTTP client and the clock (tests inject their own). */
export interface ConnectorDeps {
  readonly fetch: typeof fetch;
  readonly clock: () => Date;
}

interface TargetFactory<K extends TargetKind> {
  readonly create: (config: TargetConfigs[K], deps: ConnectorDeps) => DownstreamConnector;
}

export const TARGET_FACTORIES: { readonly [K in TargetKind]: TargetFactory<K> } = {
  webhook: { create: createWebhookConnector },
  scim: { create: createScimTargetConnector },
  ldap: { create: (config) => createLdapTargetConnector(config) },
  openfga: { create: createOpenFgaConnector },
};

export function createConnector(config: TargetConfig, deps: ConnectorDeps): DownstreamConnector {
  const factory = TARGET_FACTORIES[config.kind] as TargetFactory<typeof config.kind>;
  return factory.create(config, deps);
}
