/** Joiner / mover / leaver classification of one person's directory change (design.md §2). */

export type ChangeKind = 'joiner' | 'mover' | 'leaver' | 'noop';

export interface PersonState {
  readonly active: boolean;
  /** Ids of the groups the person is a direct member of. */
  readonly groupIds: readonly string[];
  /** Attributes that grant rules may look at. */
  readonly attributes: Readonly<Record<string, string>>;
}

/** `null` means the person does not exist (not yet created, or deleted). */
export function classifyChange(before: PersonState | null, after: PersonState | null): ChangeKind {
  const wasActive = before?.active === true;
  const isActive = after?.active === true;
  if (!wasActive && isActive) return 'joiner';
  if (wasActive && !isActive) return 'leaver';
  if (!wasActive && !isActive) return 'noop';
  const previous = before as PersonState;
  const current = after as PersonState;
  return sameSet(previous.groupIds, current.groupIds) && sameRecord(previous.attributes, current.attributes)
    ? 'noop'
    : 'mover';
}

function sameSet(left: readonly string[], right: readonly string[]): boolean {
  const leftSet = new Set(left);
  const rightSet = new Set(right);
  if (leftSet.size !== rightSet.size) return false;
  for (const item of leftSet) if (!rightSet.has(item)) return false;
  return true;
}

function sameRecord(left: Readonly<Record<string, string>>, right: Readonly<Record<string, string>>): boolean {
  const keys = new Set([...Object.keys(left), ...Object.keys(right)]);
  for (const key of keys) if (left[key] !== right[key]) return false;
  return true;
}
