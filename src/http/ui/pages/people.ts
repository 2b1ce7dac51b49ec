import type { AgentListItem } from '../../../app/queries/views.js';
import type { PersonDetail, PersonListItem } from '../../api/people-routes.js';
import { badge, stateBadge, time } from '../format.js';
import { html, type Html } from '../html.js';

function active(person: { active: boolean }): Html {
  return person.active ? badge('active', 'ok') : badge('inactive', 'bad');
}

export function peopleBody(items: readonly PersonListItem[], q: string | undefined): Html {
  return html`<form class="filters" method="get" action="/ui/people" role="search" aria-label="Search people">
<label for="p-q">User name or display name contains<input id="p-q" name="q" type="search" value="${q ?? ''}"></label>
<button type="submit" class="primary">Search</button>
</form>
<table>
<caption>${items.length} ${items.length === 1 ? 'person' : 'people'}</caption>
<thead><tr><th scope="col">User name</th><th scope="col">Display name</th><th scope="col">Source</th><th scope="col">Status</th></tr></thead>
<tbody>${items.length === 0 ? html`<tr><td colspan="4" class="muted">Nobody matches</td></tr>` : items.map((person) => html`<tr>
<th scope="row"><a href="/ui/people/${person.id}">${person.userName}</a></th><td>${person.displayName ?? ''}</td><td>${person.sourceId}</td><td>${active(person)}</td></tr>`)}</tbody>
</table>`;
}

export function personBody(person: PersonDetail, agents: readonly AgentListItem[]): Html {
  return html`<dl class="facts">
<dt>User name</dt><dd>${person.userName}</dd>
<dt>Display name</dt><dd>${person.displayName ?? html`<span class="muted">—</span>`}</dd>
<dt>Status</dt><dd>${active(person)}</dd>
<dt>Source</dt><dd>${person.sourceId}${person.externalId === null ? '' : html` · external id <code>${person.externalId}</code>`}</dd>
<dt>Groups</dt><dd>${person.groups.length === 0 ? html`<span class="muted">none</span>` : person.groups.map((group) => html`<span class="badge badge-neutral">${group.display}</span> `)}</dd>
${Object.entries(person.attributes).map(([name, value]) => html`<dt>${name}</dt><dd>${value}</dd>`)}
<dt>Last directory change</dt><dd>${time(person.updatedAt)}</dd>
</dl>
<table>
<caption>Agents this person sponsors (${agents.length})</caption>
<thead><tr><th scope="col">Agent</th><th scope="col">State</th><th scope="col">Environment</th><th scope="col">Effective tools</th></tr></thead>
<tbody>${agents.length === 0 ? html`<tr><td colspan="4" class="muted">none</td></tr>` : agents.map((agent) => html`<tr>
<th scope="row"><a href="/ui/agents/${agent.id}">${agent.name}</a></th><td>${stateBadge(agent.state)}</td><td>${agent.environment}</td>
<td>${agent.effectiveTools.length === 0 ? html`<span class="muted">none</span>` : agent.effectiveTools.map((tool) => html`<code>${tool}</code> `)}</td></tr>`)}</tbody>
</table>`;
}
