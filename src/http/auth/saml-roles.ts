import type { Role } from '../../app/auth/tokens.js';

const RANKED: readonly Role[] = ['admin', 'operator', 'viewer'];

/** IdP groups per Tether role, from tether.yaml `admin.saml.roles`. */
export type RoleMapping = Readonly<Record<Role, readonly string[]>>;

/**
 * The highest role any of the user's IdP groups maps to, or null (no access). Group names compare
 * case-insensitively, as grant rules do; an attribute may carry one value or several.
 */
export function roleFor(mapping: RoleMapping, groupValues: unknown): Role | null {
  const values = Array.isArray(groupValues) ? groupValues : [groupValues];
  const groups = new Set(values.filter((value): value is string => typeof value === 'string').map((value) => value.toLowerCase()));
  return RANKED.find((role) => mapping[role].some((group) => groups.has(group.toLowerCase()))) ?? null;
}
