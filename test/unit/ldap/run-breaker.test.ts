import { describe, expect, it } from 'vitest';
import { heldReason, type RunRemovals } from '../../../src/app/directory/ldap-breaker.js';
import { leaseKeeper } from '../../../src/app/directory/ldap-lease.js';
import type { SyncRunRecord } from '../../../src/app/directory/sync-ports.js';
import { DEFAULT_MASS_CHANGE_POLICY } from '../../../src/domain/mass-change.js';

const removals = (overrides: Partial<RunRemovals>): RunRemovals => ({ population: 100, deletions: 0, deactivations: 0, agentPopulation: 0, retirements: 0, groupPopulation: 40, groupRemovals: 0, ...overrides });
const confirmed = (run: Partial<SyncRunRecord>) => run as SyncRunRecord;

describe('a run\'s circuit breaker', () => {
  it('lets a single leaver through and holds a mass removal of people, deletions and deactivations together', () => {
    expect(heldReason(DEFAULT_MASS_CHANGE_POLICY, removals({ population: 3, deletions: 1 }), null)).toBeNull();
    expect(heldReason(DEFAULT_MASS_CHANGE_POLICY, removals({ deletions: 6, deactivations: 5 }), null)).toMatch(/would remove 11 of 100 people/);
  });

  it('holds a mass retirement of directory agents, and a confirmation naming agents accepts it', () => {
    const reason = heldReason(DEFAULT_MASS_CHANGE_POLICY, removals({ agentPopulation: 4, retirements: 3 }), null);
    expect(reason).toMatch(/would retire 3 of 4 directory agents/);
    expect(heldReason(DEFAULT_MASS_CHANGE_POLICY, removals({ agentPopulation: 4, retirements: 3 }), confirmed({ heldReason: reason, confirmedRemovals: 0 }))).toBeNull();
    expect(heldReason(DEFAULT_MASS_CHANGE_POLICY, removals({ agentPopulation: 4, retirements: 3 }), confirmed({ heldReason: 'would remove 20 of 100 people', confirmedRemovals: 20 })))
      .toMatch(/directory agents/);
  });

  it('holds a mass removal of groups (a groups base DN or filter gone wrong), not a few; a confirmation naming groups accepts it', () => {
    expect(heldReason(DEFAULT_MASS_CHANGE_POLICY, removals({ groupRemovals: 4 }), null)).toBeNull();
    const reason = heldReason(DEFAULT_MASS_CHANGE_POLICY, removals({ groupRemovals: 40 }), null);
    expect(reason).toMatch(/would remove 40 of 40 directory groups, above the limit of 10% \(4\)/);
    expect(heldReason(DEFAULT_MASS_CHANGE_POLICY, removals({ groupRemovals: 40 }), confirmed({ heldReason: reason, confirmedRemovals: 0 }))).toBeNull();
    expect(heldReason(DEFAULT_MASS_CHANGE_POLICY, removals({ groupRemovals: 40 }), confirmed({ heldReason: 'would remove 20 of 100 people', confirmedRemovals: 20 })))
      .toMatch(/directory groups/);
  });

  it('joins both reasons when people and agents trip', () => {
    expect(heldReason(DEFAULT_MASS_CHANGE_POLICY, removals({ deletions: 50, agentPopulation: 2, retirements: 2 }), null)).toMatch(/people.*; would retire 2 of 2/);
  });
});

describe('leaseKeeper', () => {
  it('renews at most every few seconds, whatever the number of pages', async () => {
    let now = 0;
    let renewals = 0;
    const keep = leaseKeeper(async () => { renewals += 1; }, () => new Date(now), 15 * 60_000);
    for (let page = 0; page < 100; page += 1) {
      now += 100;
      await keep();
    }
    expect(renewals).toBe(2);
  });
});
