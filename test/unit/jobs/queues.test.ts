import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_RECOMPUTE_IDS, recomputeJobSchema } from '../../../jobs/queues.js';

describe('recompute job payload', () => {
  const ids = (count: number) => Array.from({ length: count }, () => randomUUID());

  it('carries 1..MAX_RECOMPUTE_IDS sponsor ids', () => {
    const personIds = ids(MAX_RECOMPUTE_IDS);
    expect(recomputeJobSchema.parse({ personIds })).toEqual({ personIds });
    expect(recomputeJobSchema.parse({ personIds: personIds.slice(0, 1) })).toEqual({ personIds: personIds.slice(0, 1) });
    expect(recomputeJobSchema.safeParse({ personIds: [] }).success).toBe(false);
    expect(recomputeJobSchema.safeParse({ personIds: ids(MAX_RECOMPUTE_IDS + 1) }).success).toBe(false);
    expect(recomputeJobSchema.safeParse({ personIds: ['not-a-uuid'] }).success).toBe(false);
  });

  it('still reads the { personId } jobs of an older Tether, as one id', () => {
    const personId = randomUUID();
    expect(recomputeJobSchema.parse({ personId })).toEqual({ personIds: [personId] });
    expect(recomputeJobSchema.safeParse({ personId: 'nope' }).success).toBe(false);
  });

  it('stays strict: no extra keys, not both shapes at once', () => {
    const personId = randomUUID();
    expect(recomputeJobSchema.safeParse({ personIds: [personId], name: 'Ann' }).success).toBe(false);
    expect(recomputeJobSchema.safeParse({ personId, email: 'ann@example.com' }).success).toBe(false);
    expect(recomputeJobSchema.safeParse({ personId, personIds: [personId] }).success).toBe(false);
    expect(recomputeJobSchema.safeParse({}).success).toBe(false);
  });
});
