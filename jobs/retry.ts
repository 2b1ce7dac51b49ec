import { isAppError } from '../src/domain/errors.js';

export interface RetryPolicy {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/**
 * Exponential backoff with full jitter in the upper half, never sooner than a Retry-After the failure
 * carried (a target asking for 120 s gets at least 120 s).
 */
export function retryDelayMs(policy: RetryPolicy, attemptsMade: number, error: unknown, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attemptsMade - 1));
  const jittered = Math.round(exponential / 2 + (random() * exponential) / 2);
  const retryAfterMs = isAppError(error) && error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : 0;
  return Math.max(jittered, Math.min(retryAfterMs, policy.maxDelayMs * 4));
}
