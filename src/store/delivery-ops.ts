import type { AppliedWrite, DeliveredEvent, DeliveryState } from '../app/pipeline/deliver.js';
import type { Denial } from '../domain/entitlements.js';
import type { Entitlement } from '../domain/types.js';
import { toVersion } from './agent-ops.js';
import type { Queryable } from './db.js';
import { hot } from './prepared.js';

/**
 * A push's reads and writes, one statement each: a delivery is a handful of small statements whose cost
 * is round trips, not rows, and a burst of leavers is hundreds of deliveries.
 */

/** The agent at the target, the version to deliver and the entitlements the target holds now. */
const STATE_SQL = hot('delivery_state', `
  select a.name, a.current_version, coalesce(t.applied_version, 0) as applied_version,
         v.version, v.sponsor_id, v.entitlements, v.denied, v.reason, v.change_event_ids, v.computed_at,
         held.entitlements as applied_entitlements
    from agents a
    left join target_states t on t.agent_id = a.id and t.target_id = $2
    left join entitlement_versions v on v.agent_id = a.id and v.version = $3
    left join entitlement_versions held on held.agent_id = a.id and held.version = t.applied_version
   where a.id = $1`);

/**
 * Raises the applied version only upwards and marks the pushes up to it done; only when it was raised,
 * records the delivery of the events behind versions (from, version] and the audit entry.
 */
const APPLIED_SQL = hot('delivery_applied', `
  with raised as (
    insert into target_states (agent_id, target_id, applied_version, applied_at) values ($1, $2, $3, $4)
    on conflict (agent_id, target_id) do update set applied_version = excluded.applied_version, applied_at = excluded.applied_at
      where target_states.applied_version < excluded.applied_version
    returning agent_id
  ), done as (
    update outbox set done_at = $4 where kind = 'push' and agent_id = $1 and target_id = $2 and version <= $3 and done_at is null
  ), delivered as (
    insert into event_deliveries (change_event_id, target_id, agent_id, version, applied_at, revocation)
    select distinct on (e.id) e.id, $2, $1, v.version, $4, $6
      from entitlement_versions v cross join unnest(v.change_event_ids) as ev(id) join change_events e on e.id = ev.id
     where v.agent_id = $1 and v.version > $5 and v.version <= $3 and exists (select 1 from raised)
     order by e.id, v.version desc
    on conflict do nothing
    returning change_event_id
  ), audit as (
    insert into audit_log (at, actor, action, subject_type, subject_id, detail)
    select $4, $7, 'entitlements.applied', 'agent', $1, $8::jsonb where exists (select 1 from raised)
  )
  select exists (select 1 from raised) as raised,
         (select json_agg(json_build_object('id', d.change_event_id, 'at', e.received_at))
            from delivered d join change_events e on e.id = d.change_event_id) as events`);

interface StateRow {
  name: string; current_version: number; applied_version: number;
  version: number | null; sponsor_id: string; entitlements: Entitlement[]; denied: Denial[]; reason: string; change_event_ids: string[]; computed_at: Date;
  applied_entitlements: Entitlement[] | null;
}

export function deliveryOps(q: Queryable) {
  return {
    async deliveryState(agentId: string, targetId: string, version: number): Promise<DeliveryState | null> {
      const result = await q.query<StateRow>(STATE_SQL, [agentId, targetId, version]);
      const row = result.rows[0];
      if (row === undefined) return null;
      return {
        view: { agentName: row.name, currentVersion: row.current_version, appliedVersion: row.applied_version },
        target: row.version === null ? null : toVersion({ ...row, agent_id: agentId, version: row.version }),
        held: row.applied_entitlements ?? [],
      };
    },

    async recordApply(write: AppliedWrite): Promise<DeliveredEvent[] | null> {
      const result = await q.query<{ raised: boolean; events: { id: string; at: string }[] | null }>(APPLIED_SQL, [
        write.agentId, write.targetId, write.version, write.now, write.fromExclusive, write.revocation, write.audit.actor, JSON.stringify(write.audit.detail),
      ]);
      const row = result.rows[0];
      if (row === undefined || !row.raised) return null;
      return (row.events ?? []).map((event) => ({ changeEventId: event.id, receivedAt: new Date(event.at) }));
    },
  };
}
