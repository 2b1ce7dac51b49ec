import { describe, expect, it } from 'vitest';
import { singleFlight } from '../../../src/app/single-flight.js';

describe('singleFlight', () => {
  it('shares one in-flight call among concurrent callers of a key, and starts afresh once it settles', async () => {
    const calls: string[] = [];
    const releases: (() => void)[] = [];
    const lookup = singleFlight(async (key: string) => {
      calls.push(key);
      await new Promise<void>((release) => releases.push(release));
      return `${key}#${calls.length}`;
    }, (key) => key);
    const concurrent = Promise.all([lookup('a'), lookup('a'), lookup('b')]);
    expect(calls).toEqual(['a', 'b']);
    releases.splice(0).forEach((release) => release());
    expect(await concurrent).toEqual(['a#2', 'a#2', 'b#2']);
    const later = lookup('a');
    expect(calls).toEqual(['a', 'b', 'a']);
    releases.splice(0).forEach((release) => release());
    expect(await later).toBe('a#3');
  });

  it('shares an error with the callers that joined, and does not keep it', async () => {
    let fail = true;
    const lookup = singleFlight(async () => {
      await Promise.resolve();
      if (fail) throw new Error('down');
      return 'up';
    }, () => 'k');
    const results = await Promise.allSettled([lookup(undefined), lookup(undefined)]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await lookup(undefined)).toBe('up');
  });
});
