/**
 * Renewing a run's lease on its source without a database round trip per page: a run renews at most every
 * few seconds, far inside the lease (15 minutes by default), so another worker never sees it expire while
 * the run is alive, and a killed run's lease still expires on time.
 */
const RENEW_EVERY_MS = 5_000;

/** A function to call between pages and chunks; it renews when the last renewal is old enough. */
export function leaseKeeper(renew: () => Promise<void>, clock: () => Date, leaseMs: number): () => Promise<void> {
  const every = Math.min(RENEW_EVERY_MS, leaseMs / 3);
  let last = clock().getTime();
  return async () => {
    const now = clock().getTime();
    if (now - last < every) return;
    last = now;
    await renew();
  };
}
