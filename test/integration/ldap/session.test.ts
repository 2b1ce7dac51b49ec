/**
 * A bound session whose connection the server closes (slapd's idletimeout, as AD's MaxConnIdleTime or a
 * firewall would): the next operation fails as `unavailable` instead of ldapts reopening the connection
 * unbound, where an anonymous reader could see fewer entries than the bound one.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectLdap } from '../../../connectors/ldap/client.js';
import { startSlapd, type Slapd } from '../../support/slapd.js';
import { readerSource } from '../../support/ldap-source.js';

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
    const config = readerSource(slapd);
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
