import { describe, expect, it } from 'vitest';
import { expiredAt, expiriesWithinNotice } from '../../../src/domain/expiry.js';

const NOW = new Date('2025-06-01T12:00:00Z');
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);
const DAY = 86_400_000;

describe('expiredAt', () => {
  it.each([
    ['nothing expires', null, null, null],
    ['both in the future', at(DAY), at(2 * DAY), null],
    ['the agent at exactly now', at(0), null, 'agent'],
    ['the delegation a millisecond ago', at(DAY), at(-1), 'delegation'],
    ['both passed: the agent wins, as in the entitlement computation', at(-DAY), at(-2 * DAY), 'agent'],
  ] as const)('%s', (_name, agentExpiresAt, delegationExpiresAt, expected) => {
    expect(expiredAt({ agentExpiresAt, delegationExpiresAt }, NOW)?.subject ?? null).toBe(expected);
  });
});

describe('expiriesWithinNotice', () => {
  it('lists future expiries no further away than the window, boundary included', () => {
    const facts = { agentExpiresAt: at(7 * DAY), delegationExpiresAt: at(7 * DAY + 1) };
    expect(expiriesWithinNotice(facts, NOW, 7 * DAY)).toEqual([{ subject: 'agent', expiresAt: at(7 * DAY) }]);
  });

  it('never lists a past expiry (that is the sweep\'s job) and nothing with a zero window', () => {
    expect(expiriesWithinNotice({ agentExpiresAt: at(-1), delegationExpiresAt: at(0) }, NOW, DAY)).toEqual([]);
    expect(expiriesWithinNotice({ agentExpiresAt: at(1), delegationExpiresAt: null }, NOW, 0)).toEqual([]);
  });
});
