import { describe, expect, it } from 'vitest';
import { memberDelta } from '../../../src/app/directory/ldap-group-members.js';
import { shouldRefreshStatistics, statisticsStale } from '../../../src/app/directory/ldap-statistics.js';
import { managerDns, planJoiners, referenceTargets, resolveTaken, splitJoiners, type StagedPerson } from '../../../src/app/directory/ldap-joiners.js';
import type { PersonFacts } from '../../../src/app/directory/sync-ports.js';

const dnOf = (uid: string) => `uid=${uid},ou=people,dc=example,dc=org`;

function staged(uid: string, overrides: Partial<PersonFacts> = {}): StagedPerson {
  return {
    key: `key-${uid}`, hash: `hash-${uid}`,
    facts: { key: `key-${uid}`, dn: dnOf(uid), userName: uid, displayName: null, email: null, active: true, attributes: { manager: 'raw-dn' }, managerDn: null, sourceTime: null, ...overrides },
  };
}

describe('planning the set-based apply of joiners', () => {
  it('takes the first row of each unmirrored key as a joiner; updates and repeated keys go entry by entry', () => {
    const rows = [staged('a'), staged('b'), { ...staged('a'), hash: 'again' }, staged('c')];
    const { joiners, rest } = splitJoiners(rows, new Set(['key-b']));
    expect(joiners.map((row) => row.key)).toEqual(['key-a', 'key-c']);
    expect(rest.map((row) => [row.key, row.hash])).toEqual([['key-b', 'hash-b'], ['key-a', 'again']]);
  });

  it('resolves a manager among mirrored people first, then among the chunk, else holds a pending reference', () => {
    const rows = [
      staged('ann', { managerDn: dnOf('BOSS') }), staged('boss'), staged('cat', { managerDn: ` UID=old , ou=people,dc=example,dc=org` }),
      staged('dan', { managerDn: dnOf('nobody') }), staged('eve'),
    ];
    expect(managerDns(rows)).toEqual([dnOf('boss'), dnOf('old'), dnOf('nobody')]);
    let next = 0;
    const planned = planJoiners(rows, new Map([[dnOf('old'), 'old-id']]), () => `id-${(next += 1)}`);
    expect(planned.map((joiner) => [joiner.id, joiner.write.attributes['manager'] ?? null, joiner.pendingRefs])).toEqual([
      ['id-1', 'id-2', []], ['id-2', null, []], ['id-3', 'old-id', []], ['id-4', null, [`manager:${dnOf('nobody')}`]], ['id-5', null, []],
    ]);
    // The raw DN mapped from the directory is never kept as a rule value.
    expect(planned[1]?.write.attributes).toEqual({});
  });

  it('maps taken references back: memberships to the joiner named, manager references to adoptions', () => {
    const planned = planJoiners([staged('ann'), staged('Bob')], new Map(), (() => { let n = 0; return () => `id-${(n += 1)}`; })());
    const targets = referenceTargets(planned);
    expect(targets).toEqual([
      { ref: dnOf('ann'), memberId: 'id-1', ownerId: 'id-1' }, { ref: 'uid:ann', memberId: 'id-1', ownerId: 'id-1' },
      { ref: `manager:${dnOf('ann')}`, memberId: null, ownerId: 'id-1' },
      { ref: dnOf('bob'), memberId: 'id-2', ownerId: 'id-2' }, { ref: 'uid:bob', memberId: 'id-2', ownerId: 'id-2' },
      { ref: `manager:${dnOf('bob')}`, memberId: null, ownerId: 'id-2' },
    ]);
    const { groupsOf, adoptions } = resolveTaken(
      targets,
      [{ groupId: 'g1', ref: dnOf('ann') }, { groupId: 'g1', ref: 'uid:ann' }, { groupId: 'waiter', ref: `manager:${dnOf('bob')}` }],
      [{ groupId: 'g1', memberId: 'id-1' }],
    );
    expect([...groupsOf]).toEqual([['id-1', ['g1']]]);
    expect(adoptions).toEqual([{ personId: 'waiter', managerId: 'id-2' }]);
  });
});

describe('a group member delta', () => {
  it('adds what is wanted and missing, removes what is no longer listed, keeps unknown and agent references pending', () => {
    const byDn = new Map([
      [dnOf('ann'), { objectId: 'p-ann', type: 'person' as const }],
      ['cn=sub,ou=groups', { objectId: 'g-sub', type: 'group' as const }],
      ['cn=self,ou=groups', { objectId: 'g-self', type: 'group' as const }],
      ['cn=bot,ou=agents', { objectId: 'a-bot', type: 'agent' as const }],
    ]);
    const delta = memberDelta(
      { memberDns: [dnOf('ANN'), 'cn=sub, ou=groups', 'cn=self,ou=groups', 'cn=bot,ou=agents', dnOf('ghost')], memberUids: ['Zed', 'nobody'] },
      'g-self', { byDn, byUid: new Map([['zed', 'p-zed']]) }, new Set(['p-ann', 'p-gone']),
    );
    expect(delta.add).toEqual([{ id: 'g-sub', type: 'Group', display: null }, { id: 'p-zed', type: 'User', display: null }]);
    expect(delta.removeIds).toEqual(['p-gone']);
    expect(delta.pending).toEqual(['cn=bot,ou=agents', dnOf('ghost'), 'uid:nobody']);
  });
});

describe('refreshing the mirror statistics after a run', () => {
  it('only after a chunk or more, when the mirror was never analyzed or grew by more than 10%', () => {
    expect(shouldRefreshStatistics(499, null, 500)).toBe(false);
    expect(shouldRefreshStatistics(500, null, 500)).toBe(true);
    expect(shouldRefreshStatistics(20_000, 0, 500)).toBe(true);
    expect(shouldRefreshStatistics(1_000, 100_000, 500)).toBe(false);
    expect(shouldRefreshStatistics(10_001, 100_000, 500)).toBe(true);
  });

  it('while a run fills the mirror: once it holds a chunk, then each time it has more than tripled', () => {
    expect(statisticsStale(499, null, 500)).toBe(false);
    expect(statisticsStale(500, null, 500)).toBe(true);
    expect(statisticsStale(1_000, 500, 500)).toBe(false);
    expect(statisticsStale(1_001, 500, 500)).toBe(true);
    expect(statisticsStale(5_000, 100_000, 500)).toBe(false);
  });
});
