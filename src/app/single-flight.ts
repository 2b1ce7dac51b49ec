/**
 * Coalesces concurrent calls with the same key into one: callers that arrive while a call for their key is
 * in flight share its result (or its error). Nothing is cached: the entry is gone once the call settles, so
 * the next caller starts a fresh one.
 *
 * Why: an identity provider sends its whole burst with one bearer token, and looking that token up once per
 * request is one database round trip per request. Sharing an in-flight lookup makes it one per round trip
 * time instead. The staleness this allows is bounded by one lookup's duration — no more than a request that
 * raced a revocation would see anyway.
 */
export function singleFlight<A, R>(call: (argument: A) => Promise<R>, key: (argument: A) => string): (argument: A) => Promise<R> {
  const inFlight = new Map<string, Promise<R>>();
  return (argument: A) => {
    const id = key(argument);
    const existing = inFlight.get(id);
    if (existing !== undefined) return existing;
    const started = call(argument).finally(() => inFlight.delete(id));
    inFlight.set(id, started);
    return started;
  };
}
