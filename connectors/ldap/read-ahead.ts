/**
 * Pages read one ahead: the request for page n+1 goes out as page n is handed over, so the directory server
 * and the network work on the next page while the caller checks the current one against the mirror.
 * ldapts' paged search only asks for the next page when the consumer pulls, which would leave the server
 * idle during the caller's database round trips and the caller idle during the server's search.
 */
export async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let next = iterator.next();
  let done = false;
  try {
    for (;;) {
      const current = await next;
      if (current.done === true) {
        done = true;
        return;
      }
      next = iterator.next();
      // Awaited on the next turn; if the caller stops first, a failure of the page read ahead is moot.
      next.catch(() => undefined);
      yield current.value;
    }
  } finally {
    // The caller stopped early (or failed): end the search instead of leaving it half-read.
    if (!done) await iterator.return?.().catch(() => undefined);
  }
}
