/**
 * posixGroup `memberUid` lists user names, and nothing in the directory rewrites it when a uid changes. So a
 * full reconciliation resolves such groups again even when the group entry did not change: a renamed uid
 * loses the membership, a new person taking a listed uid gains it. Against a real slapd, with full scans on
 * the scan thread as `tether start` runs them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { startSlapd, type Slapd } from '../../support/slapd.js';
import { readerSource, runSource } from '../../support/ldap-source.js';
import { storeWithPolicy } from '../../support/pipeline.js';

const PEOPLE = 'ou=people,dc=example,dc=org';
const GROUPS = 'ou=groups,dc=example,dc=org';
const person = (uid: string) => `dn: uid=${uid},${PEOPLE}\nobjectClass: inetOrgPerson\nuid: ${uid}\ncn: ${uid}\nsn: ${uid}\n`;

describe('posixGroup memberUid against a real slapd', () => {
  let slapd: Slapd;
  let database: TestDatabase;
  let store: Store;

  beforeAll(async () => {
    slapd = await startSlapd(`${person('dave')}\n${person('erin')}\ndn: cn=engineers,${GROUPS}\nobjectClass: posixGroup\ncn: engineers\ngidNumber: 5000\nmemberUid: dave\nmemberUid: frank\n`);
    database = await createTestDatabase();
    ({ store } = await storeWithPolicy(database.db));
    await store.upsertSources([{ id: 'corp', kind: 'ldap', displayName: 'Corp' }]);
  }, 60_000);

  afterAll(async () => {
    await slapd?.stop();
    await database?.drop();
  });

  const sync = (mode: 'delta' | 'full') => runSource(store, readerSource(slapd, { clockSkewSeconds: 5 }), mode, { thread: true });
  const engineers = async () => (await database.db.query<{ user_name: string }>(
    `select p.user_name from memberships m join groups g on g.id = m.group_id join persons p on p.id = m.member_id
      where g.display_name = 'engineers' order by 1`,
  )).rows.map((row) => row.user_name);
  const groupEvents = async () => (await database.db.query<{ n: number }>(`select count(*)::int as n from change_events where subject_type = 'group'`)).rows[0]?.n;

  it('a full reconciliation of an unchanged directory resolves the group again and changes nothing', async () => {
    expect(await sync('full')).toMatchObject({ status: 'succeeded', counts: { changed: 3 } });
    expect(await engineers()).toEqual(['dave']);
    const events = await groupEvents();
    expect(await sync('full')).toMatchObject({ status: 'succeeded', counts: { seen: 3, changed: 0 } });
    expect(await groupEvents()).toBe(events);
  });

  it('a renamed uid loses the membership at the next full reconciliation; a person taking a listed uid joins', async () => {
    await slapd.modify(`dn: uid=dave,${PEOPLE}\nchangetype: modrdn\nnewrdn: uid=dave2\ndeleteoldrdn: 1\n`);
    expect(await sync('delta')).toMatchObject({ status: 'succeeded', mode: 'delta', counts: { changed: 1 } });
    // A delta poll reads the group only if its entry changed (here it may, inside the clock-skew window of
    // a directory loaded seconds ago); the full reconciliation resolves it in any case.
    expect(await sync('full')).toMatchObject({ status: 'succeeded', counts: { changed: 0 } });
    expect(await engineers()).toEqual([]);
    // `dave` and `frank` are listed and now unresolved: whoever takes those names joins, in a delta poll.
    await slapd.modify(`dn: uid=frank,${PEOPLE}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: frank\ncn: frank\nsn: frank\n`);
    await slapd.modify(`dn: uid=dave,${PEOPLE}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: dave\ncn: dave\nsn: dave\n`);
    await sync('delta');
    expect(await engineers()).toEqual(['dave', 'frank']);
  });
});
