/**
 * Messages between a run's thread and the LDAP scan worker (ldap-scan-worker.ts). Pull-based: the run asks
 * for each page, and the worker prepares one page ahead, so memory stays bounded by two pages whatever the
 * directory's size.
 */
import type { LdapSourceConfig } from '../../connectors/ldap/config.js';
import type { ObjectType } from '../app/directory/sync-ports.js';

/** The source's settings as a worker receives them: secrets revealed (memory only, never logged). */
export type WireConfig = Omit<LdapSourceConfig, 'bindPassword' | 'caCertificate'> & {
  readonly bindPassword: { readonly value: string; readonly reference: string };
  readonly caCertificate?: { readonly value: string; readonly reference: string };
};

export type ScanRequest =
  | { readonly op: 'scan'; readonly type: ObjectType }
  | { readonly op: 'next' }
  /** The facts (as JSON text) of some entries of the page last sent: those the run stages. */
  | { readonly op: 'facts'; readonly keys: readonly string[] }
  /** The run stopped reading before the end: end the LDAP search. */
  | { readonly op: 'stop' }
  /** The run is over: end any search and close the LDAP connection; the thread waits for the next run. */
  | { readonly op: 'release' };

export type ScanReply =
  | {
    readonly kind: 'page';
    readonly keys: string[];
    readonly hashes: string[];
    readonly actives: (boolean | null)[];
  }
  | { readonly kind: 'facts'; readonly json: string[] }
  | { readonly kind: 'done' }
  | { readonly kind: 'error'; readonly code: string; readonly message: string; readonly detail?: string };

export function toWire(config: LdapSourceConfig): WireConfig {
  const { bindPassword, caCertificate, ...rest } = config;
  return {
    ...rest,
    bindPassword: { value: bindPassword.reveal(), reference: bindPassword.reference },
    ...(caCertificate === undefined ? {} : { caCertificate: { value: caCertificate.reveal(), reference: caCertificate.reference } }),
  };
}
