/**
 * A bound session whose connection the server closes (slapd's idletimeout, as AD's MaxConnIdleTime or a
 * firewall would): the next operation fails as `unavailable` instead of ldapts reopening the connection
 * unbound, where an anonymous reader could see fewer entries than the bound one.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectLdap } from '../../../connectors/ldap/client.js';
import { ldapSourceSchema } from '../../../connectors/ldap/config.js';
import { secretReference } from '../../../src/config/secrets.js';
import { READER_DN, READER_PASSWORD, startSlapd, type Slapd } from '../../support/slapd.js';

const PEOPLE = 'ou=people,dc=example,dc=org';

describe('LDAP session against a real slapd that closes idle connections', () => {
  let slapd: Slapd;

  beforeAll(async () => {
    slapd = await startSlapd(`dn: uid=alice,${PEOPLE}\nobjectClass: inetOrgPerson\nuid: alice\ncn: Alice\nsn: A\n`, { idleTimeoutSeconds: 1 });
  }, 60_000);

  afterAll(async () => {
    await slapd?.stop();
  });

  it('fails the operation after the server dropped the connection, and a new session works', async () => {
    process.env['TETHER_TEST_LDAP_SESSION'] = READER_PASSWORD;
    const config = ldapSourceSchema(secretReference('/tmp')).parse({
      id: 'corp', kind: 'ldap', url: slapd.url, dialect: 'openldap', bindDn: READER_DN, bindPassword: 'env:TETHER_TEST_LDAP_SESSION',
      people: { baseDns: [PEOPLE] }, groups: { baseDns: [PEOPLE] },
    });
    const session = await connectLdap(config);
    try {
      expect(await session.readEntry(`uid=alice,${PEOPLE}`, ['uid'])).toMatchObject({ uid: 'alice' });
      await sleep(2_500);
      await expect(session.readEntry(`uid=alice,${PEOPLE}`, ['uid'])).rejects.toMatchObject({
        code: 'unavailable', message: expect.stringMatching(/connection to the server was lost/),
      });
      const pages = (async () => {
        for await (const page of session.searchPages({ base: PEOPLE, scope: 'sub', filter: '(uid=*)', attributes: ['uid'], binaryAttributes: [] })) return page;
        return [];
      })();
      await expect(pages).rejects.toMatchObject({ code: 'unavailable' });
    } finally {
      await session.close();
    }
    const fresh = await connectLdap(config);
    try {
      expect(await fresh.readEntry(`uid=alice,${PEOPLE}`, ['uid'])).toMatchObject({ uid: 'alice' });
    } finally {
      await fresh.close();
    }
  }, 30_000);
});
