import type { Entitlement } from './types.js';

export interface EntitlementDiff {
  readonly granted: readonly string[];
  readonly revoked: readonly string[];
  /** Tools held before and after whose explanation changed (another rule, group or delegation). */
  readonly reexplained: readonly string[];
}

/** What changes from `before` to `after`, by tool id; outputs are sorted. */
export function diffEntitlements(before: readonly Entitlement[], after: readonly Entitlement[]): EntitlementDiff {
  const beforeById = new Map(before.map((entitlement) => [entitlement.toolId, entitlement]));
  const afterById = new Map(after.map((entitlement) => [entitlement.toolId, entitlement]));
  const granted = [...afterById.keys()].filter((toolId) => !beforeById.has(toolId)).sort();
  const revoked = [...beforeById.keys()].filter((toolId) => !afterById.has(toolId)).sort();
  const reexplained = [...afterById.entries()]
    .filter(([toolId, entitlement]) => {
      const previous = beforeById.get(toolId);
      return previous !== undefined && provenanceKey(previous) !== provenanceKey(entitlement);
    })
    .map(([toolId]) => toolId)
    .sort();
  return { granted, revoked, reexplained };
}

export function isEmptyDiff(diff: EntitlementDiff): boolean {
  return diff.granted.length === 0 && diff.revoked.length === 0 && diff.reexplained.length === 0;
}

function provenanceKey(entitlement: Entitlement): string {
  const { ruleId, ruleVersion, via, delegationId } = entitlement.provenance;
  const viaKey = via.kind === 'group' ? `g:${via.groupId}:${via.groupName}` : `a:${via.attribute}=${via.value}`;
  return `${ruleId}@${ruleVersion}|${viaKey}|${delegationId}|${entitlement.risk}|${entitlement.system}`;
}
