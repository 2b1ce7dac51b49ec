/**
 * Statements worth keeping prepared on each PostgreSQL connection: hot (run on every SCIM write or
 * recompute) and fixed text. Parsing and planning the larger of them (the change-recording and
 * membership-delta CTEs) costs about as much as executing them, so the server adapter sends these as
 * named statements and PostgreSQL plans each once per connection (then keeps the generic plan when it is
 * no worse than the custom ones, the server's own choice). Only fixed SQL with explicit column lists goes
 * here: a prepared `select *` breaks when a migration adds a column.
 */
const names = new Map<string, string>();

/** Registers `text` as a hot statement named `name` and returns the text unchanged. */
export function hot(name: string, text: string): string {
  const existing = names.get(text);
  if (existing !== undefined && existing !== name) throw new Error(`statement registered twice: ${existing} and ${name}`);
  names.set(text, `tether_${name}`);
  return text;
}

/** The prepared-statement name for `text`, if it is a registered hot statement. */
export function preparedName(text: string): string | undefined {
  return names.get(text);
}
