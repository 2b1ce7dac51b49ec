import { describe, expect, it } from 'vitest';
import type { RunView } from '../../../src/app/directory/sync-status.js';
import type { SourceView } from '../../../src/http/api/source-routes.js';
import type { TargetView } from '../../../src/http/api/target-routes.js';
import { sourcesFragment, type SourcesData } from '../../../src/http/ui/pages/sources.js';
import { targetsFragment, type TargetsData } from '../../../src/http/ui/pages/targets.js';
import { EMPTY_WHAT_IF, whatIfBody } from '../../../src/http/ui/pages/what-if.js';

const heldRun: RunView = {
  id: 7, mode: 'full', trigger: 'schedule', status: 'held', startedAt: new Date('2025-06-01T10:00:00Z'), finishedAt: new Date('2025-06-01T10:00:05Z'),
  counts: { seen: 10, changed: 0, deleted: 90, deactivated: 0, population: 100 }, heldReason: 'would delete 90 of 100 people', decidedBy: null, error: null,
};
const ldap: SourceView = {
  id: 'corp', kind: 'ldap', displayName: 'Corp <AD>',
  sync: { running: false, lastAttemptAt: null, lastSuccessAt: null, lastFullAt: null, cursor: null, lagSeconds: 12, lastError: null, lastErrorAt: null, lastRun: heldRun, held: heldRun },
};

function sources(role: 'viewer' | 'operator' | 'admin'): string {
  const data: SourcesData = {
    sources: [ldap], counts: [{ id: 'corp', kind: 'ldap', people: 100, groups: 4, lastChangeAt: null }], runs: new Map([['corp', [heldRun]]]),
    canReconcile: role !== 'viewer', canDecide: role === 'admin', csrf: 'tok-123',
  };
  return sourcesFragment(data).value;
}

describe('sources page', () => {
  it('offers Confirm / Discard of a held run to admins only, and Reconcile now to operators and admins', () => {
    const admin = sources('admin');
    expect(admin).toContain('action="/ui/sources/corp/held-runs/7/confirm"');
    expect(admin).toContain('action="/ui/sources/corp/held-runs/7/discard"');
    expect(admin).toContain('name="_csrf" value="tok-123"');
    const operator = sources('operator');
    expect(operator).toContain('action="/ui/sources/corp/reconcile"');
    expect(operator).not.toContain('held-runs/7/confirm');
    expect(operator).toContain('needs the admin role');
    const viewer = sources('viewer');
    expect(viewer).not.toContain('<form');
    expect(viewer).toContain('would delete 90 of 100 people');
  });

  it('escapes directory-provided names', () => {
    expect(sources('admin')).toContain('Corp &lt;AD&gt;');
  });
});

const target: TargetView = {
  id: 'hooks', kind: 'webhook', canRead: false, agents: 0, verified: 0, behind: 1, deadLetters: 1, lastAppliedAt: null, lastVerifiedAt: null,
  revocationSeconds: { applied: { count: 0, p50: null, p95: null, p99: null }, verified: { count: 0, p50: null, p95: null, p99: null } }, lastDrift: null,
};

function targets(canRetry: boolean): string {
  const data: TargetsData = {
    targets: [target], queues: [{ name: 'push.hooks', waiting: 2, active: 0, delayed: 1, failed: 1 }],
    deadLetters: new Map([['hooks', { items: [{ jobId: 'a1.v3', agentId: '6f1c1f2e-0000-4000-8000-000000000001', version: 3, attempts: 1, lastError: 'HTTP 400 <bad>', failedAt: null }], total: 1 }]]),
    agentNames: new Map([['6f1c1f2e-0000-4000-8000-000000000001', 'pipeline-bot']]), canRetry, csrf: 'tok-9',
  };
  return targetsFragment(data).value;
}

describe('targets page', () => {
  it('shows queue depth and failures, and a labelled Retry per dead letter for operators', () => {
    const markup = targets(true);
    expect(markup).toContain('2 / 0 / 1');
    expect(markup).toContain('failing deliveries');
    expect(markup).toContain('action="/ui/targets/hooks/dead-letters/a1.v3/retry"');
    expect(markup).toContain('aria-label="Retry a1.v3"');
    expect(markup).toContain('HTTP 400 &lt;bad&gt;');
  });

  it('shows viewers the dead letters without any button', () => {
    const markup = targets(false);
    expect(markup).toContain('a1.v3');
    expect(markup).not.toContain('<form');
    expect(markup).toContain('needs the operator role');
  });
});

describe('what-if page', () => {
  it('labels every field, keeps the CSRF token, and echoes what was typed (escaped)', () => {
    const markup = whatIfBody({ values: { ...EMPTY_WHAT_IF, person: '"><script>' }, csrf: 'tok-w', error: 'No person' }).value;
    for (const name of ['person', 'from', 'to', 'ruleId', 'ruleGroups', 'ruleAttribute', 'ruleValues', 'ruleTools']) {
      expect(markup).toContain(`<label for="wf-${name}">`);
      expect(markup).toContain(`id="wf-${name}" name="${name}"`);
    }
    expect(markup).toContain('name="_csrf" value="tok-w"');
    expect(markup).toContain('value="&quot;&gt;&lt;script&gt;"');
    expect(markup).toContain('role="alert"');
  });
});
