import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LdapTargetConfig } from '../../../connectors/ldap-target/config.js';
import { createLdapTargetConnector } from '../../../connectors/ldap-target/connector.js';
import type { DownstreamConnector } from '../../../src/app/ports.js';
import { Secret } from '../../../src/config/secrets.js';
import { freePort } from '../../support/ports.js';
import { ADMIN_DN, ADMIN_PASSWORD, startSlapd, SUFFIX, type Slapd } from '../../support/slapd.js';
import { connectorConformance } from './support/conformance.js';
import { deliver, MemoryDeliveryStore } from './support/memory-delivery.js';

const AGENTS_OU = `ou=agents,${SUFFIX}`;
const GROUPS_OU = `ou=tool-groups,${SUFFIX}`;
const SEED = `dn: ${AGENTS_OU}
objectClass: organizationalUnit
ou: agents

dn: ${GROUPS_OU}
objectClass: organizationalUnit
ou: tool-groups
`;

function ldapConfig(url: string, overrides: Partial<LdapTargetConfig> = {}): LdapTargetConfig {
  return {
    id: 'directory', kind: 'ldap', url, startTls: false, bindDn: ADMIN_DN, bindPassword: new Secret(ADMIN_PASSWORD, 'test'),
    agentsDn: AGENTS_OU, groupsDn: GROUPS_OU, groupName: 'tether-{tool}', timeoutMs: 3000,
    maxAttempts: 4, backoffMs: 20, concurrency: 2, driftIntervalSeconds: 0, ...overrides,
  };
}

let slapd: Slapd | null = null;
const server = async () => (slapd ??= await startSlapd(SEED));
afterAll(async () => {
  await slapd?.stop();
});

/**
 * Failures come from the real network and the real slapd: a transient one is a connection to a closed port
 * (ECONNREFUSED), a permanent one a bind slapd refuses (invalidCredentials).
 */
connectorConformance('ldap write-back (real slapd)', async () => {
  const { url } = await server();
  const healthy = createLdapTargetConnector(ldapConfig(url));
  const unreachable = createLdapTargetConnector(ldapConfig(`ldap://127.0.0.1:${await freePort()}`));
  const refused = createLdapTargetConnector(ldapConfig(url, { bindPassword: new Secret('wrong-password', 'test') }));
  const faults: DownstreamConnector[] = [];
  const next = () => faults.shift() ?? healthy;
  const connector: DownstreamConnector = {
    id: healthy.id, kind: healthy.kind, canRead: true,
    apply: (request) => next().apply(request),
    read: (agent) => next().read(agent),
    check: () => healthy.check(),
  };
  return {
    connector,
    failNext: (kind, times) => {
      for (let index = 0; index < times; index += 1) faults.push(kind === 'transient' ? unreachable : refused);
    },
    close: async () => undefined,
  };
});

describe('ldap write-back: the directory as other LDAP clients see it', () => {
  let url = '';
  beforeAll(async () => {
    url = (await server()).url;
  });

  it('writes the agent entry under the OU and its tools as groupOfNames memberships; the last member takes the group along', async () => {
    const connector = createLdapTargetConnector(ldapConfig(url));
    const store = new MemoryDeliveryStore();
    const agentId = store.addAgent('ledger-bot');
    await deliver(store, connector, agentId, store.addVersion(agentId, ['erp.ledger.read', 'erp.ledger.post']));
    const { Client } = await import('ldapts');
    const client = new Client({ url });
    await client.bind(ADMIN_DN, ADMIN_PASSWORD);
    const agent = await client.search(`cn=${agentId},${AGENTS_OU}`, { scope: 'base' });
    expect(agent.searchEntries[0]).toMatchObject({ cn: agentId, description: 'ledger-bot' });
    const group = await client.search(`cn=tether-erp.ledger.post,${GROUPS_OU}`, { scope: 'base' });
    expect(group.searchEntries[0]?.['member']).toBe(`cn=${agentId},${AGENTS_OU}`);
    // A membership added by hand (another admin, another tool) is seen by read-back and removed by the next apply.
    await (await server()).modify(`dn: cn=tether-erp.ledger.post,${GROUPS_OU}\nchangetype: delete\n\ndn: cn=tether-hr.payroll.run,${GROUPS_OU}\nchangetype: add\nobjectClass: groupOfNames\ncn: tether-hr.payroll.run\nmember: cn=${agentId},${AGENTS_OU}\n`);
    expect((await connector.read({ agentId, agentName: 'ledger-bot' }))?.tools).toEqual(['erp.ledger.read', 'hr.payroll.run']);
    await connector.apply({ agentId, agentName: 'ledger-bot', version: 1, sponsorId: 's', effective: (await store.version(agentId, 1))?.entitlements ?? [], granted: [], revoked: [], reason: 'repair', changeEventId: null });
    expect((await connector.read({ agentId, agentName: 'ledger-bot' }))?.tools).toEqual(['erp.ledger.post', 'erp.ledger.read']);
    const payroll = await client.search(GROUPS_OU, { scope: 'one', filter: '(cn=tether-hr.payroll.run)' });
    expect(payroll.searchEntries).toHaveLength(0);
    await client.unbind();
  });
});
