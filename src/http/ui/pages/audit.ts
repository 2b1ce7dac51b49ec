import type { AuditRecord } from '../../../app/governance/audit-log.js';
import { badge, time } from '../format.js';
import { html, type Html } from '../html.js';

/** The search form's values as typed (strings; empty = no filter). Times are UTC. */
export interface AuditFormValues {
  readonly actor: string;
  readonly action: string;
  readonly subjectType: string;
  readonly subjectId: string;
  readonly from: string;
  readonly to: string;
}

export interface AuditPageData {
  readonly values: AuditFormValues;
  readonly items: readonly AuditRecord[];
  readonly next: string | null;
  /** A problem with the filters (shown instead of results). */
  readonly problem: string | null;
}

/** The filters as a query string (non-empty values only), for the export link and the next page. */
export function auditQuery(values: AuditFormValues, extra: Readonly<Record<string, string>> = {}): string {
  const entries = [...Object.entries(values), ...Object.entries(extra)].filter(([, value]) => value !== '');
  return entries.length === 0 ? '' : `?${new URLSearchParams(entries).toString()}`;
}

function field(id: string, name: keyof AuditFormValues, label: string, values: AuditFormValues, extra: Html | string = ''): Html {
  return html`<label for="${id}">${label}<input id="${id}" name="${name}" value="${values[name]}"${extra}></label>`;
}

function entryRow(entry: AuditRecord): Html {
  const subject = entry.subjectId === null ? entry.subjectType : html`${entry.subjectType} <code>${entry.subjectId}</code>`;
  const link = entry.subjectType === 'agent' && entry.subjectId !== null ? html` <a href="/ui/agents/${entry.subjectId}" aria-label="agent ${entry.subjectId}">open</a>` : '';
  return html`<tr>
<td>${time(entry.at)}</td><th scope="row"><code>${entry.action}</code></th><td>${subject}${link}</td><td><code>${entry.actor}</code></td>
<td><code>${JSON.stringify(entry.detail)}</code></td><td>${entry.chainSeq === null ? badge('not sealed yet', 'neutral') : html`#${entry.chainSeq}`}</td></tr>`;
}

/** Search form (GET, so each search has a shareable URL), results newest first, export of the same filters. */
export function auditBody(data: AuditPageData): Html {
  const { values } = data;
  const timeHint = html` placeholder="2025-06-01T00:00:00Z" aria-describedby="audit-time-hint"`;
  return html`<form class="filters" method="get" action="/ui/audit" role="search" aria-label="Search the audit log">
${field('a-actor', 'actor', 'Actor', values, html` placeholder="admin_token:… / system:expiry"`)}
${field('a-action', 'action', 'Action (prefix with *)', values, html` placeholder="grant.*"`)}
${field('a-stype', 'subjectType', 'Subject type', values, html` placeholder="agent"`)}
${field('a-sid', 'subjectId', 'Subject id', values)}
${field('a-from', 'from', 'From (UTC)', values, timeHint)}
${field('a-to', 'to', 'To (UTC, exclusive)', values, timeHint)}
<button type="submit" class="primary">Search</button> <a href="/ui/audit">Clear</a>
</form>
<p id="audit-time-hint" class="hint">Times are ISO 8601; without a zone they are read as UTC.</p>
<p><a href="/ui/audit/export${auditQuery(values)}" download="tether-audit.jsonl">Export JSON lines</a> <span class="muted">(every entry matching these filters, oldest first; the export is itself audited)</span></p>
${data.problem === null ? html`<table>
<caption>${data.items.length === 0 ? 'No entries match' : `${data.items.length} entr${data.items.length === 1 ? 'y' : 'ies'}, newest first`}</caption>
<thead><tr><th scope="col">At</th><th scope="col">Action</th><th scope="col">Subject</th><th scope="col">Actor</th><th scope="col">Detail</th><th scope="col">Chain</th></tr></thead>
<tbody>${data.items.map(entryRow)}</tbody>
</table>
${data.next === null ? '' : html`<p><a href="/ui/audit${auditQuery(values, { cursor: data.next })}" rel="next">Older entries</a></p>`}` : html`<p class="notice notice-bad" role="alert">${data.problem}</p>`}`;
}
