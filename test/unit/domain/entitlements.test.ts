import { describe, it, expect } from 'vitest';
import { computeEntitlements, expandRequested, findCoverage, type DenialReason } from '../../../src/domain/entitlements.js';
import type { GrantRule } from '../../../src/domain/types.js';
import { HOUR, NOW, agent, catalogOf, delegation, input, sponsor, tool } from './arbitraries.js';

const at = (hours: number): Date => new Date(NOW.getTime() + hours * HOUR);
const ids = (result: { effective: readonly { toolId: string }[] }): string[] => result.effective.map((e) => e.toolId);

describe('expandRequested', () => {
  const catalog = catalogOf([tool('crm.contacts.read'), tool('crm.deals.write', 'write'), tool('crmx.notes.read'), tool('hr.people.read')]);

  it.each<[string, string[], string[]]>([
    ['exact ids pass through, known or not', ['hr.people.read', 'zz.ghost.read'], ['hr.people.read', 'zz.ghost.read']],
    ['a prefix pattern expands on a dot boundary only', ['crm.*'], ['crm.contacts.read', 'crm.deals.write']],
    ['* expands to the whole catalog', ['*'], ['crm.contacts.read', 'crm.deals.write', 'crmx.notes.read', 'hr.people.read']],
    ['a pattern matching nothing disappears', ['billing.*'], []],
    ['duplicates collapse and the output is sorted', ['hr.people.read', 'crm.*', 'crm.deals.write'], ['crm.contacts.read', 'crm.deals.write', 'hr.people.read']],
    ['nothing requested gives nothing', [], []],
    ['a non-trailing star is not a pattern', ['crm*'], ['crm*']],
  ])('%s', (_name, requested, expected) => {
    expect(expandRequested(requested, catalog)).toEqual(expected);
  });
});

describe('findCoverage', () => {
  const rules: GrantRule[] = [
    { id: 'r-hr', version: 2, when: [{ kind: 'group', group: 'hr-staff' }], tools: ['hr.*'] },
    { id: 'r-dept', version: 1, when: [{ kind: 'attribute', attribute: 'department', values: ['Sales', 'ENG'] }], tools: ['crm.*'] },
    { id: 'r-sales', version: 3, when: [{ kind: 'group', group: 'SALES' }], tools: ['crm.contacts.read'] },
    { id: 'r-empty', version: 1, when: [], tools: ['*'] },
  ];

  it('returns the first rule in configuration order that covers the tool and matches the sponsor', () => {
    const coverage = findCoverage(rules, sponsor({ groups: [{ id: 'g-s', name: 'Sales' }], attributes: { department: 'eng' } }), 'crm.contacts.read');
    expect(coverage?.rule.id).toBe('r-dept');
    expect(coverage?.via).toEqual({ kind: 'attribute', attribute: 'department', value: 'eng' });
  });

  it('falls through to a later rule when an earlier one does not match the sponsor', () => {
    const coverage = findCoverage(rules, sponsor({ groups: [{ id: 'g-s', name: 'Sales' }], attributes: { department: 'legal' } }), 'crm.contacts.read');
    expect(coverage).toEqual({ rule: rules[2], via: { kind: 'group', groupId: 'g-s', groupName: 'Sales' } });
  });

  it('compares group names case-insensitively and reports the directory spelling', () => {
    const coverage = findCoverage(rules, sponsor({ groups: [{ id: 'g-h', name: 'HR-Staff' }], attributes: {} }), 'hr.people.read');
    expect(coverage?.via).toEqual({ kind: 'group', groupId: 'g-h', groupName: 'HR-Staff' });
  });

  it('compares attribute names case-sensitively', () => {
    expect(findCoverage(rules, sponsor({ groups: [], attributes: { Department: 'eng' } }), 'crm.deals.read')).toBeNull();
  });

  it('never matches through a rule with no conditions', () => {
    expect(findCoverage(rules, sponsor({ groups: [], attributes: {} }), 'ops.jobs.read')).toBeNull();
  });

  it('does not use a matching rule whose tools do not cover the tool', () => {
    expect(findCoverage(rules, sponsor({ groups: [{ id: 'g-s', name: 'sales' }], attributes: {} }), 'crm.deals.read')).toBeNull();
  });

  // Regression: the attribute lookup once read inherited Object.prototype members, so a rule on an
  // attribute named like one ("constructor", "toString", ...) threw instead of simply not matching.
  it('treats an attribute the sponsor lacks as "no match", even when named like an Object member', () => {
    const rule: GrantRule = { id: 'r', version: 1, when: [{ kind: 'attribute', attribute: 'constructor', values: ['x'] }], tools: ['*'] };
    expect(findCoverage([rule], sponsor({ attributes: {} }), 'crm.contacts.read')).toBeNull();
  });
});

