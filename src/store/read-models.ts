import type { AgentListItem, AgentListQuery, AgentView, ChangeEventQuery, ChangeEventView, ReadModels, StatusView } from '../app/queries/views.js';
import type { Denial } from '../domain/entitlements.js';
import type { Entitlement } from '../domain/types.js';
import type { Queryable } from './db.js';
import type { AgentRow } from './rows.js';
import { isUuid } from './ids.js';

/** Read models for the admin API: joins shaped for display, keyset-paginated. */
export function readModels(q: Queryable): ReadModels {
  return {
    async getAgent(id: string): Promise<AgentView | null> {
      if (!isUuid(id)) return null;
      const result = await q.query<AgentRow & {
        p_source_id: string; p_user_name: string; p_active: boolean; p_deleted: boolean;
        entitlements: Entitlement[] | null; denied: Denial[] | null; reason: string | null; computed_at: Date | null;
        d_approver: string | null; d_justification: string | null; d_tools: string[] | null; d_target_systems: string[] | null;
        d_not_before: Date | null; d_expires_at: Date | null;
      }>(
        `select a.*, p.source_id as p_source_id, p.user_name as p_user_name, p.active as p_active, p.deleted_at is not null as p_deleted,
                v.entitlements, v.denied, v.reason, v.computed_at,
                d.approver as d_approver, d.justification as d_justification, d.tools as d_tools, d.target_systems as d_target_systems,
                d.not_before as d_not_before, d.expires_at as d_expires_at
           from agents a join persons p on p.id = a.sponsor_id
           left join entitlement_versions v on v.agent_id = a.id and v.version = a.current_version
           left join delegations d on d.id = a.delegation_id
          where a.id = $1`,
        [id],
      );
      const row = result.rows[0];
      if (row === undefined) return null;
      const targets = await q.query<{ target_id: string; applied_version: number; applied_at: Date }>(
        'select target_id, applied_version, applied_at from target_states where agent_id = $1 order by target_id',
        [id],
      );
      return {
        id: row.id, name: row.name, purpose: row.purpose, environment: row.environment, state: row.state,
        sponsor: { id: row.sponsor_id, sourceId: row.p_source_id, userName: row.p_user_name, active: row.p_active, deleted: row.p_deleted },
        backupSponsorIds: row.backup_sponsor_ids, owner: row.owner, requestedTools: row.requested_tools, expiresAt: row.expires_at,
        delegation: row.delegation_id === null || row.d_approver === null ? null : {
          id: row.delegation_id, approver: row.d_approver, justification: row.d_justification ?? '', tools: row.d_tools ?? [],
          targetSystems: row.d_target_systems ?? [], notBefore: row.d_not_before, expiresAt: row.d_expires_at,
        },
        version: row.current_version, computedAt: row.computed_at, reason: row.reason,
        effective: row.entitlements ?? [], denied: row.denied ?? [],
        targets: targets.rows.map((target) => ({ targetId: target.target_id, appliedVersion: target.applied_version, appliedAt: target.applied_at })),
        createdAt: row.created_at, updatedAt: row.updated_at,
      };
    },

    async listAgents(query: AgentListQuery): Promise<AgentListItem[]> {
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (value: unknown) => {
        params.push(value);
        return `$${params.length}`;
      };
      if (query.sponsorId !== undefined) where.push(`a.sponsor_id = ${add(query.sponsorId)}::uuid`);
      if (query.state !== undefined) where.push(`a.state = ${add(query.state)}`);
      if (query.environment !== undefined) where.push(`a.environment = ${add(query.environment)}`);
      if (query.tool !== undefined) where.push(`v.entitlements @> ${add(JSON.stringify([{ toolId: query.tool }]))}::jsonb`);
      if (query.after !== undefined) where.push(`a.id > ${add(query.after)}::uuid`);
      const result = await q.query<{ id: string; name: string; environment: AgentListItem['environment']; state: AgentListItem['state']; sponsor_id: string; current_version: number; tools: string[] | null; created_at: Date }>(
        `select a.id, a.name, a.environment, a.state, a.sponsor_id, a.current_version, a.created_at,
                (select array_agg(e ->> 'toolId' order by e ->> 'toolId') from jsonb_array_elements(v.entitlements) e) as tools
           from agents a left join entitlement_versions v on v.agent_id = a.id and v.version = a.current_version
          ${where.length > 0 ? `where ${where.join(' and ')}` : ''}
          order by a.id limit ${add(query.limit)}`,
        params,
      );
      return result.rows.map((row) => ({
        id: row.id, name: row.name, environment: row.environment, state: row.state, sponsorId: row.sponsor_id,
        version: row.current_version, effectiveTools: row.tools ?? [], createdAt: row.created_at,
      }));
    },

    async listChangeEvents(query: ChangeEventQuery): Promise<ChangeEventView[]> {
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (value: unknown) => {
        params.push(value);
        return `$${params.length}`;
      };
      if (query.before !== undefined) {
        const cursor = add(query.before);
        where.push(`(e.received_at, e.id) < (select received_at, id from change_events where id = ${cursor}::uuid)`);
      }
      if (query.subjectId !== undefined) where.push(`e.subject_id = ${add(query.subjectId)}::uuid`);
      const events = await q.query<{
        id: string; source_id: string | null; origin: string; kind: string; subject_type: string; subject_id: string | null;
        detail: Record<string, unknown>; source_time: Date | null; received_at: Date; committed_at: Date; computed_at: Date | null;
      }>(
        `select * from change_events e ${where.length > 0 ? `where ${where.join(' and ')}` : ''}
          order by e.received_at desc, e.id desc limit ${add(query.limit)}`,
        params,
      );
      const ids = events.rows.map((event) => event.id);
      const deliveries = ids.length === 0 ? { rows: [] } : await q.query<{ change_event_id: string; target_id: string; agent_id: string; version: number; applied_at: Date }>(
        'select * from event_deliveries where change_event_id = any($1::uuid[]) order by applied_at',
        [ids],
      );
      return events.rows.map((event) => {
        const own = deliveries.rows.filter((delivery) => delivery.change_event_id === event.id);
        const since = (at: Date | null | undefined) => (at === null || at === undefined ? null : at.getTime() - event.received_at.getTime());
        return {
          id: event.id, sourceId: event.source_id, origin: event.origin, kind: event.kind, subjectType: event.subject_type,
          subjectId: event.subject_id, detail: event.detail, sourceTime: event.source_time, receivedAt: event.received_at,
          committedAt: event.committed_at, computedAt: event.computed_at,
          deliveries: own.map((delivery) => ({ targetId: delivery.target_id, agentId: delivery.agent_id, version: delivery.version, appliedAt: delivery.applied_at })),
          latencyMs: {
            commit: event.committed_at.getTime() - event.received_at.getTime(),
            compute: since(event.computed_at),
            firstApplied: since(own[0]?.applied_at),
            lastApplied: since(own.at(-1)?.applied_at),
          },
        };
      });
    },

    async storeStatus(targets): Promise<Omit<StatusView, 'queues'>> {
      const sources = await q.query<{ id: string; kind: string; people: number; groups: number; last_change_at: Date | null }>(
        `select s.id, s.kind,
                (select count(*) from persons p where p.source_id = s.id and p.deleted_at is null) as people,
                (select count(*) from groups g where g.source_id = s.id and g.deleted_at is null) as groups,
                (select max(received_at) from change_events e where e.source_id = s.id) as last_change_at
           from sources s order by s.id`,
      );
      const agents = await q.query<{ state: string; n: number }>('select state, count(*) as n from agents group by state');
      const outbox = await q.query<{ pending: number; oldest: Date | null }>(
        'select count(*) as pending, min(created_at) as oldest from outbox where done_at is null',
      );
      const behind = await q.query<{ target_id: string; n: number }>(
        `select o.target_id, count(distinct o.agent_id) as n from outbox o where o.kind = 'push' and o.done_at is null group by o.target_id`,
      );
      const byState = Object.fromEntries(agents.rows.map((row) => [row.state, row.n]));
      const oldest = outbox.rows[0]?.oldest ?? null;
      return {
        sources: sources.rows.map((row) => ({ id: row.id, kind: row.kind, people: row.people, groups: row.groups, lastChangeAt: row.last_change_at })),
        agents: { total: agents.rows.reduce((sum, row) => sum + row.n, 0), byState },
        outbox: { pending: outbox.rows[0]?.pending ?? 0, oldestPendingAgeSeconds: oldest === null ? null : Math.max(0, (Date.now() - oldest.getTime()) / 1000) },
        targets: targets.map((target) => ({ ...target, behind: behind.rows.find((row) => row.target_id === target.id)?.n ?? 0 })),
      };
    },
  };
}
