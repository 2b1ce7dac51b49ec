import { describe, expect, it } from 'vitest';
import { groupCommit, type Outcome } from '../../../src/app/group-commit.js';

interface Item { readonly key: string; readonly value: number }

/** A flush that records its batches and finishes when the test releases it. */
function harness(options: { maxBatch?: number; maxInFlight?: number; failWhole?: (items: readonly Item[]) => boolean } = {}) {
  const batches: Item[][] = [];
  const releases: (() => void)[] = [];
  const commit = groupCommit<Item, number>({
    maxBatch: options.maxBatch ?? 10,
    maxInFlight: options.maxInFlight ?? 1,
    key: (item) => item.key,
    flush: async (items) => {
      batches.push([...items]);
      await new Promise<void>((release) => releases.push(release));
      if (options.failWhole?.(items) === true) throw new Error(`batch of ${items.length} failed`);
      return items.map((item): Outcome<number> => (item.value < 0 ? { ok: false, error: new Error(`bad ${item.value}`) } : { ok: true, value: item.value * 2 }));
    },
  });
  const releaseAll = async () => {
    // Release in rounds: each release may start the next batch.
    for (let round = 0; round < 20; round += 1) {
      await new Promise((resolve) => setImmediate(resolve));
      while (releases.length > 0) releases.shift()!();
    }
  };
  return { commit, batches, releaseAll };
}

describe('group commit', () => {
  it('runs the first item at once and gathers those that arrive meanwhile into one batch', async () => {
    const { commit, batches, releaseAll } = harness();
    const results = Promise.all([1, 2, 3, 4].map((value) => commit.submit({ key: `k${value}`, value })));
    await releaseAll();
    expect(await results).toEqual([2, 4, 6, 8]);
    expect(batches.map((batch) => batch.map((item) => item.value))).toEqual([[1], [2, 3, 4]]);
  });

  it('caps the batch size', async () => {
    const { commit, batches, releaseAll } = harness({ maxBatch: 2 });
    const results = Promise.all([1, 2, 3, 4, 5].map((value) => commit.submit({ key: `k${value}`, value })));
    await releaseAll();
    await results;
    expect(batches.map((batch) => batch.length)).toEqual([1, 2, 2]);
  });

  it('never puts two items with one key in a batch or in flight together, and keeps their order', async () => {
    const { commit, batches, releaseAll } = harness({ maxInFlight: 3 });
    const results = Promise.all([
      commit.submit({ key: 'a', value: 1 }),
      commit.submit({ key: 'a', value: 2 }),
      commit.submit({ key: 'b', value: 3 }),
      commit.submit({ key: 'a', value: 4 }),
    ]);
    await releaseAll();
    expect(await results).toEqual([2, 4, 6, 8]);
    const aValues = batches.flat().filter((item) => item.key === 'a').map((item) => item.value);
    expect(aValues).toEqual([1, 2, 4]);
    for (const batch of batches) expect(new Set(batch.map((item) => item.key)).size).toBe(batch.length);
    // a:1 alone in flight; b:3 may join a second concurrent flush; a:2 and a:4 each wait for the previous a.
    expect(batches.length).toBe(4);
  });

  it('gives each caller its own outcome', async () => {
    const { commit, releaseAll } = harness();
    const settled = Promise.allSettled([1, -2, 3].map((value) => commit.submit({ key: `k${value}`, value })));
    await releaseAll();
    const outcomes = await settled;
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toEqual(new Error('bad -2'));
  });

  it('retries each item alone when a whole batch fails, so only the culprit sees the error', async () => {
    // Any batch holding the poisoned key fails as a whole (as a unique violation fails one statement).
    const { commit, batches, releaseAll } = harness({ failWhole: (items) => items.some((item) => item.key === 'poison') });
    const settled = Promise.allSettled([
      commit.submit({ key: 'first', value: 1 }),
      commit.submit({ key: 'x', value: 2 }),
      commit.submit({ key: 'poison', value: 3 }),
      commit.submit({ key: 'y', value: 4 }),
    ]);
    await releaseAll();
    const outcomes = await settled;
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[2] as PromiseRejectedResult).reason).toEqual(new Error('batch of 1 failed'));
    expect(batches.map((batch) => batch.map((item) => item.key))).toEqual([['first'], ['x', 'poison', 'y'], ['x'], ['poison'], ['y']]);
  });

  it('rejects limits below one', () => {
    expect(() => groupCommit({ maxBatch: 0, maxInFlight: 1, key: () => '', flush: async () => [] })).toThrow(RangeError);
  });
});
