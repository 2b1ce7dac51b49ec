/**
 * Group commit: many concurrent callers, one round of database work. Each caller submits one item and gets
 * its own result or error; items that arrive while a flush is in flight wait and go together in the next
 * one, so batches grow with load and an idle system pays no added delay (nothing waits on a timer).
 *
 * Why: a SCIM PATCH is a handful of small statements, and at load PostgreSQL spends its time on per-statement
 * and per-transaction overhead, not on the rows. Fifty concurrent PATCHes done as one transaction of
 * set-based statements cost about what one does.
 *
 * Guarantees:
 * - Items with the same key never share a flush and never run in two flushes at once: a later item for a
 *   key waits until the earlier one's flush has settled, so per-key order is submission order.
 * - One item's failure is that item's: `flush` reports outcomes per item. When `flush` throws as a whole
 *   (a constraint violated by one row, a deadlock), each item of that batch is retried alone, so the error
 *   reaches only the caller whose item causes it.
 */
export type Outcome<R> = { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: unknown };

export interface GroupCommitOptions<T, R> {
  /** Runs one batch; returns one outcome per item, in order. */
  readonly flush: (items: readonly T[]) => Promise<readonly Outcome<R>[]>;
  /** Serialization key (e.g. the row id): items with equal keys are never in flight together. */
  readonly key: (item: T) => string;
  readonly maxBatch: number;
  /** Flushes in flight at once (each holds one database connection). */
  readonly maxInFlight: number;
}

export interface GroupCommit<T, R> {
  submit(item: T): Promise<R>;
}

interface Waiting<T, R> {
  readonly item: T;
  readonly key: string;
  readonly resolve: (value: R) => void;
  readonly reject: (error: unknown) => void;
}

export function groupCommit<T, R>(options: GroupCommitOptions<T, R>): GroupCommit<T, R> {
  if (options.maxBatch < 1 || options.maxInFlight < 1) throw new RangeError('maxBatch and maxInFlight must be at least 1');
  const queue: Waiting<T, R>[] = [];
  const busyKeys = new Set<string>();
  let inFlight = 0;

  const settle = (entry: Waiting<T, R>, outcome: Outcome<R> | undefined): void => {
    if (outcome === undefined) entry.reject(new Error('group commit: flush returned no outcome for an item'));
    else if (outcome.ok) entry.resolve(outcome.value);
    else entry.reject(outcome.error);
  };

  const runBatch = async (batch: readonly Waiting<T, R>[]): Promise<void> => {
    try {
      const outcomes = await options.flush(batch.map((entry) => entry.item));
      batch.forEach((entry, index) => settle(entry, outcomes[index]));
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      // Attribute the failure: each item alone, in order (same keys never share a batch, so order is free).
      for (const entry of batch) {
        try {
          const [outcome] = await options.flush([entry.item]);
          settle(entry, outcome);
        } catch (single) {
          entry.reject(single);
        }
      }
    }
  };

  const pump = (): void => {
    while (inFlight < options.maxInFlight && queue.length > 0) {
      const batch: Waiting<T, R>[] = [];
      const batchKeys = new Set<string>();
      for (let index = 0; index < queue.length && batch.length < options.maxBatch; ) {
        const entry = queue[index]!;
        // A key already in flight, or already in this batch, waits: an earlier item of that key must land first.
        if (busyKeys.has(entry.key) || batchKeys.has(entry.key)) {
          index += 1;
          continue;
        }
        batchKeys.add(entry.key);
        batch.push(entry);
        queue.splice(index, 1);
      }
      if (batch.length === 0) return;
      for (const key of batchKeys) busyKeys.add(key);
      inFlight += 1;
      void runBatch(batch).finally(() => {
        inFlight -= 1;
        for (const key of batchKeys) busyKeys.delete(key);
        pump();
      });
    }
  };

  return {
    submit(item: T): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, key: options.key(item), resolve, reject });
        pump();
      });
    },
  };
}
