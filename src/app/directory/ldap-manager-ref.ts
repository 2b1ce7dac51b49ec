/**
 * The `manager` rule attribute's pure half: the pending reference (`manager:<dn>`) a person holds while the
 * manager DN it names is not mirrored, and the attributes with the resolved manager id. A DN is never a
 * rule value: grant rules and succession read the manager's person id.
 */
const MANAGER_PREFIX = 'manager:';

/** The pending reference a person holds while the manager DN it names is not mirrored. */
export const managerRef = (dnNorm: string) => `${MANAGER_PREFIX}${dnNorm}`;
export const isManagerRef = (ref: string) => ref.startsWith(MANAGER_PREFIX);

/** Rule attributes with `manager` set to the resolved id, or without it. */
export function withManager(attributes: Readonly<Record<string, string>>, managerId: string | null): Record<string, string> {
  const { manager: _mapped, ...rest } = attributes;
  return managerId === null ? rest : { ...rest, manager: managerId };
}

/** A person that waited for its manager (a taken `manager:` reference), and that manager's person id now. */
export interface Adoption {
  readonly personId: string;
  readonly managerId: string;
}
