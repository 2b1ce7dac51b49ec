/** What an `Authorization` header presents, parsed strictly; anything else is `null`. */
export type PresentedCredentials =
  | { readonly scheme: 'bearer'; readonly token: string }
  | { readonly scheme: 'basic'; readonly username: string; readonly password: string };

/** Longer headers are refused unread (JWTs with certificate chains stay far below this). */
const MAX_HEADER_LENGTH = 16_384;

export function parseAuthorization(header: string | undefined): PresentedCredentials | null {
  if (header === undefined || header.length > MAX_HEADER_LENGTH) return null;
  const match = /^(Bearer|Basic)[ ]+(\S+)\s*$/i.exec(header);
  const scheme = match?.[1]?.toLowerCase();
  const value = match?.[2];
  if (scheme === undefined || value === undefined) return null;
  if (scheme === 'bearer') return { scheme, token: value };
  return parseBasic(value);
}

/** RFC 7617: base64 of `user-id ":" password`; the user id cannot contain a colon, the password can. */
export function parseBasic(encoded: string): PresentedCredentials | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return null;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  return { scheme: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
