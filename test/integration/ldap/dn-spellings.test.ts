/**
 * One DN, several spellings, against a real slapd: slapd returns an entry added as `cn=Doe\, Jane` as
 * `cn=Doe\2C Jane`, while a `member` value loaded with slapadd keeps its LDIF spelling; case, spaces and
 * the AVA order of a multi-valued RDN vary too. Every spelling must resolve to its person.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as dnMigration from '../../../src/store/migrations/011-ldap-dn-canonical.js';
import type { Store } from '../../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { startSlapd, type Slapd } from '../../support/slapd.js';
import { readerSource, runSource } from '../../support/ldap-source.js';
import { storeWithPolicy } from '../../support/pipeline.js';

const PEOPLE = 'ou=people,dc=example,dc=org';
const GROUPS = 'ou=groups,dc=example,dc=org';

const LDIF = `dn: cn=Doe\\, Jane,${PEOPLE}
objectClass: inetOrgPerson
cn: Doe, Jane
sn: Doe
uid: jdoe

dn: cn=Smith\\, John,${PEOPLE}
objectClass: inetOrgPerson
cn: Smith, John
sn: Smith
uid: jsmith

dn: cn=Ann+uid=ann,${PEOPLE}
objectClass: inetOrgPerson
cn: Ann
sn: A
uid: ann

dn: uid=plain,${PEOPLE}
objectClass: inetOrgPerson
cn: Plain
sn: P
uid: plain

dn: cn=Team,${GROUPS}
objectClass: groupOfNames
cn: Team
member: cn=Doe\\, Jane,${PEOPLE}
member: CN=Smith\\2C John, OU=People,DC=example,DC=org
member: uid=ann+cn=ann,${PEOPLE}
`;

describe('LDAP member DNs in any spelling, against a real slapd', () => {
  let slapd: Slapd;
  let database: TestDatabase;
  let store: Store;

  beforeAll(async () => {
    slapd = await startSlapd(LDIF);
    database = await createTestDatabase();
    ({ store } = await storeWithPolicy(database.db));
    await store.upsertSources([{ id: 'corp', kind: 'ldap', displayName: 'Corp' }]);
  }, 60_000);

  afterAll(async () => {
    await slapd?.stop();
    await database?.drop();
  });

  it('resolves escaped, hex-escaped, re-cased and re-ordered member DNs to their people', async () => {
    expect(await runSource(store, readerSource(slapd), 'full')).toMatchObject({ status: 'succeeded', counts: { seen: 5 } });
    const members = await database.db.query<{ user_name: string }>(
      `select p.user_name from memberships m join groups g on g.id = m.group_id join persons p on p.id = m.member_id where g.display_name = 'Team' order by 1`,
    );
    expect(members.rows.map((row) => row.user_name)).toEqual(['ann', 'jdoe', 'jsmith']);
    const pending = await database.db.query<{ n: number }>('select count(*)::int as n from sync_pending_members');
    expect(pending.rows[0]?.n).toBe(0);
  });

  it('the upgrade marks entries whose stored DN form may have changed, and every group, for the next run, which is a full one', async () => {
    await database.db.query(`update sync_state set cursor = '{"kind":"time","at":"2025-01-01T00:00:00.000Z"}' where source_id = 'corp'`);
    await database.db.exec(dnMigration.sql);
    const marked = await database.db.query<{ dn: string; type: string }>(
      `select dn, object_type as type from sync_objects where source_id = 'corp' and facts_hash is null order by dn`,
    );
    expect(marked.rows.map((row) => row.type).sort()).toEqual(['group', 'person', 'person', 'person']);
    expect(marked.rows.map((row) => row.dn)).not.toContain(`uid=plain,${PEOPLE}`);
    expect((await database.db.query<{ cursor: unknown }>(`select cursor from sync_state where source_id = 'corp'`)).rows[0]?.cursor).toBeNull();
  });
});
