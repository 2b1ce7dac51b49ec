import type { RunView } from '../../../app/directory/sync-status.js';
import type { StatusView } from '../../../app/queries/views.js';
import type { SourceView } from '../../api/source-routes.js';
import { badge, notice, postButton, seconds, time } from '../format.js';
import { html, type Html } from '../html.js';
import { sourceHealth } from './overview.js';

export interface SourcesData {
  readonly sources: readonly SourceView[];
  readonly counts: StatusView['sources'];
  /** Recent runs per polled (LDAP) source, newest first. */
  readonly runs: ReadonlyMap<string, readonly RunView[]>;
  /** Operators and admins may queue a reconciliation. */
  readonly canReconcile: boolean;
  /** Admins only may confirm or discard a held run: confirming lets a mass removal through (same role as the API). */
  readonly canDecide: boolean;
  readonly csrf: string;
}

const RUN_TONES: Readonly<Record<string, 'ok' | 'warn' | 'bad' | 'neutral'>> = {
  succeeded: 'ok', running: 'neutral', held: 'warn', confirmed: 'neutral', discarded: 'neutral', failed: 'bad',
};

function counts(run: RunView): string {
  const { seen, changed, deleted, deactivated, population } = run.counts;
  return `seen ${seen}, changed ${changed}, deleted ${deleted}, deactivated ${deactivated}${population === null ? '' : ` of ${population}`}`;
}

function summary(data: SourcesData): Html {
  return html`<table id="sources-status">
<caption>Sources</caption>
<thead><tr><th scope="col">Source</th><th scope="col">Kind</th><th scope="col">Health</th><th scope="col">People</th><th scope="col">Groups</th><th scope="col">Last change</th>
<th scope="col">Last success</th><th scope="col">Last full reconciliation</th><th scope="col">Lag</th><th scope="col">Last error</th></tr></thead>
<tbody>${data.sources.map((source) => {
    const count = data.counts.find((item) => item.id === source.id);
    const sync = source.sync;
    return html`<tr><th scope="row"><a href="#source-${source.id}">${source.displayName}</a> <span class="muted">(${source.id})</span></th><td>${source.kind}</td><td>${sourceHealth(source)}</td>
<td>${count?.people ?? 0}</td><td>${count?.groups ?? 0}</td><td>${time(count?.lastChangeAt)}</td>
<td>${sync === null ? html`<span class="muted">—</span>` : time(sync.lastSuccessAt)}</td><td>${sync === null ? html`<span class="muted">—</span>` : time(sync.lastFullAt)}</td>
<td>${seconds(sync?.lagSeconds)}</td><td>${sync?.lastError === null || sync?.lastError === undefined ? html`<span class="muted">none</span>` : html`<code>${sync.lastError}</code> ${time(sync.lastErrorAt)}`}</td></tr>`;
  })}</tbody>
</table>`;
}

function held(source: SourceView, data: SourcesData): Html {
  const run = source.sync?.held ?? null;
  if (run === null) return html``;
  const base = `/ui/sources/${encodeURIComponent(source.id)}/held-runs/${run.id}`;
  return html`<section class="panel held" aria-labelledby="held-${source.id}">
<h3 id="held-${source.id}">${badge('held', 'warn')} Run ${run.id} is held by the mass-change circuit breaker</h3>
<p>${run.heldReason ?? 'Too many removals at once.'} (${counts(run)}; ${time(run.startedAt)})</p>
<p>Confirm queues a full reconciliation that may apply these removals; discard applies nothing (the breaker trips again if the directory still looks the same).</p>
${data.canDecide
    ? html`<p>${postButton(`${base}/confirm`, data.csrf, 'Confirm removals', { tone: 'danger', name: `Confirm held run ${run.id} of ${source.id}` })} ${postButton(`${base}/discard`, data.csrf, 'Discard', { name: `Discard held run ${run.id} of ${source.id}` })}</p>`
    : html`<p class="muted">Confirming or discarding a held run needs the admin role.</p>`}
</section>`;
}

function runsTable(source: SourceView, runs: readonly RunView[]): Html {
  return html`<table aria-labelledby="source-${source.id}">
<caption>Run history (newest first)</caption>
<thead><tr><th scope="col">Run</th><th scope="col">Mode</th><th scope="col">Trigger</th><th scope="col">Status</th><th scope="col">Started</th><th scope="col">Finished</th><th scope="col">Counts</th><th scope="col">Decided by / error</th></tr></thead>
<tbody>${runs.length === 0 ? html`<tr><td colspan="8" class="muted">No runs yet</td></tr>` : runs.map((run) => html`<tr>
<th scope="row">${run.id}</th><td>${run.mode === 'full' ? 'full reconciliation' : 'delta poll'}</td><td><code>${run.trigger}</code></td><td>${badge(run.status, RUN_TONES[run.status] ?? 'neutral')}</td>
<td>${time(run.startedAt)}</td><td>${run.finishedAt === null ? html`<span class="muted">running</span>` : time(run.finishedAt)}</td><td>${counts(run)}</td>
<td>${run.error !== null ? html`<code>${run.error}</code>` : run.decidedBy ?? html`<span class="muted">—</span>`}</td></tr>`)}</tbody>
</table>`;
}

function sourceSection(source: SourceView, data: SourcesData): Html {
  const heading = html`<h2 id="source-${source.id}">${source.displayName} <span class="muted">(${source.id}, ${source.kind})</span></h2>`;
  if (source.sync === null) {
    return html`${heading}<p>The identity provider pushes changes over SCIM as they happen, so there is nothing to poll or reconcile; its changes are on the
<a href="/ui">overview</a> with their propagation latency.</p>`;
  }
  const reconcile = data.canReconcile
    ? postButton(`/ui/sources/${encodeURIComponent(source.id)}/reconcile`, data.csrf, 'Reconcile now', { tone: 'primary', name: `Reconcile ${source.id} now` })
    : html`<span class="muted">Queuing a reconciliation needs the operator role.</span>`;
  return html`${heading}
<p>${reconcile} ${source.sync.running ? badge('a run is in progress', 'neutral') : ''}</p>
${held(source, data)}
${runsTable(source, data.runs.get(source.id) ?? [])}`;
}

/** Everything live updates replace (the script skips it while a control in it has focus). */
export function sourcesFragment(data: SourcesData): Html {
  return html`${summary(data)}
${data.sources.map((source) => sourceSection(source, data))}`;
}

export function sourcesBody(data: SourcesData, message: string | undefined): Html {
  return html`${notice(message)}
<p class="live-status" id="sources-live" role="status" aria-live="polite">Live: refreshes every 3 seconds</p>
<div data-live="/ui/fragments/sources" data-interval="3000" data-status="sources-live">${sourcesFragment(data)}</div>`;
}
