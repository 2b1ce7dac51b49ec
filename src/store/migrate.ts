import * as init from './migrations/001-init.js';
import * as scimCredentials from './migrations/002-scim-credentials.js';
import * as scimAgents from './migrations/003-scim-agents.js';
import * as ldapSync from './migrations/004-ldap-sync.js';
import * as governance from './migrations/005-governance.js';
import * as targets from './migrations/006-targets.js';
import * as ldapSeenKeys from './migrations/007-ldap-seen-keys.js';
import * as expiryAudit from './migrations/008-expiry-audit.js';
import * as expiryNotifications from './migrations/009-expiry-notifications.js';
import * as tokenNotifications from './migrations/010-token-notifications.js';
import * as ldapDnCanonical from './migrations/011-ldap-dn-canonical.js';
import type { Db } from './db.js';

interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** Ordered, append-only. */
const MIGRATIONS: readonly Migration[] = [
  { version: 1, ...init },
  { version: 2, ...scimCredentials },
  { version: 3, ...scimAgents },
  { version: 4, ...ldapSync },
  { version: 5, ...governance },
  { version: 6, ...targets },
  { version: 7, ...ldapSeenKeys },
  { version: 8, ...expiryAudit },
  { version: 9, ...expiryNotifications },
  { version: 10, ...tokenNotifications },
  { version: 11, ...ldapDnCanonical },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Applies pending migrations, each in its own transaction. A transaction-scoped advisory lock makes
 * concurrent starts (several `tether serve` replicas) apply each migration exactly once.
 */
export async function migrate(db: Db): Promise<{ applied: number[] }> {
  await db.query(
    'create table if not exists schema_migrations (version integer primary key, name text not null, applied_at timestamptz not null default now())',
  );
  const applied: number[] = [];
  for (const migration of MIGRATIONS) {
    const ran = await db.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock(7406093)');
      const existing = await tx.query('select 1 from schema_migrations where version = $1', [migration.version]);
      if (existing.rowCount > 0) return false;
      await tx.exec(migration.sql);
      await tx.query('insert into schema_migrations (version, name) values ($1, $2)', [migration.version, migration.name]);
      return true;
    });
    if (ran) applied.push(migration.version);
  }
  return { applied };
}