describe('computeEntitlements: blanket denials', () => {
  const requested = ['crm.contacts.read', 'hr.people.read', 'zz.ghost.read'];
  const base = { catalog: catalogOf([tool('crm.contacts.read'), tool('hr.people.read')]) };

  it.each<[DenialReason, Parameters<typeof input>[0]]>([
    ['agent_not_active', { agent: agent({ requestedTools: requested, state: 'suspended' }) }],
    ['agent_not_active', { agent: agent({ requestedTools: requested, state: 'retired' }) }],
    ['agent_not_active', { agent: agent({ requestedTools: requested, state: 'pending_reassignment' }) }],
    ['agent_expired', { agent: agent({ requestedTools: requested, expiresAt: at(-1) }) }],
    ['agent_expired', { agent: agent({ requestedTools: requested, expiresAt: NOW }) }],
    ['no_delegation', { agent: agent({ requestedTools: requested, delegation: null }) }],
    ['delegation_not_yet_valid', { agent: agent({ requestedTools: requested, delegation: delegation({ notBefore: at(1) }) }) }],
    ['delegation_expired', { agent: agent({ requestedTools: requested, delegation: delegation({ expiresAt: NOW }) }) }],
    ['delegation_expired', { agent: agent({ requestedTools: requested, delegation: delegation({ expiresAt: at(-2) }) }) }],
    ['sponsor_missing', { agent: agent({ requestedTools: requested }), sponsor: null }],
    ['sponsor_missing', { agent: agent({ requestedTools: requested }), sponsor: sponsor({ deleted: true }) }],
    ['sponsor_missing', { agent: agent({ requestedTools: requested }), sponsor: sponsor({ deleted: true, active: false }) }],
    ['sponsor_inactive', { agent: agent({ requestedTools: requested }), sponsor: sponsor({ active: false }) }],
  ])('%s: no rights and every requested tool denied', (reason, overrides) => {
    const result = computeEntitlements(input({ ...base, ...overrides }));
    expect(result.effective).toEqual([]);
    expect(result.denied).toEqual(requested.map((toolId) => ({ toolId, reason })));
  });

  it.each<[DenialReason, Parameters<typeof input>[0]]>([
    ['agent_not_active', { agent: agent({ state: 'retired', expiresAt: at(-1), delegation: null }), sponsor: null }],
    ['agent_expired', { agent: agent({ expiresAt: at(-1), delegation: null }), sponsor: null }],
    ['no_delegation', { agent: agent({ delegation: null }), sponsor: sponsor({ active: false }) }],
    ['delegation_not_yet_valid', { agent: agent({ delegation: delegation({ notBefore: at(1), expiresAt: at(-1) }) }), sponsor: null }],
    ['delegation_expired', { agent: agent({ delegation: delegation({ expiresAt: at(-1) }) }), sponsor: null }],
    ['sponsor_missing', { sponsor: sponsor({ deleted: true, active: false }) }],
  ])('the first failing link wins: %s', (reason, overrides) => {
    expect(computeEntitlements(input(overrides)).denied).toEqual([{ toolId: 'crm.contacts.read', reason }]);
  });

  it('accepts the boundaries: notBefore == now and expiry one millisecond ahead', () => {
    const valid = delegation({ notBefore: NOW, expiresAt: new Date(NOW.getTime() + 1) });
    const result = computeEntitlements(input({ agent: agent({ expiresAt: new Date(NOW.getTime() + 1), delegation: valid }) }));
    expect(ids(result)).toEqual(['crm.contacts.read']);
  });
});

