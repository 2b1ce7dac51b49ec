import { describe, expect, it } from 'vitest';
import { DEFAULT_MASS_CHANGE_POLICY, massChangeVerdict } from '../../../src/domain/mass-change.js';

const verdict = (population: number, deletions: number, deactivations = 0, confirmedRemovals: number | null = null) =>
  massChangeVerdict(DEFAULT_MASS_CHANGE_POLICY, { population, deletions, deactivations, confirmedRemovals });

describe('mass-change circuit breaker', () => {
  it('never holds a single leaver, even in a tiny source', () => {
    expect(verdict(3, 1).hold).toBe(false);
    expect(verdict(1, 0, 1).hold).toBe(false);
  });
  it('holds when removals exceed 10% of the people', () => {
    expect(verdict(100, 10).hold).toBe(false);
    const held = verdict(100, 8, 3);
    expect(held).toMatchObject({ hold: true, removals: 11, limit: 10 });
    if (held.hold) expect(held.reason).toMatch(/would remove 11 of 100 people \(11%: 8 deleted, 3 deactivated\)/);
  });
  it('holds a run that would empty the source (a wrong base DN)', () => {
    expect(verdict(5000, 5000).hold).toBe(true);
  });
  it('a confirmation allows about the confirmed number of removals, not unlimited ones', () => {
    expect(verdict(100, 50, 0, 50).hold).toBe(false);
    expect(verdict(100, 55, 0, 50).hold).toBe(false);
    expect(verdict(100, 90, 0, 50).hold).toBe(true);
  });
});
