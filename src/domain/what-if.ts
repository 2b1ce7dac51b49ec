/**
 * What-if: the effect of a hypothetical directory or policy change on agents' rights, computed over loaded
 * snapshots with the same rules the pipeline applies (entitlements, growth, succession). Changes nothing.
 */
import { computeEntitlements } from './entitlements.js';
import { decideGrowth, type GrowthConfirmationPolicy, type OpenGrant } from './growth.js';
import { decideSuccession, type PersonNode, type SuccessorProposal } from './succession.js';
import type { AgentSnapshot, Ceilings, Entitlement, GrantRule, SponsorGroup, SponsorSnapshot, Tool } from './types.js';

export type Hypothesis =
  | { readonly kind: 'sponsor_leaves'; readonly personId: string }
  | { readonly kind: 'sponsor_moves'; readonly personId: string; readonly leaveGroups: readonly string[]; readonly joinGroups: readonly string[] }
  | { readonly kind: 'rule_edited'; readonly rule: Omit<GrantRule, 'version'> };

export interface WhatIfAgent {
  readonly snapshot: AgentSnapshot;
  readonly sponsorId: string;
  readonly backupSponsorIds: readonly string[];
  /** What the agent holds now (its latest version). */
  readonly current: readonly Entitlement[];
  readonly grants: readonly OpenGrant[];
}

export interface WhatIfWorld {
  readonly agents: readonly WhatIfAgent[];
  /** Sponsors and backup sponsors of those agents. */
  readonly sponsors: ReadonlyMap<string, SponsorSnapshot>;
  /** The people succession may look at (backups, leavers, their managers). */
  readonly people: ReadonlyMap<string, PersonNode>;
  readonly catalog: ReadonlyMap<string, Tool>;
  readonly rules: readonly GrantRule[];
  readonly ceilings: Ceilings;
  readonly growth: GrowthConfirmationPolicy;
  readonly now: Date;
  readonly graceMs: number;
}

export type WhatIfReassignment =
  | { readonly kind: 'backup'; readonly sponsorId: string }
  | { readonly kind: 'pending_reassignment'; readonly proposal: SuccessorProposal; readonly suspendAt: Date };

export interface WhatIfOutcome {
  readonly agentId: string;
  readonly sponsorId: string;
  /** Tools the agent would lose (a leaver's agent loses everything at once, even what a backup re-grants). */
  readonly lose: readonly string[];
  /** Tools that would take effect at once. */
  readonly gain: readonly string[];
  /** Growth that would wait for confirmation. */
  readonly pending: readonly string[];
  readonly reassignment: WhatIfReassignment | null;
}

const ids = (entitlements: readonly Entitlement[]) => entitlements.map((entitlement) => entitlement.toolId);
const minus = (left: readonly string[], right: readonly string[]) => left.filter((item) => !right.includes(item));

function hypotheticalSponsor(sponsor: SponsorSnapshot, hypothesis: Hypothesis): SponsorSnapshot {
  if (hypothesis.kind === 'rule_edited' || sponsor.id !== hypothesis.personId) return sponsor;
  if (hypothesis.kind === 'sponsor_leaves') return { ...sponsor, active: false };
  const leaving = new Set(hypothesis.leaveGroups.map((name) => name.toLowerCase()));
  const kept = sponsor.groups.filter((group) => !leaving.has(group.name.toLowerCase()) && !leaving.has(group.id));
  const joined: SponsorGroup[] = hypothesis.joinGroups
    .filter((name) => !kept.some((group) => group.name.toLowerCase() === name.toLowerCase()))
    .map((name) => ({ id: `hypothetical:${name}`, name }));
  return { ...sponsor, groups: [...kept, ...joined] };
}

function hypotheticalRules(rules: readonly GrantRule[], hypothesis: Hypothesis): readonly GrantRule[] {
  if (hypothesis.kind !== 'rule_edited') return rules;
  const existing = rules.find((rule) => rule.id === hypothesis.rule.id);
  const edited: GrantRule = { ...hypothesis.rule, version: (existing?.version ?? 0) + 1 };
  return existing === undefined ? [...rules, edited] : rules.map((rule) => (rule.id === edited.id ? edited : rule));
}

/** The agents the hypothesis touches, with what would change for each; agents with no change are left out. */
export function whatIf(world: WhatIfWorld, hypothesis: Hypothesis): WhatIfOutcome[] {
  const rules = hypotheticalRules(world.rules, hypothesis);
  const sponsors = new Map([...world.sponsors].map(([id, sponsor]) => [id, hypotheticalSponsor(sponsor, hypothesis)]));
  const people = new Map(world.people);
  if (hypothesis.kind === 'sponsor_leaves') {
    const leaver = people.get(hypothesis.personId);
    if (leaver !== undefined) people.set(leaver.id, { ...leaver, active: false });
  }
  const decide = (agent: WhatIfAgent, sponsorId: string, previous: readonly Entitlement[]) => {
    const computed = computeEntitlements({ agent: agent.snapshot, sponsor: sponsors.get(sponsorId) ?? null, catalog: world.catalog, rules, ceilings: world.ceilings, now: world.now });
    return decideGrowth({ previous, computed: computed.effective, initial: false, newlyDelegated: new Set(), sponsorId, policy: world.growth, grants: agent.grants });
  };
  const outcomes: WhatIfOutcome[] = [];
  for (const agent of world.agents) {
    if (hypothesis.kind !== 'rule_edited' && agent.sponsorId !== hypothesis.personId) continue;
    const action = decideSuccession({
      state: agent.snapshot.state, sponsorId: agent.sponsorId, sponsor: sponsors.get(agent.sponsorId) ?? null, backupSponsorIds: agent.backupSponsorIds,
      succession: null, people, now: world.now, graceMs: world.graceMs,
    });
    const current = ids(agent.current);
    let outcome: WhatIfOutcome;
    if (action.kind === 'handover') {
      const growth = decide(agent, action.sponsorId, []);
      outcome = { agentId: agent.snapshot.id, sponsorId: agent.sponsorId, lose: current, gain: ids(growth.effective), pending: ids(growth.pending), reassignment: { kind: 'backup', sponsorId: action.sponsorId } };
    } else if (action.kind === 'pending_reassignment') {
      outcome = {
        agentId: agent.snapshot.id, sponsorId: agent.sponsorId, lose: current, gain: [], pending: [],
        reassignment: { kind: 'pending_reassignment', proposal: action.succession.proposal, suspendAt: action.succession.suspendAt },
      };
    } else {
      const growth = decide(agent, agent.sponsorId, agent.current);
      const after = ids(growth.effective);
      outcome = { agentId: agent.snapshot.id, sponsorId: agent.sponsorId, lose: minus(current, after), gain: minus(after, current), pending: ids(growth.newPending), reassignment: null };
    }
    if (outcome.lose.length + outcome.gain.length + outcome.pending.length > 0 || outcome.reassignment !== null) outcomes.push(outcome);
  }
  return outcomes;
}
