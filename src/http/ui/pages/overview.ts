import type { LatencySeries } from '../../../app/queries/latency.js';
import type { ChangeEventView, StatusView } from '../../../app/queries/views.js';
import type { SourceView } from '../../api/source-routes.js';
import { latencyChart } from '../chart.js';
import { badge, ms, seconds, time } from '../format.js';
import { html, type Html } from '../html.js';

export interface OverviewData {
  readonly status: StatusView;
  readonly sources: readonly SourceView[];
  readonly events: readonly ChangeEventView[];
  /** Propagation latency over time; null when this instance has no metrics source wired. */
  readonly latency: LatencySeries | null;
}

const LEAVER_KINDS = new Set(['leaver']);

/** One word for a source's state (shared with the sources page). */
export function sourceHealth(source: SourceView): Html {
  const sync = source.sync;
  if (sync === null) return badge('push (SCIM)', 'neutral');
  if (sync.held !== null) return badge('held: needs a decision', 'warn');
  if (sync.lastError !== null && (sync.lastSuccessAt === null || (sync.lastErrorAt !== null && sync.lastErrorAt > sync.lastSuccessAt))) return badge('failing', 'bad');
  if (sync.running) return badge('running', 'neutral');
  return sync.lastSuccessAt === null ? badge('never synced', 'warn') : badge('healthy', 'ok');
}

function sourcesTable(data: OverviewData): Html {
  const byId = new Map(data.sources.map((source) => [source.id, source]));
  return html`<table>
<caption>Sources</caption>
<thead><tr><th scope="col">Source</th><th scope="col">Kind</th><th scope="col">Health</th><th scope="col">People</th><th scope="col">Groups</th><th scope="col">Last change</th><th scope="col">Lag</th><th scope="col">Last run</th></tr></thead>
<tbody>${data.status.sources.map((source) => {
    const view = byId.get(source.id);
    const sync = view?.sync ?? null;
    return html`<tr><th scope="row">${view?.displayName ?? source.id} <span class="muted">(${source.id})</span></th><td>${source.kind}</td><td>${view === undefined ? '' : sourceHealth(view)}</td>
<td>${source.people}</td><td>${source.groups}</td><td>${time(source.lastChangeAt)}</td><td>${seconds(sync?.lagSeconds)}</td>
<td>${sync?.lastRun === null || sync?.lastRun === undefined ? html`<span class="muted">—</span>` : html`${sync.lastRun.mode} ${sync.lastRun.status}, ${time(sync.lastRun.startedAt)}`}</td></tr>`;
  })}</tbody>
</table>`;
}

function numbers(status: StatusView): Html {
  const behind = status.targets.reduce((sum, target) => sum + target.behind, 0);
  const failed = status.queues.reduce((sum, queue) => sum + queue.failed, 0);
  return html`<div class="grid">
<section class="panel" aria-labelledby="n-agents"><h2 id="n-agents">Agents</h2><p class="stat">${status.agents.total}</p>
<p>${Object.entries(status.agents.byState).map(([state, count]) => html`${state.replace('_', ' ')}: <strong>${count}</strong> `)}</p></section>
<section class="panel" aria-labelledby="n-outbox"><h2 id="n-outbox">Outbox backlog</h2><p class="stat">${status.outbox.pending}</p>
<p>oldest pending: ${seconds(status.outbox.oldestPendingAgeSeconds)}</p></section>
<section class="panel" aria-labelledby="n-targets"><h2 id="n-targets">Targets behind</h2><p class="stat">${behind}</p>
<p>${status.targets.map((target) => html`${target.id}: <strong>${target.behind}</strong> `)}</p></section>
<section class="panel" aria-labelledby="n-failed"><h2 id="n-failed">Failed jobs</h2><p class="stat">${failed}</p>
<p>${failed === 0 ? 'none' : badge('see queues', 'bad')}</p></section>
</div>`;
}

function queuesTable(status: StatusView): Html {
  return html`<table>
<caption>Queue depths</caption>
<thead><tr><th scope="col">Queue</th><th scope="col">Waiting</th><th scope="col">Active</th><th scope="col">Delayed</th><th scope="col">Failed</th></tr></thead>
<tbody>${status.queues.length === 0 ? html`<tr><td colspan="5" class="muted">Queue counts unavailable (Redis unreachable?)</td></tr>` : status.queues.map((queue) => html`<tr><th scope="row">${queue.name}</th><td>${queue.waiting}</td><td>${queue.active}</td><td>${queue.delayed}</td><td>${queue.failed}</td></tr>`)}</tbody>
</table>`;
}

function subjectLink(event: ChangeEventView): Html {
  if (event.subjectId === null) return html`<span class="muted">—</span>`;
  if (event.subjectType === 'person') return html`<a href="/ui/people/${event.subjectId}">person</a>`;
  if (event.subjectType === 'agent') return html`<a href="/ui/agents/${event.subjectId}">agent</a>`;
  return html`${event.subjectType}`;
}

function eventsTable(events: readonly ChangeEventView[], caption: string): Html {
  return html`<table>
<caption>${caption}</caption>
<thead><tr><th scope="col">Received</th><th scope="col">Origin</th><th scope="col">Kind</th><th scope="col">Subject</th><th scope="col">Commit</th><th scope="col">Computed</th><th scope="col">Last applied</th><th scope="col">Agents updated</th></tr></thead>
<tbody>${events.length === 0 ? html`<tr><td colspan="8" class="muted">None yet</td></tr>` : events.map((event) => html`<tr>
<td>${time(event.receivedAt)}</td><td>${event.origin}</td><td>${event.kind === 'leaver' ? badge('leaver', 'bad') : event.kind}</td><td>${subjectLink(event)}</td>
<td>${ms(event.latencyMs.commit)}</td><td>${ms(event.latencyMs.compute)}</td><td>${ms(event.latencyMs.lastApplied)}</td>
<td>${[...new Set(event.deliveries.map((delivery) => delivery.agentId))].map((agentId) => html`<a href="/ui/agents/${agentId}">${agentId.slice(0, 8)}</a> `)}</td></tr>`)}</tbody>
</table>`;
}

/** The part of the overview that live updates replace. */
export function overviewFragment(data: OverviewData): Html {
  const leavers = data.events.filter((event) => LEAVER_KINDS.has(event.kind)).slice(0, 10);
  return html`${numbers(data.status)}
${data.latency === null ? '' : latencyChart(data.latency)}
${sourcesTable(data)}
${queuesTable(data.status)}
${eventsTable(leavers, 'Recent leavers (sponsors deactivated or deleted) and the agents whose rights they revoked')}
${eventsTable(data.events.slice(0, 20), 'Recent change events with propagation latency')}`;
}

export function overviewBody(data: OverviewData): Html {
  return html`<p class="live-status" id="overview-status" role="status" aria-live="polite">Live: refreshes every 3 seconds</p>
<div data-live="/ui/fragments/overview" data-interval="3000" data-status="overview-status">${overviewFragment(data)}</div>`;
}
