import type { VerifiedEvent } from '../app/pipeline/deliver.js';
import type { DriftAgent, DriftCounts } from '../app/pipeline/drift.js';
import type { Queryable } from './db.js';

export interface TargetStateSummary {
  readonly targetId: string;
  readonly agents: number;
  readonly verified: number;
  readonly lastAppliedAt: Date | null;
  readonly lastVerifiedAt: Date | null;
}

export interface DriftRunRow {
  readonly id: number;
  readonly targetId: string;
  readonly trigger: string;
  readonly agentId: string | null;
  readonly startedAt: Date;
  readonly finishedAt: Date | null;
  readonly checked: number;
  readonly repaired: number;
  readonly removed: number;
  readonly restored: number;
  readonly error: string | null;
}

export interface Percentiles {
  readonly count: number;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

export interface RevocationTiming {
  readonly targetId: string;
  readonly applied: Percentiles;
  readonly verified: Percentiles;
}

/** Read-back verification, drift runs and revocation timing per target (migration 006). */
export function targetOps(q: Queryable) {
  return {
    async recordVerified(agentId: string, targetId: string, version: number, now: Date): Promise<VerifiedEvent[]> {
      await q.query(
        `update target_states set verified_version = $3, verified_at = $4
          where agent_id = $1 and target_id = $2 and (verified_version is null or verified_version <= $3)`,
        [agentId, targetId, version, now],
      );
      const result = await q.query<{ received_at: Date; revocation: boolean }>(
        `update event_deliveries d set verified_at = $4 from change_events e
          where d.agent_id = $1 and d.target_id = $2 and d.version <= $3 and d.verified_at is null and e.id = d.change_event_id
          returning e.received_at, d.revocation`,
        [agentId, targetId, version, now],
      );
      return result.rows.map((row) => ({ receivedAt: row.received_at, revocation: row.revocation }));
    },

    async driftPage(targetId: string, afterAgentId: string | null, limit: number, onlyAgentId?: string): Promise<DriftAgent[]> {
      const result = await q.query<{ id: string; name: string; current_version: number; applied_version: number | null }>(
        `select a.id, a.name, a.current_version, t.applied_version from agents a
           left join target_states t on t.agent_id = a.id and t.target_id = $1
          where a.current_version > 0 and ($2::uuid is null or a.id > $2) and ($4::uuid is null or a.id = $4)
          order by a.id limit $3`,
        [targetId, afterAgentId, limit, onlyAgentId ?? null],
      );
      return result.rows.map((row) => ({ agentId: row.id, agentName: row.name, currentVersion: row.current_version, appliedVersion: row.applied_version ?? 0 }));
    },

    async startDriftRun(targetId: string, trigger: string, agentId: string | null, now: Date): Promise<number> {
      const result = await q.query<{ id: string }>(
        'insert into drift_runs (target_id, trigger, agent_id, started_at) values ($1, $2, $3, $4) returning id',
        [targetId, trigger, agentId, now],
      );
      return Number(result.rows[0]?.id);
    },

    async finishDriftRun(runId: number, counts: DriftCounts, error: string | null, now: Date): Promise<void> {
      await q.query(
        'update drift_runs set finished_at = $2, checked = $3, repaired = $4, removed = $5, restored = $6, error = $7 where id = $1',
        [runId, now, counts.checked, counts.repaired, counts.removed, counts.restored, error],
      );
    },

    async driftRuns(targetId: string, limit: number): Promise<DriftRunRow[]> {
      const result = await q.query<{
        id: string; target_id: string; trigger: string; agent_id: string | null; started_at: Date; finished_at: Date | null;
        checked: number; repaired: number; removed: number; restored: number; error: string | null;
      }>('select * from drift_runs where target_id = $1 order by id desc limit $2', [targetId, limit]);
      return result.rows.map((row) => ({
        id: Number(row.id), targetId: row.target_id, trigger: row.trigger, agentId: row.agent_id, startedAt: row.started_at, finishedAt: row.finished_at,
        checked: row.checked, repaired: row.repaired, removed: row.removed, restored: row.restored, error: row.error,
      }));
    },

    async targetStateSummaries(): Promise<TargetStateSummary[]> {
      const result = await q.query<{ target_id: string; agents: string; verified: string; last_applied: Date | null; last_verified: Date | null }>(
        `select target_id, count(*) as agents, count(*) filter (where verified_version >= applied_version) as verified,
                max(applied_at) as last_applied, max(verified_at) as last_verified
           from target_states group by target_id`,
      );
      return result.rows.map((row) => ({
        targetId: row.target_id, agents: Number(row.agents), verified: Number(row.verified), lastAppliedAt: row.last_applied, lastVerifiedAt: row.last_verified,
      }));
    },

    /** Seconds from receipt to applied / verified, over revocations delivered since `since`, per target. */
    async revocationTimings(since: Date): Promise<RevocationTiming[]> {
      const result = await q.query<{
        target_id: string; applied_n: string; a50: number | null; a95: number | null; a99: number | null;
        verified_n: string; v50: number | null; v95: number | null; v99: number | null;
      }>(
        `with timings as (
           select d.target_id, extract(epoch from d.applied_at - e.received_at)::float8 as applied,
                  extract(epoch from d.verified_at - e.received_at)::float8 as verified
             from event_deliveries d join change_events e on e.id = d.change_event_id
            where d.revocation and d.applied_at >= $1)
         select target_id,
                count(applied) as applied_n,
                percentile_cont(0.5) within group (order by applied) as a50,
                percentile_cont(0.95) within group (order by applied) as a95,
                percentile_cont(0.99) within group (order by applied) as a99,
                count(verified) as verified_n,
                percentile_cont(0.5) within group (order by verified) as v50,
                percentile_cont(0.95) within group (order by verified) as v95,
                percentile_cont(0.99) within group (order by verified) as v99
           from timings group by target_id`,
        [since],
      );
      return result.rows.map((row) => ({
        targetId: row.target_id,
        applied: { count: Number(row.applied_n), p50: row.a50, p95: row.a95, p99: row.a99 },
        verified: { count: Number(row.verified_n), p50: row.v50, p95: row.v95, p99: row.v99 },
      }));
    },
  };
}
