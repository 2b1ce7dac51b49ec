import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideSuccession, graceExpired, proposeSuccessor, type PersonNode, type SuccessionInput } from '../../../src/domain/succession.js';

const NOW = new Date('2025-06-01T12:00:00Z');
const person = (id: string, managerId: string | null, active = true, deleted = false): PersonNode => ({ id, active, deleted, managerId });
const directory = (...people: PersonNode[]) => new Map(people.map((entry) => [entry.id, entry]));

describe('proposeSuccessor', () => {
  it.each([
    ['the active manager', directory(person('l', 'm1'), person('m1', 'm2')), { sponsorId: 'm1', path: ['m1'], outcome: 'found' }],
    ['skips an inactive manager', directory(person('l', 'm1'), person('m1', 'm2', false), person('m2', null)), { sponsorId: 'm2', path: ['m1', 'm2'], outcome: 'found' }],
    ['skips a deleted manager', directory(person('l', 'm1'), person('m1', 'm2', true, true), person('m2', null)), { sponsorId: 'm2', path: ['m1', 'm2'], outcome: 'found' }],
    ['stops after two levels', directory(person('l', 'm1'), person('m1', 'm2', false), person('m2', 'm3', false), person('m3', null)), { sponsorId: null, path: ['m1', 'm2'], outcome: 'all_inactive' }],
    ['no manager', directory(person('l', null)), { sponsorId: null, path: [], outcome: 'no_manager' }],
    ['unknown manager', directory(person('l', 'ghost')), { sponsorId: null, path: ['ghost'], outcome: 'unknown_manager' }],
    ['a cycle back to the leaver', directory(person('l', 'm1'), person('m1', 'l', false)), { sponsorId: null, path: ['m1'], outcome: 'cycle' }],
    ['a self-managed leaver', directory(person('l', 'l')), { sponsorId: null, path: [], outcome: 'cycle' }],
    ['chain ends at an inactive top', directory(person('l', 'm1'), person('m1', null, false)), { sponsorId: null, path: ['m1'], outcome: 'all_inactive' }],
  ])('%s', (_name, people, expected) => {
    expect(proposeSuccessor('l', people)).toEqual(expected);
  });

  it('property: a proposal is active, within two levels, never the leaver, and the path has no repeats', () => {
    const ids = ['l', 'a', 'b', 'c', 'd'];
    const peopleArb = fc.tuple(...ids.map(() => fc.record({ managerId: fc.option(fc.constantFrom(...ids, 'ghost')), active: fc.boolean(), deleted: fc.boolean() })))
      .map((records) => directory(...records.map((record, index) => person(ids[index] ?? 'x', record.managerId, record.active, record.deleted))));
    fc.assert(fc.property(peopleArb, (people) => {
      const proposal = proposeSuccessor('l', people);
      expect(proposal.path.length).toBeLessThanOrEqual(2);
      expect(new Set(proposal.path).size).toBe(proposal.path.length);
      expect(proposal.path).not.toContain('l');
      if (proposal.sponsorId !== null) {
        const chosen = people.get(proposal.sponsorId);
        expect(chosen?.active === true && !chosen.deleted).toBe(true);
        expect(proposal.path.at(-1)).toBe(proposal.sponsorId);
        for (const skipped of proposal.path.slice(0, -1)) expect(people.get(skipped)?.active === true && people.get(skipped)?.deleted === false).toBe(false);
      }
      let walk = people.get('l')?.managerId ?? null;
      for (const step of proposal.path) {
        expect(step).toBe(walk);
        walk = people.get(step)?.managerId ?? null;
      }
    }));
  });
});

function input(overrides: Partial<SuccessionInput> = {}): SuccessionInput {
  return {
    state: 'active', sponsorId: 'l', sponsor: { active: false, deleted: false }, backupSponsorIds: [], succession: null,
    people: directory(person('l', 'm1', false), person('m1', null)), now: NOW, graceMs: 3_600_000, ...overrides,
  };
}

describe('decideSuccession', () => {
  it('hands over to the first active backup, dropping the leaver', () => {
    const people = directory(person('l', null, false), person('b1', null, false), person('b2', null), person('b3', null));
    expect(decideSuccession(input({ backupSponsorIds: ['b1', 'b2', 'b3'], people }))).toEqual({ kind: 'handover', sponsorId: 'b2', backupSponsorIds: ['b1', 'b3'] });
  });

  it('without an active backup: pending reassignment with the manager proposed and a grace deadline', () => {
    const action = decideSuccession(input({ backupSponsorIds: ['ghost'] }));
    expect(action).toEqual({
      kind: 'pending_reassignment',
      succession: { leaverId: 'l', proposal: { sponsorId: 'm1', path: ['m1'], outcome: 'found' }, since: NOW, suspendAt: new Date(NOW.getTime() + 3_600_000) },
    });
  });

  it('a deleted or unknown sponsor is a leaver too', () => {
    expect(decideSuccession(input({ sponsor: { active: true, deleted: true } })).kind).toBe('pending_reassignment');
    expect(decideSuccession(input({ sponsor: null })).kind).toBe('pending_reassignment');
  });

  it('the sponsor coming back restores a pending reassignment; an active sponsor changes nothing', () => {
    const waiting = decideSuccession(input());
    if (waiting.kind !== 'pending_reassignment') throw new Error('expected pending_reassignment');
    expect(decideSuccession(input({ state: 'pending_reassignment', sponsor: { active: true, deleted: false }, succession: waiting.succession }))).toEqual({ kind: 'restore' });
    expect(decideSuccession(input({ sponsor: { active: true, deleted: false } }))).toEqual({ kind: 'none' });
    expect(decideSuccession(input({ state: 'pending_reassignment', succession: waiting.succession }))).toEqual({ kind: 'none' });
  });

  it('leaves suspended and retired agents alone', () => {
    expect(decideSuccession(input({ state: 'suspended' }))).toEqual({ kind: 'none' });
    expect(decideSuccession(input({ state: 'retired' }))).toEqual({ kind: 'none' });
  });

  it('grace expiry is inclusive of the deadline', () => {
    const succession = { leaverId: 'l', proposal: { sponsorId: null, path: [], outcome: 'no_manager' as const }, since: NOW, suspendAt: NOW };
    expect(graceExpired(succession, NOW)).toBe(true);
    expect(graceExpired(succession, new Date(NOW.getTime() - 1))).toBe(false);
  });
});
