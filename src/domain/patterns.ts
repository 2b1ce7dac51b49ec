/**
 * Tool patterns: an exact id (`crm.contacts.read`), a prefix wildcard on a dot boundary (`crm.*` covers
 * `crm.contacts.read` but not `crmx.read`), or `*` for every tool.
 */
export function toolMatches(pattern: string, toolId: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return toolId.startsWith(pattern.slice(0, -1));
  return pattern === toolId;
}

export function anyToolMatches(patterns: readonly string[], toolId: string): boolean {
  return patterns.some((pattern) => toolMatches(pattern, toolId));
}

const PATTERN = /^(\*|[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*(\.\*)?)$/i;

export function isToolPattern(value: string): boolean {
  return PATTERN.test(value);
}
