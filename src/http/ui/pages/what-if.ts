import type { z } from 'zod';
import type { whatIfReportSchema } from '../../api/governance-schemas.js';
import { CSRF_FIELD } from '../../auth/csrf.js';
import { badge, time } from '../format.js';
import { html, type Html } from '../html.js';

export const WHAT_IF_KINDS = ['sponsor_leaves', 'sponsor_moves', 'rule_edited'] as const;

/** The form as typed (echoed back on every render, so a correction never means retyping). */
export interface WhatIfFormValues {
  readonly kind: (typeof WHAT_IF_KINDS)[number];
  readonly person: string;
  readonly from: string;
  readonly to: string;
  readonly ruleId: string;
  readonly ruleGroups: string;
  readonly ruleAttribute: string;
  readonly ruleValues: string;
  readonly ruleTools: string;
}

export const EMPTY_WHAT_IF: WhatIfFormValues = { kind: 'sponsor_leaves', person: '', from: '', to: '', ruleId: '', ruleGroups: '', ruleAttribute: '', ruleValues: '', ruleTools: '' };

export type WhatIfResult = z.output<typeof whatIfReportSchema>;

export interface WhatIfPageData {
  readonly values: WhatIfFormValues;
  readonly csrf: string;
  /** A reason the form could not be evaluated (bad input, unknown person); shown as an alert. */
  readonly error?: string;
  readonly result?: {
    readonly report: WhatIfResult;
    readonly agentNames: ReadonlyMap<string, string>;
    /** User names of the sponsors, backups and proposed successors in the report. */
    readonly personNames: ReadonlyMap<string, string>;
    readonly summary: string;
  };
}

const KIND_LABELS: Readonly<Record<WhatIfFormValues['kind'], string>> = {
  sponsor_leaves: 'A sponsor leaves (deactivated)',
  sponsor_moves: 'A sponsor moves between groups',
  rule_edited: 'A grant rule is edited (or added)',
};

function field(name: keyof WhatIfFormValues, label: string, value: string, hint?: string): Html {
  const hintId = `${name}-hint`;
  return html`<label for="wf-${name}">${label}</label>
<input id="wf-${name}" name="${name}" value="${value}" autocomplete="off"${hint === undefined ? '' : html` aria-describedby="${hintId}"`}>
${hint === undefined ? '' : html`<span class="hint" id="${hintId}">${hint}</span>`}`;
}

function form(data: WhatIfPageData): Html {
  const values = data.values;
  return html`<form method="post" action="/ui/what-if" class="what-if">
<input type="hidden" name="${CSRF_FIELD}" value="${data.csrf}">
<fieldset><legend>Hypothetical change</legend>
${WHAT_IF_KINDS.map((kind) => html`<div class="choice"><input type="radio" id="wf-kind-${kind}" name="kind" value="${kind}"${values.kind === kind ? html` checked` : ''}><label for="wf-kind-${kind}">${KIND_LABELS[kind]}</label></div>`)}
</fieldset>
<fieldset><legend>Sponsor (leaves or moves)</legend>
<div class="fields">${field('person', 'Sponsor', values.person, 'user name (e.g. alice@example.com) or person id')}
${field('from', 'Leaves groups', values.from, 'moves only; comma-separated group names')}
${field('to', 'Joins groups', values.to, 'moves only; comma-separated group names')}</div>
</fieldset>
<fieldset><legend>Grant rule (edited or added)</legend>
<div class="fields">${field('ruleId', 'Rule id', values.ruleId, 'an existing id replaces that rule; a new id adds one')}
${field('ruleGroups', 'Sponsors in any of the groups', values.ruleGroups, 'comma-separated group names')}
${field('ruleAttribute', 'Or sponsors whose attribute', values.ruleAttribute, 'e.g. department')}
${field('ruleValues', 'is one of', values.ruleValues, 'comma-separated values')}
${field('ruleTools', 'Cover the tools', values.ruleTools, 'comma-separated tool ids or patterns, e.g. crm.*')}</div>
</fieldset>
<p><button type="submit" class="primary">Predict</button> <span class="muted">Predicting changes nothing.</span></p>
</form>`;
}

function tools(items: readonly string[]): Html {
  return items.length === 0 ? html`<span class="muted">—</span>` : html`${items.map((item) => html`<code>${item}</code> `)}`;
}

function person(id: string, names: ReadonlyMap<string, string>): Html {
  return html`<a href="/ui/people/${id}">${names.get(id) ?? id}</a>`;
}

function reassignment(item: WhatIfResult['agents'][number], names: ReadonlyMap<string, string>): Html {
  const move = item.reassignment;
  if (move === null) return html`<span class="muted">—</span>`;
  if (move.kind === 'backup') return html`backup sponsor ${person(move.sponsorId, names)} takes over`;
  return html`${badge('pending reassignment', 'warn')} proposed: ${move.proposal.sponsorId === null ? html`<span class="muted">nobody</span>` : person(move.proposal.sponsorId, names)} (${move.proposal.outcome}); suspended ${time(move.suspendAt)} if nobody takes it`;
}

function results(result: NonNullable<WhatIfPageData['result']>): Html {
  const agents = result.report.agents;
  return html`<h2 id="result">Prediction: ${result.summary}</h2>
<table id="what-if-result" aria-labelledby="result">
<thead><tr><th scope="col">Agent</th><th scope="col">Sponsor</th><th scope="col">Would lose</th><th scope="col">Would gain at once</th><th scope="col">Would wait for confirmation</th><th scope="col">Reassignment</th></tr></thead>
<tbody>${agents.length === 0 ? html`<tr><td colspan="6" class="muted">No agent's rights would change.</td></tr>` : agents.map((item) => html`<tr>
<th scope="row"><a href="/ui/agents/${item.agentId}">${result.agentNames.get(item.agentId) ?? item.agentId}</a></th><td>${person(item.sponsorId, result.personNames)}</td>
<td>${tools(item.lose)}</td><td>${tools(item.gain)}</td><td>${tools(item.pending)}</td><td>${reassignment(item, result.personNames)}</td></tr>`)}</tbody>
</table>
<p class="muted">Computed ${time(result.report.at)} with the rules the pipeline applies. Nothing was changed.</p>`;
}

export function whatIfBody(data: WhatIfPageData): Html {
  return html`<p>Which agents would lose, gain or wait for which tools, and which would need a new sponsor, if this change happened.</p>
${data.error === undefined ? '' : html`<p class="notice notice-bad" role="alert">${data.error}</p>`}
${form(data)}
${data.result === undefined ? '' : results(data.result)}`;
}
