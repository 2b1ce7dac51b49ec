import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bindingLimit, decideDelegationExpiry, describeLifetime } from '../../../src/domain/delegation-lifetime.js';
import { RISK_CLASSES } from '../../../src/domain/types.js';

const NOW = new Date('2025-06-01T00:00:00Z');
const DAY = 86_400_000;

describe('bindingLimit', () => {
  it('takes the shortest limit among the risk classes present, ignoring unlimited ones and absent classes', () => {
    const limits = { read: 365 * DAY, write: 90 * DAY, orchestrate: 30 * DAY };
    expect(bindingLimit(['read'], limits)).toEqual({ risk: 'read', maxMs: 365 * DAY });
    expect(bindingLimit(['read', 'write'], limits)).toEqual({ risk: 'write', maxMs: 90 * DAY });
    expect(bindingLimit(['read', 'orchestrate', 'write'], limits)).toEqual({ risk: 'orchestrate', maxMs: 30 * DAY });
    expect(bindingLimit(['read', 'write'], { orchestrate: DAY })).toBeNull();
    expect(bindingLimit([], limits)).toBeNull();
  });

  it('never exceeds the limit of any class present (property)', () => {
    const risks = fc.subarray([...RISK_CLASSES]);
    const limits = fc.record({ read: fc.integer({ min: 1, max: 1e9 }), write: fc.integer({ min: 1, max: 1e9 }), orchestrate: fc.integer({ min: 1, max: 1e9 }) }, { requiredKeys: [] });
    fc.assert(fc.property(risks, limits, (present, configured) => {
      const binding = bindingLimit(present, configured);
      for (const risk of present) {
        const limit = configured[risk];
        if (limit !== undefined) expect(binding?.maxMs).toBeLessThanOrEqual(limit);
      }
      if (binding === null) expect(present.every((risk) => configured[risk] === undefined)).toBe(true);
    }));
  });
});

describe('decideDelegationExpiry', () => {
  const limit = { risk: 'write' as const, maxMs: 90 * DAY };

  it('keeps what was asked when there is no limit, even no expiry at all', () => {
    expect(decideDelegationExpiry({ requested: null, notBefore: null, now: NOW, limit: null })).toEqual({ ok: true, expiresAt: null, defaulted: false });
  });

  it('gives a missing expiry the longest allowed lifetime, counted from notBefore when that is later', () => {
    expect(decideDelegationExpiry({ requested: null, notBefore: null, now: NOW, limit })).toEqual({ ok: true, expiresAt: new Date(NOW.getTime() + 90 * DAY), defaulted: true });
    const later = new Date(NOW.getTime() + 10 * DAY);
    expect(decideDelegationExpiry({ requested: null, notBefore: later, now: NOW, limit })).toMatchObject({ expiresAt: new Date(later.getTime() + 90 * DAY) });
    const earlier = new Date(NOW.getTime() - 10 * DAY);
    expect(decideDelegationExpiry({ requested: null, notBefore: earlier, now: NOW, limit })).toMatchObject({ expiresAt: new Date(NOW.getTime() + 90 * DAY) });
  });

  it('accepts the limit exactly and refuses one millisecond more, naming the latest allowed instant', () => {
    const latest = new Date(NOW.getTime() + 90 * DAY);
    expect(decideDelegationExpiry({ requested: latest, notBefore: null, now: NOW, limit })).toEqual({ ok: true, expiresAt: latest, defaulted: false });
    expect(decideDelegationExpiry({ requested: new Date(latest.getTime() + 1), notBefore: null, now: NOW, limit })).toEqual({ ok: false, limit, latest });
  });

  it('describes limits the way the config names them', () => {
    expect(describeLifetime(90 * DAY)).toBe('90 days');
    expect(describeLifetime(DAY)).toBe('1 day');
    expect(describeLifetime(DAY / 2)).toBe('12 hours');
  });
});
