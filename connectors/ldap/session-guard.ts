/**
 * Two ldapts (8.2) behaviours a directory sync cannot live with, corrected at the one place every request
 * passes through, the client's internal `_ensureConnected` and `_send`:
 *
 * 1. A paged search stops at the first page that holds no entries, even when the server's paged-results
 *    control still carries a cookie. RFC 2696 §3 says only an empty cookie ends the search, and Active
 *    Directory does send empty pages mid-search (a sparse filter over a large container). Stopping there
 *    silently truncates the scan, and the sweep then reads every entry after it as deleted. The guard marks
 *    such a response as not empty (an empty referral list, which adds no referral), so ldapts follows the
 *    cookie.
 * 2. A connection the server or a firewall dropped is reopened transparently by the next request, unbound
 *    (anonymous) and, after StartTLS, in plain text. An anonymous reader may see fewer entries or attributes
 *    (ACL-hidden people look deleted, a hidden lock attribute looks unlocked). Every operation first calls
 *    the client's `_ensureConnected`, which is where the guard refuses: once the session is bound, a
 *    dropped connection fails the operation as `unavailable`, and the run is retried on a new, bound session.
 *
 * It relies on ldapts internals, so ldapts is pinned to an exact version and `guardSession` throws at once
 * when the internals it needs are missing (tests fail on an upgrade rather than the guard silently lapsing).
 */
import { PagedResultsControl, SearchReference, type Client } from 'ldapts';
import { AppError } from '../../src/domain/errors.js';

interface SearchResponseShape {
  searchEntries?: unknown[];
  searchReferences?: unknown[];
  controls?: unknown[];
}

interface ClientInternals {
  _ensureConnected(): Promise<void>;
  _send(message: unknown): Promise<SearchResponseShape | undefined>;
  readonly isConnected: boolean;
}

/** Wraps the client's request path; call it after the bind succeeded. `where` names the source in errors. */
export function guardSession(client: Client, where: string): void {
  const internals = client as unknown as ClientInternals;
  if (typeof internals._send !== 'function' || typeof internals._ensureConnected !== 'function') {
    throw new Error('ldapts internals changed: Client._send or Client._ensureConnected is missing (connectors/ldap/session-guard.ts)');
  }
  const send = internals._send.bind(internals);
  internals._ensureConnected = () => internals.isConnected
    ? Promise.resolve()
    : Promise.reject(new AppError('unavailable', `${where}: the connection to the server was lost; not reconnecting unbound (the run is retried on a new session)`));
  internals._send = async (message: unknown) => {
    const response = await send(message);
    if (response !== undefined && continuesPaging(response)) {
      response.searchReferences = [new SearchReference({ messageId: 0, uris: [] })];
    }
    return response;
  };
}

/** A page with no entries and no referrals whose paged-results control still holds a cookie. */
function continuesPaging(response: SearchResponseShape): boolean {
  if ((response.searchEntries?.length ?? 0) > 0 || (response.searchReferences?.length ?? 0) > 0) return false;
  const paging = response.controls?.find((control): control is PagedResultsControl => control instanceof PagedResultsControl);
  return (paging?.value?.cookie?.length ?? 0) > 0;
}
