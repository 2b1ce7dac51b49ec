import type { AuditEntry } from '../app/records.js';
import { agentOps } from './agent-ops.js';
import { appendAudit, sealAudit, verifyAuditChain } from './audit.js';
import { auditOps } from './audit-ops.js';
import type { Db, Queryable } from './db.js';
import { directoryOps, directoryReader } from './directory-ops.js';
import { expiryOps } from './expiry-ops.js';
import { governanceOps } from './governance-ops.js';
import { pipelineOps } from './pipeline-ops.js';
import { policyOps } from './policy-ops.js';
import { readModels } from './read-models.js';
import { syncObjectOps, syncRunOps } from './sync-ops.js';
import { tokenOps } from './token-ops.js';
import { targetOps } from './target-ops.js';
import { recomputeOps } from './recompute-ops.js';
import { deliveryOps } from './delivery-ops.js';
import { syncApplyOps } from './sync-apply-ops.js';

type Merged<T extends readonly object[]> = T extends readonly [infer Head, ...infer Tail extends readonly object[]] ? Head & Merged<Tail> : unknown;

/**
 * `Object.assign`, not one literal of spreads: V8 builds a literal of many spreads property by property on a
 * slow path — about 0.7 ms of CPU for the hundred operations below, against 0.05 ms — and transactionOps
 * runs for every transaction (each SCIM write batch, each recompute).
 */
function merge<T extends readonly object[]>(...parts: T): Merged<T> {
  return Object.assign({}, ...parts) as Merged<T>;
}

/**
 * Every operation available inside a transaction; use cases see it through their own narrow ports. Every
 * group of operations is listed here, merged once: none spreads another into its own literal.
 */
export function transactionOps(q: Queryable) {
  return merge(
    directoryOps(q),
    agentOps(q),
    pipelineOps(q),
    targetOps(q),
    recomputeOps(q),
    deliveryOps(q),
    policyOps(q),
    tokenOps(q),
    syncObjectOps(q),
    syncApplyOps(q),
    governanceOps(q),
    expiryOps(q),
    { appendAudit: (entry: Parameters<typeof appendAudit>[1]) => appendAudit(q, entry) },
  );
}

export type StoreTx = ReturnType<typeof transactionOps>;

export function createStore(db: Db) {
  return {
    db,
    ...transactionOps(db),
    ...directoryReader(db),
    ...syncRunOps(db),
    readModels: readModels(db),
    ...auditOps(db),
    /** Walks the audit hash chain (audit log search, export and verification: src/app/governance/audit-log.ts). */
    verifyAudit: () => verifyAuditChain(db),
    /** Chains committed audit entries; run periodically by workers (see sealAudit). */
    sealAudit: () => sealAudit(db),
    transaction<T>(work: (tx: StoreTx) => Promise<T>): Promise<T> {
      return db.transaction((tx) => work(transactionOps(tx)));
    },
    /** One audit entry in a transaction of its own (admin actions that are not row changes). */
    appendAuditEntry(entry: AuditEntry): Promise<void> {
      return db.transaction((tx) => transactionOps(tx).appendAudit(entry));
    },
  };
}

export type Store = ReturnType<typeof createStore>;
