/**
 * How a directory person's facts become a mirror write, and the references other entries may hold to it:
 * shared by the per-entry and the set-based apply paths so both write the same rows. Pure.
 */
import { isDeepStrictEqual } from 'node:util';
import type { PersonRecord, PersonWrite } from '../records.js';
import { managerRef, withManager } from './ldap-manager-ref.js';
import { normalizeDn } from './ldap-tx.js';
import type { PersonFacts } from './sync-ports.js';

/** The pending reference a posixGroup holds for a `memberUid` no mirrored person has yet. */
export const uidRef = (userName: string) => `uid:${userName.toLowerCase()}`;

export function personWrite(facts: PersonFacts, managerId: string | null): PersonWrite {
  return {
    externalId: facts.key,
    userName: facts.userName,
    displayName: facts.displayName,
    active: facts.active,
    attributes: withManager(facts.attributes, managerId),
    resource: {
      userName: facts.userName,
      ...(facts.displayName === null ? {} : { displayName: facts.displayName }),
      active: facts.active,
      ...(facts.email === null ? {} : { emails: [{ value: facts.email, primary: true }] }),
    },
  };
}

/**
 * The pending references that name this entry, resolved when it is mirrored (or renamed): groups that listed
 * its DN or user name, and people that named its DN as their manager.
 */
export function referencesTo(facts: PersonFacts): { dn: string; uid: string; manager: string } {
  const dnNorm = normalizeDn(facts.dn);
  return { dn: dnNorm, uid: uidRef(facts.userName), manager: managerRef(dnNorm) };
}

/** Names of changed fields only: change events never carry personal data. */
export function changedFields(before: PersonRecord, after: PersonWrite): string[] {
  const changed: string[] = [];
  if (before.active !== after.active) changed.push('active');
  if (before.userName !== after.userName) changed.push('userName');
  if (before.displayName !== after.displayName) changed.push('displayName');
  if (before.externalId !== after.externalId) changed.push('externalId');
  if (!isDeepStrictEqual(before.resource, after.resource) && !changed.includes('displayName')) changed.push('resource');
  const keys = new Set([...Object.keys(before.attributes), ...Object.keys(after.attributes)]);
  for (const key of [...keys].sort()) if (before.attributes[key] !== after.attributes[key]) changed.push(key);
  return changed;
}
