/** Shared builders and fast-check arbitraries for the pure domain tests (not a test file itself). */
import fc from 'fast-check';
import type { EntitlementInput } from '../../../src/domain/entitlements.js';
import {
  AGENT_STATES,
  ENVIRONMENTS,
  RISK_CLASSES,
  type AgentSnapshot,
  type Ceiling,
  type Ceilings,
  type DelegationSnapshot,
  type GrantCondition,
  type GrantRule,
  type SponsorGroup,
  type SponsorSnapshot,
  type Tool,
} from '../../../src/domain/types.js';

export const NOW = new Date('2025-06-01T12:00:00.000Z');
export const HOUR = 3_600_000;

/** A small universe so that generated rules, requests and catalogs overlap often. */
export const TOOL_IDS = [
  'crm.contacts.read',
  'crm.contacts.write',
  'crm.deals.read',
  'crm.deals.write',
  'hr.people.read',
  'hr.people.write',
  'ops.agents.run',
  'ops.jobs.read',
] as const;
export const PATTERNS = [...TOOL_IDS, 'crm.*', 'crm.contacts.*', 'hr.*', 'ops.*', '*'] as const;
export const UNKNOWN_IDS = ['zz.ghost.read', 'crm.secret.read'] as const;
export const GROUPS: readonly SponsorGroup[] = [
  { id: 'g-sales', name: 'Sales' },
  { id: 'g-hr', name: 'HR-Staff' },
  { id: 'g-eng', name: 'Engineering' },
  { id: 'g-ops', name: 'Ops' },
];
export const DEPARTMENTS = ['eng', 'sales', 'finance'] as const;

export function tool(id: string, risk: Tool['risk'] = 'read'): Tool {
  return { id, system: id.split('.')[0]!, risk };
}

export function catalogOf(tools: readonly Tool[]): Map<string, Tool> {
  return new Map(tools.map((entry) => [entry.id, entry]));
}

export function sponsor(overrides: Partial<SponsorSnapshot> = {}): SponsorSnapshot {
  return { id: 'p-1', active: true, deleted: false, groups: [GROUPS[0]!], attributes: { department: 'eng' }, ...overrides };
}

export function delegation(overrides: Partial<DelegationSnapshot> = {}): DelegationSnapshot {
  return { id: 'd-1', tools: ['*'], notBefore: null, expiresAt: null, ...overrides };
}

export function agent(overrides: Partial<AgentSnapshot> = {}): AgentSnapshot {
  return {
    id: 'a-1',
    state: 'active',
    environment: 'production',
    requestedTools: ['crm.contacts.read'],
    expiresAt: null,
    delegation: delegation(),
    ...overrides,
  };
}

export const OPEN_CEILINGS: Ceilings = {
  sandbox: { risks: ['read'], deny: [] },
  pilot: { risks: ['read', 'write'], deny: [] },
  production: { risks: ['read', 'write', 'orchestrate'], deny: [] },
};

export function input(overrides: Partial<EntitlementInput> = {}): EntitlementInput {
  return {
    agent: agent(),
    sponsor: sponsor(),
    catalog: catalogOf([tool('crm.contacts.read')]),
    rules: [{ id: 'r-sales', version: 1, when: [{ kind: 'group', group: 'sales' }], tools: ['crm.*'] }],
    ceilings: OPEN_CEILINGS,
    now: NOW,
    ...overrides,
  };
}

/** Changes the letter case at random, since group names and attribute values compare case-insensitively. */
const caseVariant = (text: string): fc.Arbitrary<string> =>
  fc.constantFrom(text, text.toLowerCase(), text.toUpperCase());

export const catalogArb: fc.Arbitrary<Map<string, Tool>> = fc
  .subarray([...TOOL_IDS], { minLength: 3 })
  .chain((ids) => fc.tuple(...ids.map((id) => fc.constantFrom(...RISK_CLASSES).map((risk) => tool(id, risk)))))
  .map((tools) => catalogOf(tools));

export const conditionArb: fc.Arbitrary<GrantCondition> = fc.oneof(
  fc.constantFrom(...GROUPS.map((group) => group.name), 'Nobody').chain(caseVariant).map((group) => ({ kind: 'group' as const, group })),
  fc
    .subarray([...DEPARTMENTS, 'legal'], { minLength: 1 })
    .chain((values) => fc.tuple(...values.map(caseVariant)))
    .map((values) => ({ kind: 'attribute' as const, attribute: 'department', values })),
);

