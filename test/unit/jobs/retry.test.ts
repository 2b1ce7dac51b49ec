import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { retryDelayMs } from '../../../jobs/retry.js';
import { AppError } from '../../../src/domain/errors.js';

describe('retry delay', () => {
  const policy = { baseDelayMs: 1000, maxDelayMs: 60_000 };

  it('grows exponentially with jitter in the upper half and is capped', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), (attempt, random) => {
        const delay = retryDelayMs(policy, attempt, new Error('x'), () => random);
        const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
        expect(delay).toBeGreaterThanOrEqual(Math.floor(exponential / 2));
        expect(delay).toBeLessThanOrEqual(exponential);
      }),
    );
  });

  it('never retries sooner than the Retry-After a target sent', () => {
    const error = new AppError('target_unavailable', 'busy', { retryAfterSeconds: 120 });
    expect(retryDelayMs(policy, 1, error, () => 0)).toBe(120_000);
  });
});
