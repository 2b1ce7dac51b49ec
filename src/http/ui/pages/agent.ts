import type { GrantView } from '../../../app/governance/grants.js';
import type { AgentView } from '../../../app/queries/views.js';
import type { VersionView } from '../../api/history-routes.js';
import { CSRF_FIELD } from '../../auth/csrf.js';
import { badge, riskBadge, stateBadge, time } from '../format.js';
import { html, type Html } from '../html.js';

export interface AgentPageData {
  readonly agent: AgentView;
  readonly versions: readonly VersionView[];
  /** Pending grants, or null when the viewer's role may not see or decide them. */
  readonly grants: readonly GrantView[] | null;
  readonly csrf: string;
}

function via(entitlement: AgentView['effective'][number]): Html {
  const from = entitlement.provenance.via;
  return from.kind === 'group' ? html`group <strong>${from.groupName}</strong>` : html`attribute <code>${from.attribute}</code> = ${from.value}`;
}

/** Effective rights, denials and applied versions: the part of the page live updates replace. */
export function rightsFragment(agent: AgentView): Html {
  return html`<p>State ${stateBadge(agent.state)} · entitlement version <strong>${agent.version}</strong>${agent.reason === null ? '' : html` · last change: <code>${agent.reason}</code>`} · computed ${time(agent.computedAt)}</p>
<table id="effective">
<caption>Effective rights (${agent.effective.length})</caption>
<thead><tr><th scope="col">Tool</th><th scope="col">System</th><th scope="col">Risk</th><th scope="col">Why: granted via</th><th scope="col">Rule</th><th scope="col">Delegation</th></tr></thead>
<tbody>${agent.effective.length === 0 ? html`<tr><td colspan="6">${badge('no rights', 'bad')} This agent currently holds no rights.</td></tr>` : agent.effective.map((entitlement) => html`<tr>
<th scope="row"><code>${entitlement.toolId}</code></th><td>${entitlement.system}</td><td>${riskBadge(entitlement.risk)}</td><td>${via(entitlement)}</td>
<td><code>${entitlement.provenance.ruleId}</code> v${entitlement.provenance.ruleVersion}</td><td><code>${entitlement.provenance.delegationId.slice(0, 8)}</code></td></tr>`)}</tbody>
</table>
<table id="denied">
<caption>Requested but not held (${agent.denied.length})</caption>
<thead><tr><th scope="col">Tool</th><th scope="col">Reason</th></tr></thead>
<tbody>${agent.denied.length === 0 ? html`<tr><td colspan="2" class="muted">none</td></tr>` : agent.denied.map((denial) => html`<tr><th scope="row"><code>${denial.toolId}</code></th><td><code>${denial.reason}</code></td></tr>`)}</tbody>
</table>
<table>
<caption>Applied at targets</caption>
<thead><tr><th scope="col">Target</th><th scope="col">Applied version</th><th scope="col">Applied at</th></tr></thead>
<tbody>${agent.targets.length === 0 ? html`<tr><td colspan="3" class="muted">not applied anywhere yet</td></tr>` : agent.targets.map((target) => html`<tr><th scope="row">${target.targetId}</th><td>${target.appliedVersion}${target.appliedVersion < agent.version ? html` ${badge('behind', 'warn')}` : ''}</td><td>${time(target.appliedAt)}</td></tr>`)}</tbody>
</table>`;
}

function facts(agent: AgentView): Html {
  const sponsor = agent.sponsor;
  return html`<dl class="facts">
<dt>Purpose</dt><dd>${agent.purpose}</dd>
<dt>Environment</dt><dd>${agent.environment}</dd>
<dt>Sponsor</dt><dd><a href="/ui/people/${sponsor.id}">${sponsor.userName}</a> (${sponsor.sourceId}) ${sponsor.deleted ? badge('deleted', 'bad') : sponsor.active ? badge('active', 'ok') : badge('inactive', 'bad')}</dd>
<dt>Backup sponsors</dt><dd>${agent.backupSponsorIds.length === 0 ? html`<span class="muted">none</span>` : agent.backupSponsorIds.map((id, index) => html`<a href="/ui/people/${id}">backup ${index + 1}</a> `)}</dd>
<dt>Owner</dt><dd>${agent.owner ?? html`<span class="muted">—</span>`}</dd>
<dt>Requested tools</dt><dd>${agent.requestedTools.map((tool) => html`<code>${tool}</code> `)}</dd>
<dt>Expires</dt><dd>${time(agent.expiresAt)}</dd>
<dt>Delegation</dt><dd>${agent.delegation === null ? html`<span class="muted">none</span>` : html`approved by ${agent.delegation.approver}: “${agent.delegation.justification}”; valid ${time(agent.delegation.notBefore)} to ${time(agent.delegation.expiresAt)}`}</dd>
</dl>`;
}

function grantsSection(data: AgentPageData): Html {
  if (data.grants === null) return html``;
  const open = data.grants.filter((grant) => grant.status === 'pending');
  return html`<h2 id="grants">Pending grants</h2>
<table aria-labelledby="grants">
<thead><tr><th scope="col">Tool</th><th scope="col">Risk</th><th scope="col">Proposed</th><th scope="col">Decision</th></tr></thead>
<tbody>${open.length === 0 ? html`<tr><td colspan="4" class="muted">Nothing waits for confirmation</td></tr>` : open.map((grant) => html`<tr>
<th scope="row"><code>${grant.toolId}</code></th><td>${riskBadge(grant.risk)}</td><td>${time(grant.createdAt)}</td>
<td>${(['confirm', 'reject'] as const).map((action) => html`<form method="post" action="/ui/agents/${data.agent.id}/grants/${grant.id}/${action}" class="inline">
<input type="hidden" name="${CSRF_FIELD}" value="${data.csrf}"><button type="submit" class="${action === 'confirm' ? 'primary' : 'danger'}" aria-label="${action} ${grant.toolId}">${action === 'confirm' ? 'Confirm' : 'Reject'}</button></form> `)}</td></tr>`)}</tbody>
</table>`;
}

function timeline(versions: readonly VersionView[]): Html {
  return html`<table>
<caption>Versions timeline (newest first)</caption>
<thead><tr><th scope="col">Version</th><th scope="col">Computed</th><th scope="col">Reason</th><th scope="col">Effective tools</th><th scope="col">Caused by</th></tr></thead>
<tbody>${versions.length === 0 ? html`<tr><td colspan="5" class="muted">No versions yet</td></tr>` : versions.map((version) => html`<tr>
<th scope="row">${version.version}</th><td>${time(version.computedAt)}</td><td><code>${version.reason}</code></td>
<td>${version.tools.length === 0 ? html`<span class="muted">none</span>` : version.tools.map((tool) => html`<code>${tool}</code> `)}</td>
<td>${version.changeEventIds.length === 0 ? html`<span class="muted">—</span>` : html`${version.changeEventIds.length} change event${version.changeEventIds.length === 1 ? '' : 's'}`}</td></tr>`)}</tbody>
</table>`;
}

export function agentBody(data: AgentPageData): Html {
  return html`${facts(data.agent)}
<h2>Rights</h2>
<p class="live-status" id="rights-status" role="status" aria-live="polite">Live: refreshes every 2 seconds</p>
<div data-live="/ui/fragments/agents/${data.agent.id}/rights" data-interval="2000" data-status="rights-status" aria-live="polite">${rightsFragment(data.agent)}</div>
${grantsSection(data)}
<h2>History</h2>
${timeline(data.versions)}`;
}
