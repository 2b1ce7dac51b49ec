import { CSRF_FIELD } from '../auth/csrf.js';
import { html, type Html } from './html.js';

/** A timestamp as a <time> element: machine-readable ISO, human-readable UTC. */
export function time(value: Date | string | null | undefined): Html {
  if (value === null || value === undefined) return html`<span class="muted">never</span>`;
  const date = typeof value === 'string' ? new Date(value) : value;
  return html`<time datetime="${date.toISOString()}">${date.toISOString().replace('T', ' ').slice(0, 19)} UTC</time>`;
}

export function ms(value: number | null | undefined): Html {
  if (value === null || value === undefined) return html`<span class="muted">—</span>`;
  return html`${value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(1)} s`}`;
}

export function seconds(value: number | null | undefined): Html {
  return value === null || value === undefined ? html`<span class="muted">—</span>` : ms(value * 1000);
}

/** A state badge; the word is always shown, colour only reinforces it (never the sole signal). */
export function badge(text: string, tone: 'ok' | 'warn' | 'bad' | 'neutral'): Html {
  return html`<span class="badge badge-${tone}">${text}</span>`;
}

const STATE_TONES: Readonly<Record<string, 'ok' | 'warn' | 'bad' | 'neutral'>> = {
  active: 'ok', pending_reassignment: 'warn', suspended: 'bad', retired: 'neutral',
};

export function stateBadge(state: string): Html {
  return badge(state.replace('_', ' '), STATE_TONES[state] ?? 'neutral');
}

export function riskBadge(risk: string): Html {
  return badge(risk, risk === 'read' ? 'ok' : risk === 'write' ? 'warn' : 'bad');
}

/** A query string from the non-empty entries. */
export function query(values: Readonly<Record<string, string | undefined>>): string {
  const entries = Object.entries(values).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '');
  return entries.length === 0 ? '' : `?${new URLSearchParams(entries).toString()}`;
}

/**
 * A state-changing button: a one-button POST form carrying the session's CSRF token. `label` is what sighted
 * users read; `name` is the accessible name when the label alone is ambiguous in a table ("Retry" which?).
 */
export function postButton(action: string, csrf: string, label: string, options: { tone?: 'primary' | 'danger'; name?: string } = {}): Html {
  return html`<form method="post" action="${action}" class="inline"><input type="hidden" name="${CSRF_FIELD}" value="${csrf}"><button type="submit"${options.tone === undefined ? '' : html` class="${options.tone}"`}${options.name === undefined ? '' : html` aria-label="${options.name}"`}>${label}</button></form>`;
}

/** An outcome notice after a POST-redirect-GET; role=status so screen readers announce it. */
export function notice(text: string | undefined, tone: 'ok' | 'bad' = 'ok'): Html {
  return text === undefined ? html`` : html`<p class="notice notice-${tone}" role="status">${text}</p>`;
}
