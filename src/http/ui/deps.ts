import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { AuditEntry } from '../../app/records.js';
import type { ApiDeps } from '../api/routes.js';
import type { SamlSignOn } from '../auth/saml.js';
import type { SessionSettings } from '../auth/session.js';
import type { BoardQueue } from './queues-routes.js';

export interface UiDeps {
  /** The admin API's own data sources and use cases: the dashboard reads and acts through nothing else. */
  readonly api: ApiDeps;
  readonly saml: SamlSignOn;
  readonly session: SessionSettings & { readonly middleware: RequestHandler };
  /** Tether's public origin (scheme://host[:port]): state-changing requests naming another Origin are refused. */
  readonly publicOrigin: string;
  /** Origins forms may post or redirect to besides Tether (the IdP's sign-in and logout endpoints). */
  readonly formOrigins: readonly string[];
  /** Appends an audit entry in its own transaction. */
  readonly audit: (entry: AuditEntry) => Promise<void>;
  readonly logger: Logger;
  readonly clock: () => Date;
  /** Every BullMQ queue, shown read-only by bull-board at /ui/queues; absent: no queues page. */
  readonly boardQueues?: readonly BoardQueue[];
}
