/**
 * What a group's direct members should become, from the directory's member DNs and posixGroup memberUids
 * and the mirrored entries they resolve to: the members to add and remove (an O(changed) delta), and the
 * references nothing mirrored answers yet (kept pending until an entry appears; as listed, duplicates included). Pure: shared by the
 * entry-by-entry and the set-based pass 2 so both decide alike.
 */
import type { GroupMember } from '../records.js';
import { uidRef } from './ldap-person-write.js';
import { normalizeDn } from './ldap-tx.js';
import type { GroupFacts, ObjectType } from './sync-ports.js';

export interface MemberLookups {
  /** Mirrored entries by normalised DN. */
  readonly byDn: ReadonlyMap<string, { objectId: string; type: ObjectType }>;
  /** Live people by lower-cased user name. */
  readonly byUid: ReadonlyMap<string, string>;
}

export interface MemberDelta {
  readonly add: GroupMember[];
  readonly removeIds: string[];
  readonly pending: string[];
}

export function memberDelta(facts: Pick<GroupFacts, 'memberDns' | 'memberUids'>, groupId: string, lookups: MemberLookups, current: ReadonlySet<string>): MemberDelta {
  const wanted = new Map<string, GroupMember>();
  const pending: string[] = [];
  for (const dn of facts.memberDns) {
    const found = lookups.byDn.get(normalizeDn(dn));
    // An agent is never a group member; its DN waits like an unknown one.
    if (found === undefined || found.type === 'agent') pending.push(normalizeDn(dn));
    else if (found.objectId !== groupId) wanted.set(found.objectId, { id: found.objectId, type: found.type === 'person' ? 'User' : 'Group', display: null });
  }
  for (const uid of facts.memberUids) {
    const id = lookups.byUid.get(uid.toLowerCase());
    if (id === undefined) pending.push(uidRef(uid));
    else wanted.set(id, { id, type: 'User', display: null });
  }
  return {
    add: [...wanted.values()].filter((member) => !current.has(member.id)),
    removeIds: [...current].filter((id) => !wanted.has(id)),
    pending,
  };
}
