import type { ExpiryNotice, ExpiryState } from '../app/governance/expiry.js';
import type { PendingExpiryEvent } from '../app/governance/notices.js';
import type { AgentState } from '../domain/types.js';
import type { Queryable } from './db.js';
import { isUuid } from './ids.js';

/** Whether an expiry of the given subject already has a notice of this kind (correlated on a = agents, d = delegations). */
const noticeExists = (kind: 'expiring' | 'expired', subject: 'agent' | 'delegation') => `exists (
  select 1 from expiry_notices n where n.agent_id = a.id and n.kind = '${kind}' and n.subject = '${subject}'
   and n.expires_at = ${subject === 'agent' ? 'a.expires_at' : 'd.expires_at'})`;

/** The expiry sweep's queries: who still holds rights past an expiry, whose expiry is near, and what was sent. */
export function expiryOps(q: Queryable) {
  return {
    /** Live agents past an agent or delegation expiry at `now` that still hold rights or open grants (not yet acted on). */
    async dueExpiries(now: Date, limit: number): Promise<string[]> {
      const result = await q.query<{ id: string }>(
        `select a.id from agents a
           left join delegations d on d.id = a.delegation_id
           join entitlement_versions v on v.agent_id = a.id and v.version = a.current_version
          where a.state <> 'retired'
            -- Rights to take away, or open grants (pending, confirmed, rejected) to withdraw.
            and (v.entitlements <> '[]'::jsonb
              or exists (select 1 from pending_grants g where g.agent_id = a.id and g.status in ('pending', 'confirmed', 'rejected')))
            and ((a.expires_at <= $1 and not ${noticeExists('expired', 'agent')})
              or (d.expires_at <= $1 and not ${noticeExists('expired', 'delegation')}))
          order by a.id limit $2`,
        [now, limit],
      );
      return result.rows.map((row) => row.id);
    },

    /** Live agents with an agent or delegation expiry in (now, until] that has had no notice yet. */
    async dueExpiryNotices(now: Date, until: Date, limit: number): Promise<string[]> {
      const result = await q.query<{ id: string }>(
        `select a.id from agents a
           left join delegations d on d.id = a.delegation_id
          where a.state <> 'retired'
            and ((a.expires_at > $1 and a.expires_at <= $2 and not ${noticeExists('expiring', 'agent')})
              or (d.expires_at > $1 and d.expires_at <= $2 and not ${noticeExists('expiring', 'delegation')}))
          order by a.id limit $3`,
        [now, until, limit],
      );
      return result.rows.map((row) => row.id);
    },

    /** The agent row locked, with its delegation's expiry and whether its current version grants anything. */
    async lockExpiryState(agentId: string): Promise<ExpiryState | null> {
      if (!isUuid(agentId)) return null;
      const result = await q.query<{
        id: string; state: AgentState; sponsor_id: string; expires_at: Date | null; delegation_id: string | null; d_expires_at: Date | null; holds: boolean | null;
      }>(
        `select a.id, a.state, a.sponsor_id, a.expires_at, a.delegation_id, d.expires_at as d_expires_at,
                coalesce((select v.entitlements <> '[]'::jsonb from entitlement_versions v where v.agent_id = a.id and v.version = a.current_version), false)
                  or exists (select 1 from pending_grants g where g.agent_id = a.id and g.status in ('pending', 'confirmed', 'rejected')) as holds
           from agents a left join delegations d on d.id = a.delegation_id
          where a.id = $1 for update of a`,
        [agentId],
      );
      const row = result.rows[0];
      if (row === undefined) return null;
      return {
        agentId: row.id, state: row.state, sponsorId: row.sponsor_id, delegationId: row.delegation_id,
        facts: { agentExpiresAt: row.expires_at, delegationExpiresAt: row.d_expires_at }, holdsRights: row.holds === true,
      };
    },

    /** Records a notice; false when this one (agent, subject, expiry, kind) was recorded before. */
    async recordExpiryNotice(notice: ExpiryNotice, now: Date): Promise<boolean> {
      const result = await q.query(
        `insert into expiry_notices (agent_id, subject, expires_at, kind, delegation_id, sponsor_id, sent_at) values ($1, $2, $3, $4, $5, $6, $7)
         on conflict do nothing`,
        [notice.agentId, notice.subject, notice.expiresAt, notice.kind, notice.delegationId, notice.sponsorId, now],
      );
      return result.rowCount === 1;
    },

    /** Recorded notices not yet handed to the notification queues, oldest first; locked rows are another relay's. */
    async lockUnqueuedExpiryEvents(limit: number): Promise<PendingExpiryEvent[]> {
      const result = await q.query<{
        agent_id: string; name: string; sponsor_id: string; subject: PendingExpiryEvent['subject']; kind: PendingExpiryEvent['kind'];
        expires_at: Date; delegation_id: string | null; sent_at: Date;
      }>(
        `select n.agent_id, a.name, coalesce(n.sponsor_id, a.sponsor_id) as sponsor_id, n.subject, n.kind, n.expires_at, n.delegation_id, n.sent_at
           from expiry_notices n join agents a on a.id = n.agent_id
          where n.queued_at is null
          order by n.sent_at, n.agent_id limit $1
          for update of n skip locked`,
        [limit],
      );
      return result.rows.map((row) => ({
        agentId: row.agent_id, agentName: row.name, sponsorId: row.sponsor_id, subject: row.subject, kind: row.kind,
        expiresAt: row.expires_at, delegationId: row.delegation_id, recordedAt: row.sent_at,
      }));
    },

    async markExpiryEventsQueued(events: readonly PendingExpiryEvent[], now: Date): Promise<void> {
      for (const event of events) {
        await q.query(
          'update expiry_notices set queued_at = $5 where agent_id = $1 and subject = $2 and expires_at = $3 and kind = $4',
          [event.agentId, event.subject, event.expiresAt, event.kind, now],
        );
      }
    },
  };
}
