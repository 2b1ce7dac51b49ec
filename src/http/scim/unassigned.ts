/**
 * RFC 7643 §2.5: an unassigned attribute, `null` and an empty array are the same state. Tether stores that
 * state as absence, so a client that sends `"title": null`, `"emails": []` or a complex value whose
 * sub-attributes are all unassigned (`"name": {"givenName": null}`) reads back no such attribute, never a
 * `null` or an empty `{}`, and an equivalent body compares equal to what is stored (no new version).
 */
export function withoutUnassigned(resource: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(resource)) {
    const reduced = reduce(value);
    if (reduced !== undefined) kept[key] = reduced;
  }
  return kept;
}

function reduce(value: unknown): unknown {
  if (value === null) return undefined;
  if (Array.isArray(value)) {
    const elements = value.map(reduce).filter((element) => element !== undefined);
    return elements.length === 0 ? undefined : elements;
  }
  if (typeof value !== 'object') return value;
  const object = withoutUnassigned(value as Record<string, unknown>);
  return Object.keys(object).length === 0 ? undefined : object;
}
