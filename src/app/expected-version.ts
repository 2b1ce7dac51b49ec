/**
 * Optimistic concurrency (SCIM If-Match): the versions the client accepts, or null for "any" (no header,
 * or `*`). A list, because RFC 9110 §13.1.1 lets If-Match name several entity tags; an empty list (tags
 * that name no version of ours) matches nothing, so the write is refused rather than applied blindly.
 */
export type ExpectedVersion = number | readonly number[] | null;

export function versionMatches(expected: ExpectedVersion, current: number): boolean {
  if (expected === null) return true;
  return typeof expected === 'number' ? expected === current : expected.includes(current);
}

/** The expected version(s) as a detail message shows them. */
export function describeExpected(expected: Exclude<ExpectedVersion, null>): string {
  return typeof expected === 'number' ? String(expected) : expected.length === 0 ? 'none of ours' : expected.join(' or ');
}
