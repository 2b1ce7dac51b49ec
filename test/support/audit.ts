import { sealAudit, verifyAuditChain } from '../../src/store/audit.js';
import type { Db } from '../../src/store/db.js';
import { waitFor } from './ports.js';

/**
 * Seals until every committed entry is chained; returns how many were sealed. Sealing waits for every older
 * transaction of the whole PostgreSQL cluster to end (txid below the snapshot's xmin), and test files that
 * run in parallel on the same server may hold one open for a moment, so one sealAudit call may seal nothing.
 */
export async function sealAll(db: Db, timeoutMs = 20_000): Promise<number> {
  let sealed = 0;
  await waitFor(async () => {
    sealed += await sealAudit(db);
    return (await verifyAuditChain(db)).unsealed === 0;
  }, { timeoutMs, intervalMs: 50, what: 'audit log sealed' });
  return sealed;
}
