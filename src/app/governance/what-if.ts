import { AppError } from '../../domain/errors.js';
import type { OpenGrant } from '../../domain/growth.js';
import type { PersonNode } from '../../domain/succession.js';
import type { SponsorSnapshot } from '../../domain/types.js';
import { whatIf, type Hypothesis, type WhatIfAgent, type WhatIfOutcome } from '../../domain/what-if.js';
import type { SponsoredAgent } from '../pipeline/recompute-sponsor.js';
import type { Clock, Policy } from '../ports.js';
import type { EntitlementVersionRecord } from '../records.js';
import type { GovernancePolicy } from './policy.js';

/** Read-only lookups; what-if never writes. */
export interface WhatIfStore {
  sponsorSnapshot(personId: string): Promise<SponsorSnapshot | null>;
  agentsSponsoredBy(personId: string): Promise<SponsoredAgent[]>;
  latestVersion(agentId: string): Promise<EntitlementVersionRecord | null>;
  openGrants(agentId: string): Promise<OpenGrant[]>;
  personNodes(ids: readonly string[]): Promise<PersonNode[]>;
  /** Every person who sponsors a live agent. */
  allSponsors(): Promise<string[]>;
}

export interface WhatIfDeps {
  readonly store: WhatIfStore;
  readonly clock: Clock;
  readonly policy: () => Policy;
  readonly governance: () => GovernancePolicy;
}

export interface WhatIfReport {
  readonly hypothesis: Hypothesis;
  readonly at: Date;
  readonly agents: readonly WhatIfOutcome[];
}

const MANAGER_LEVELS = 2;

/** Loads the snapshots the hypothesis needs (affected sponsors, their agents, backups, managers) and computes. */
export async function runWhatIf(deps: WhatIfDeps, hypothesis: Hypothesis): Promise<WhatIfReport> {
  const sponsorIds = hypothesis.kind === 'rule_edited' ? await deps.store.allSponsors() : [hypothesis.personId];
  const sponsors = new Map<string, SponsorSnapshot>();
  const agents: WhatIfAgent[] = [];
  for (const sponsorId of sponsorIds) {
    const sponsor = await deps.store.sponsorSnapshot(sponsorId);
    if (sponsor === null) {
      if (hypothesis.kind !== 'rule_edited') throw new AppError('not_found', 'person not found', { detail: `Person ${sponsorId} not found` });
      continue;
    }
    sponsors.set(sponsorId, sponsor);
    for (const agent of await deps.store.agentsSponsoredBy(sponsorId)) {
      if (agent.snapshot.state === 'retired') continue;
      const latest = await deps.store.latestVersion(agent.snapshot.id);
      agents.push({ snapshot: agent.snapshot, sponsorId, backupSponsorIds: agent.backupSponsorIds, current: latest?.entitlements ?? [], grants: await deps.store.openGrants(agent.snapshot.id) });
    }
  }
  const people = new Map<string, PersonNode>();
  if (hypothesis.kind === 'sponsor_leaves') {
    const backups = [...new Set(agents.flatMap((agent) => agent.backupSponsorIds))];
    for (const person of await deps.store.personNodes([hypothesis.personId, ...backups])) people.set(person.id, person);
    for (const backupId of backups) {
      const backup = await deps.store.sponsorSnapshot(backupId);
      if (backup !== null) sponsors.set(backupId, backup);
    }
    let managerId = people.get(hypothesis.personId)?.managerId ?? null;
    for (let level = 0; level < MANAGER_LEVELS && managerId !== null && !people.has(managerId); level += 1) {
      const manager = (await deps.store.personNodes([managerId]))[0];
      if (manager === undefined) break;
      people.set(manager.id, manager);
      managerId = manager.managerId;
    }
  }
  const now = deps.clock();
  const policy = deps.policy();
  const governance = deps.governance();
  const outcomes = whatIf(
    { agents, sponsors, people, ...policy, growth: governance.growthNeedsConfirmation, now, graceMs: governance.reassignmentGraceMs },
    hypothesis,
  );
  return { hypothesis, at: now, agents: outcomes };
}