export const rulesArb: fc.Arbitrary<GrantRule[]> = fc.uniqueArray(
  fc.record({
    id: fc.constantFrom('r-1', 'r-2', 'r-3', 'r-4', 'r-5'),
    version: fc.integer({ min: 1, max: 9 }),
    when: fc.array(conditionArb, { minLength: 1, maxLength: 3 }),
    tools: fc.subarray([...PATTERNS], { minLength: 1, maxLength: 4 }),
  }),
  { selector: (rule) => rule.id, minLength: 1, maxLength: 5 },
);

export const groupsArb: fc.Arbitrary<SponsorGroup[]> = fc.subarray([...GROUPS]);

export const activeSponsorArb: fc.Arbitrary<SponsorSnapshot> = fc.record({
  id: fc.constant('p-1'),
  active: fc.constant(true),
  deleted: fc.constant(false),
  groups: fc.subarray([...GROUPS], { minLength: 1 }),
  attributes: fc.option(fc.constantFrom(...DEPARTMENTS), { nil: null }).map((department): Record<string, string> =>
    department === null ? {} : { department },
  ),
});

const ceilingArb: fc.Arbitrary<Ceiling> = fc.record({
  risks: fc.oneof(fc.constant([...RISK_CLASSES]), fc.subarray([...RISK_CLASSES])),
  deny: fc.subarray<string>([...PATTERNS], { maxLength: 2 }),
});
export const ceilingsArb: fc.Arbitrary<Ceilings> = fc.record({ sandbox: ceilingArb, pilot: ceilingArb, production: ceilingArb });

export const requestedArb: fc.Arbitrary<string[]> = fc.array(fc.constantFrom(...PATTERNS, ...UNKNOWN_IDS), { minLength: 1, maxLength: 6 });

const delegatedToolsArb = fc.oneof(fc.constant(['*']), fc.subarray([...PATTERNS], { minLength: 1, maxLength: 5 }));

const offsetArb = fc.option(fc.integer({ min: -48, max: 48 }).map((hours) => new Date(NOW.getTime() + hours * HOUR)), { nil: null });

/** Inputs whose every blanket link holds: active agent, valid delegation, active sponsor. */
export const validInputArb: fc.Arbitrary<EntitlementInput> = fc.record({
  agent: fc.record({
    id: fc.constant('a-1'),
    state: fc.constant('active' as const),
    environment: fc.constantFrom(...ENVIRONMENTS),
    requestedTools: requestedArb,
    expiresAt: fc.option(fc.integer({ min: 1, max: 48 }).map((h) => new Date(NOW.getTime() + h * HOUR)), { nil: null }),
    delegation: fc.record({
      id: fc.constantFrom('d-1', 'd-2'),
      tools: delegatedToolsArb,
      notBefore: fc.option(fc.integer({ min: 0, max: 48 }).map((h) => new Date(NOW.getTime() - h * HOUR)), { nil: null }),
      expiresAt: fc.option(fc.integer({ min: 1, max: 48 }).map((h) => new Date(NOW.getTime() + h * HOUR)), { nil: null }),
    }),
  }),
  sponsor: activeSponsorArb,
  catalog: catalogArb,
  rules: rulesArb,
  ceilings: ceilingsArb,
  now: fc.constant(NOW),
});

/** Inputs where any blanket link may fail. */
export const anyInputArb: fc.Arbitrary<EntitlementInput> = fc.record({
  agent: fc.record({
    id: fc.constant('a-1'),
    state: fc.oneof(fc.constant('active' as const), fc.constantFrom(...AGENT_STATES)),
    environment: fc.constantFrom(...ENVIRONMENTS),
    requestedTools: requestedArb,
    expiresAt: offsetArb,
    delegation: fc.option(
      fc.record({ id: fc.constant('d-1'), tools: delegatedToolsArb, notBefore: offsetArb, expiresAt: offsetArb }),
      { nil: null },
    ),
  }),
  sponsor: fc.option(
    fc.record({ id: fc.constant('p-1'), active: fc.boolean(), deleted: fc.boolean(), groups: groupsArb, attributes: fc.constant({ department: 'eng' }) }),
    { nil: null },
  ),
  catalog: catalogArb,
  rules: rulesArb,
  ceilings: ceilingsArb,
  now: fc.constant(NOW),
});
