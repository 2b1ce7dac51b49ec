import type { StatusView } from '../../../app/queries/views.js';
import type { DeadLetterView, TargetView } from '../../api/target-routes.js';
import { badge, ms, notice, postButton, time } from '../format.js';
import { html, type Html } from '../html.js';

export interface TargetsData {
  readonly targets: readonly TargetView[];
  readonly queues: StatusView['queues'];
  /** Per target: the newest dead letters (a page) and how many there are in all. */
  readonly deadLetters: ReadonlyMap<string, { readonly items: readonly DeadLetterView[]; readonly total: number }>;
  /** Agent names for the dead letters shown (ids the read model no longer knows are shown as ids). */
  readonly agentNames: ReadonlyMap<string, string>;
  /** Whether the viewer may retry (operator or admin): viewers see the same page without the buttons. */
  readonly canRetry: boolean;
  readonly csrf: string;
}

function health(target: TargetView, failed: number): Html {
  if (target.deadLetters > 0 || failed > 0) return badge('failing deliveries', 'bad');
  if (target.behind > 0) return badge('catching up', 'warn');
  return target.agents === 0 ? badge('nothing applied yet', 'neutral') : badge('in sync', 'ok');
}

function seconds(value: number | null): Html {
  return ms(value === null ? null : value * 1000);
}

function statusTable(data: TargetsData): Html {
  return html`<table id="targets-status">
<caption>Delivery status per target</caption>
<thead><tr><th scope="col">Target</th><th scope="col">Kind</th><th scope="col">Health</th><th scope="col">Queue: waiting / active / delayed</th><th scope="col">Behind</th>
<th scope="col">Agents applied (verified)</th><th scope="col">Last delivery</th><th scope="col">Dead letters</th><th scope="col">Revocation applied p50 / p99 (24 h)</th><th scope="col">Last drift check</th></tr></thead>
<tbody>${data.targets.length === 0 ? html`<tr><td colspan="10" class="muted">No targets configured (tether.yaml <code>targets:</code>)</td></tr>` : data.targets.map((target) => {
    const queue = data.queues.find((item) => item.name === `push.${target.id}`);
    const drift = target.lastDrift;
    return html`<tr><th scope="row">${target.id}</th><td>${target.kind}</td><td>${health(target, queue?.failed ?? 0)}</td>
<td>${queue === undefined ? html`<span class="muted">unavailable</span>` : html`${queue.waiting} / ${queue.active} / ${queue.delayed}`}</td><td>${target.behind}</td>
<td>${target.agents}${target.canRead ? html` (${target.verified})` : html` <span class="muted">(no read-back)</span>`}</td><td>${time(target.lastAppliedAt)}</td>
<td>${target.deadLetters === 0 ? '0' : html`<a href="#dead-${target.id}">${target.deadLetters}</a>`}</td>
<td>${seconds(target.revocationSeconds.applied.p50)} / ${seconds(target.revocationSeconds.applied.p99)} <span class="muted">(${target.revocationSeconds.applied.count})</span></td>
<td>${drift === null ? html`<span class="muted">never</span>` : html`${time(drift.startedAt)}: ${drift.error === null ? `${drift.checked} checked, ${drift.repaired} repaired` : badge('failed', 'bad')}`}</td></tr>`;
  })}</tbody>
</table>`;
}

function deadLetterTable(target: TargetView, data: TargetsData): Html {
  const page = data.deadLetters.get(target.id) ?? { items: [], total: 0 };
  const columns = data.canRetry ? 7 : 6;
  return html`<h2 id="dead-${target.id}">Dead letters: ${target.id}</h2>
${data.canRetry && page.total > 0 ? html`<p>${postButton(`/ui/targets/${encodeURIComponent(target.id)}/dead-letters/retry-all`, data.csrf, `Retry all ${page.total}`, { name: `Retry all ${page.total} dead letters of ${target.id}` })}</p>` : ''}
<table aria-labelledby="dead-${target.id}">
<thead><tr><th scope="col">Push</th><th scope="col">Agent</th><th scope="col">Version</th><th scope="col">Attempts</th><th scope="col">Failed</th><th scope="col">Last error</th>${data.canRetry ? html`<th scope="col">Action</th>` : ''}</tr></thead>
<tbody>${page.items.length === 0 ? html`<tr><td colspan="${columns}" class="muted">No failed pushes</td></tr>` : page.items.map((item) => html`<tr>
<th scope="row"><code>${item.jobId}</code></th><td><a href="/ui/agents/${item.agentId}">${data.agentNames.get(item.agentId) ?? item.agentId}</a></td><td>${item.version}</td><td>${item.attempts}</td>
<td>${time(item.failedAt)}</td><td><code>${item.lastError}</code></td>
${data.canRetry ? html`<td>${postButton(`/ui/targets/${encodeURIComponent(target.id)}/dead-letters/${encodeURIComponent(item.jobId)}/retry`, data.csrf, 'Retry', { tone: 'primary', name: `Retry ${item.jobId}` })}</td>` : ''}</tr>`)}</tbody>
</table>
${page.total > page.items.length ? html`<p class="muted">Showing the newest ${page.items.length} of ${page.total}; <code>tether dead-letters ${target.id}</code> lists them all.</p>` : ''}`;
}

/** Status and dead letters: what live updates replace (the script skips it while a control in it has focus). */
export function targetsFragment(data: TargetsData): Html {
  return html`${statusTable(data)}
${data.targets.map((target) => deadLetterTable(target, data))}
${data.canRetry ? '' : html`<p class="muted">Retrying dead letters needs the operator role.</p>`}`;
}

export function targetsBody(data: TargetsData, message: string | undefined): Html {
  return html`${notice(message)}
<p>A push that a target rejected (or that ran out of attempts) stays here as a dead letter until it is retried. A retry queues it again with fresh
attempts; a push for a version that has since been superseded is acknowledged without calling the target.</p>
<p class="live-status" id="targets-live" role="status" aria-live="polite">Live: refreshes every 3 seconds</p>
<div data-live="/ui/fragments/targets" data-interval="3000" data-status="targets-live">${targetsFragment(data)}</div>`;
}
