import { AGENT_STATES, ENVIRONMENTS } from '../../../domain/types.js';
import type { AgentListItem } from '../../../app/queries/views.js';
import { stateBadge, time } from '../format.js';
import { html, type Html } from '../html.js';

export interface AgentFilters {
  readonly q?: string;
  readonly state?: string;
  readonly environment?: string;
  readonly tool?: string;
}

function options(values: readonly string[], selected: string | undefined, anyLabel: string): Html {
  return html`<option value="">${anyLabel}</option>${values.map((value) => html`<option value="${value}"${value === selected ? html` selected` : ''}>${value.replace('_', ' ')}</option>`)}`;
}

/** Agents with a filter form (GET, so every filtered view has a shareable URL). */
export function agentsBody(items: readonly AgentListItem[], filters: AgentFilters, truncated: boolean): Html {
  return html`<form class="filters" method="get" action="/ui/agents" role="search" aria-label="Filter agents">
<label for="f-q">Name contains<input id="f-q" name="q" type="search" value="${filters.q ?? ''}"></label>
<label for="f-state">State<select id="f-state" name="state">${options(AGENT_STATES, filters.state, 'any state')}</select></label>
<label for="f-env">Environment<select id="f-env" name="environment">${options(ENVIRONMENTS, filters.environment, 'any environment')}</select></label>
<label for="f-tool">Holds tool<input id="f-tool" name="tool" value="${filters.tool ?? ''}" placeholder="crm.contacts.read"></label>
<button type="submit" class="primary">Filter</button> <a href="/ui/agents">Clear</a>
</form>
<table>
<caption>${items.length} agent${items.length === 1 ? '' : 's'}${truncated ? ' (first 500 shown; narrow the filter)' : ''}</caption>
<thead><tr><th scope="col">Name</th><th scope="col">State</th><th scope="col">Environment</th><th scope="col">Sponsor</th><th scope="col">Effective tools</th><th scope="col">Version</th><th scope="col">Registered</th></tr></thead>
<tbody>${items.length === 0 ? html`<tr><td colspan="7" class="muted">No agents match</td></tr>` : items.map((agent) => html`<tr>
<th scope="row"><a href="/ui/agents/${agent.id}">${agent.name}</a></th><td>${stateBadge(agent.state)}</td><td>${agent.environment}</td>
<td><a href="/ui/people/${agent.sponsorId}">sponsor</a></td><td>${agent.effectiveTools.length === 0 ? html`<span class="muted">none</span>` : agent.effectiveTools.map((tool) => html`<code>${tool}</code> `)}</td>
<td>${agent.version}</td><td>${time(agent.createdAt)}</td></tr>`)}</tbody>
</table>`;
}