describe('computeEntitlements: per-tool decisions', () => {
  const catalog = catalogOf([
    tool('crm.contacts.read'),
    tool('crm.deals.write', 'write'),
    tool('ops.agents.run', 'orchestrate'),
    tool('hr.people.read'),
    tool('crm.export.read'),
  ]);
  const rules: GrantRule[] = [
    { id: 'r-sales', version: 4, when: [{ kind: 'group', group: 'sales' }], tools: ['crm.*', 'ops.*'] },
  ];
  const requestedTools = ['*', 'zz.ghost.read'];

  it('explains every requested tool either as an entitlement with provenance or as a denial', () => {
    const result = computeEntitlements(
      input({
        catalog,
        rules,
        ceilings: { sandbox: { risks: [], deny: [] }, pilot: { risks: ['read', 'write'], deny: ['crm.export.*'] }, production: { risks: [], deny: [] } },
        agent: agent({ environment: 'pilot', requestedTools, delegation: delegation({ id: 'd-9', tools: ['crm.*', 'ops.*'] }) }),
        sponsor: sponsor({ groups: [{ id: 'g-1', name: 'Sales' }] }),
      }),
    );
    const provenance = { ruleId: 'r-sales', ruleVersion: 4, via: { kind: 'group', groupId: 'g-1', groupName: 'Sales' }, delegationId: 'd-9' };
    expect(result.effective).toEqual([
      { toolId: 'crm.contacts.read', system: 'crm', risk: 'read', provenance },
      { toolId: 'crm.deals.write', system: 'crm', risk: 'write', provenance },
    ]);
    expect(result.denied).toEqual([
      { toolId: 'crm.export.read', reason: 'ceiling' },
      { toolId: 'hr.people.read', reason: 'not_delegated' },
      // Orchestrate tools need explicit approval: the delegation's pattern ops.* does not cover them.
      { toolId: 'ops.agents.run', reason: 'not_delegated' },
      { toolId: 'zz.ghost.read', reason: 'unknown_tool' },
    ]);
  });

  it('grants an orchestrate tool only when the delegation names it by id', () => {
    const production = (tools: string[]) => computeEntitlements(
      input({
        catalog,
        rules,
        agent: agent({ environment: 'production', requestedTools: ['ops.agents.run'], delegation: delegation({ tools }) }),
        sponsor: sponsor({ groups: [{ id: 'g-1', name: 'Sales' }] }),
      }),
    );
    expect(production(['*']).denied).toEqual([{ toolId: 'ops.agents.run', reason: 'not_delegated' }]);
    expect(production(['ops.*']).denied).toEqual([{ toolId: 'ops.agents.run', reason: 'not_delegated' }]);
    expect(ids(production(['ops.agents.run']))).toEqual(['ops.agents.run']);
  });

  it('checks delegation before coverage and coverage before the ceiling', () => {
    const result = computeEntitlements(
      input({
        catalog,
        rules,
        ceilings: { ...input().ceilings, sandbox: { risks: [], deny: ['*'] } },
        agent: agent({ environment: 'sandbox', requestedTools: ['hr.people.read', 'crm.contacts.read'], delegation: delegation({ tools: ['crm.*'] }) }),
        sponsor: sponsor({ groups: [] }),
      }),
    );
    expect(result.denied).toEqual([
      { toolId: 'crm.contacts.read', reason: 'not_covered' },
      { toolId: 'hr.people.read', reason: 'not_delegated' },
    ]);
  });

  it('gives nothing when nothing is requested, even with a fully valid chain', () => {
    expect(computeEntitlements(input({ agent: agent({ requestedTools: [] }) }))).toEqual({ effective: [], denied: [] });
  });
});
