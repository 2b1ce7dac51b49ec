import { describe, expect, it } from 'vitest';
import { ldapSourceSchema } from '../../../connectors/ldap/config.js';
import { DIALECTS } from '../../../connectors/ldap/mapping/dialects.js';
import { agentAttributes, resolveMapping, toAgentFacts } from '../../../connectors/ldap/mapping/entries.js';
import type { LdapEntry } from '../../../connectors/ldap/mapping/values.js';
import { secretReference } from '../../../src/config/secrets.js';

const NOW = new Date('2025-06-01T00:00:00Z');
const GUID_BYTES = Buffer.from('6efaa4d23c4b3a4f9b2d1c2e3f405162', 'hex');

function config(agents: Record<string, unknown>, dialect: 'openldap' | 'ad' = 'openldap') {
  process.env['TETHER_UNIT_LDAP'] = 'x';
  return ldapSourceSchema(secretReference('/tmp')).parse({
    id: 'corp', kind: 'ldap', url: 'ldap://127.0.0.1:389', dialect, bindDn: 'cn=r,dc=x', bindPassword: 'env:TETHER_UNIT_LDAP',
    people: { baseDns: ['ou=people,dc=x'] }, groups: { baseDns: ['ou=groups,dc=x'] },
    agents: { baseDns: ['ou=services,dc=x'], filter: '(objectClass=inetOrgPerson)', requestedTools: ['crm.contacts.read'], ...agents },
  });
}

const mappingOf = (agents: Record<string, unknown>, dialect: 'openldap' | 'ad' = 'openldap') => {
  const parsed = config(agents, dialect);
  return resolveMapping(parsed, DIALECTS[dialect]);
};

describe('service accounts as agents', () => {
  it('AD: objectGUID key, managedBy sponsor, disabled by userAccountControl', () => {
    const mapping = mappingOf({}, 'ad');
    const entry: LdapEntry = {
      dn: 'CN=svc-crm,OU=Services,DC=corp,DC=example', objectGUID: GUID_BYTES, sAMAccountName: 'svc-crm', description: 'Syncs CRM leads',
      managedBy: 'CN=Alice Archer,OU=Staff,DC=corp,DC=example', userAccountControl: '514', whenChanged: '20250102030405.0Z',
    };
    expect(toAgentFacts(entry, mapping, NOW)).toEqual({
      key: 'd2a4fa6e-4b3c-4f3a-9b2d-1c2e3f405162', dn: entry.dn, name: 'svc-crm', purpose: 'Syncs CRM leads', environment: 'production',
      requestedTools: ['crm.contacts.read'], sponsorDn: 'CN=Alice Archer,OU=Staff,DC=corp,DC=example', backupSponsorDns: [], active: false,
      sourceTime: '2025-01-02T03:04:05.000Z',
    });
    expect(agentAttributes(mapping)).toEqual(expect.arrayContaining(['objectGUID', 'managedBy', 'manager', 'userAccountControl', 'description']));
  });

  it('without managedBy falls back to manager; a configured attribute is the only one read', () => {
    const entry: LdapEntry = { dn: 'uid=svc,ou=services,dc=x', entryUUID: 'k1', uid: 'svc', manager: 'uid=alice,ou=people,dc=x', seeAlso: 'uid=bob,ou=people,dc=x' };
    expect(toAgentFacts(entry, mappingOf({}), NOW)?.sponsorDn).toBe('uid=alice,ou=people,dc=x');
    expect(toAgentFacts(entry, mappingOf({ sponsorAttribute: 'seeAlso' }), NOW)?.sponsorDn).toBe('uid=bob,ou=people,dc=x');
    expect(toAgentFacts({ ...entry, manager: [] }, mappingOf({}), NOW)?.sponsorDn).toBeNull();
  });

  it('purpose, environment and tools from attributes, else the source defaults', () => {
    const mapping = mappingOf({
      purpose: 'Directory bot', environmentAttribute: 'businessCategory', requestedToolsAttribute: 'employeeType', backupSponsorsAttribute: 'secretary', environment: 'pilot',
    });
    const bare: LdapEntry = { dn: 'uid=svc,ou=services,dc=x', entryUUID: 'k1', uid: 'svc' };
    expect(toAgentFacts(bare, mapping, NOW)).toMatchObject({ purpose: 'Directory bot', environment: 'pilot', requestedTools: ['crm.contacts.read'], backupSponsorDns: [], active: true });
    const rich: LdapEntry = {
      ...bare, businessCategory: 'Sandbox', employeeType: ['crm.reports.read', 'crm.contacts.read', ' '], secretary: ['uid=b,dc=x', 'uid=c,dc=x'],
    };
    expect(toAgentFacts(rich, mapping, NOW)).toMatchObject({
      environment: 'sandbox', requestedTools: ['crm.contacts.read', 'crm.reports.read'], backupSponsorDns: ['uid=b,dc=x', 'uid=c,dc=x'],
    });
    expect(toAgentFacts({ ...bare, businessCategory: 'staging' }, mapping, NOW)?.environment).toBe('pilot');
  });

  it('a ppolicy lock suspends; an entry without key or name is skipped', () => {
    const mapping = mappingOf({});
    expect(toAgentFacts({ dn: 'uid=svc,dc=x', entryUUID: 'k', uid: 'svc', pwdAccountLockedTime: '000001010000Z' }, mapping, NOW)?.active).toBe(false);
    expect(toAgentFacts({ dn: 'uid=svc,dc=x', uid: 'svc' }, mapping, NOW)).toBeNull();
    expect(toAgentFacts({ dn: 'x=y,dc=x', entryUUID: 'k' }, mapping, NOW)).toBeNull();
    expect(toAgentFacts({ dn: 'cn=Svc,dc=x', entryUUID: 'k', cn: 'Svc' }, mapping, NOW)?.name).toBe('Svc');
  });

  it('the config needs requestedTools and a filter, and allows a one-second poll', () => {
    expect(() => config({ requestedTools: [] })).toThrow();
    expect(config({}).pollIntervalSeconds).toBe(60);
    process.env['TETHER_UNIT_LDAP'] = 'x';
    const fast = ldapSourceSchema(secretReference('/tmp')).safeParse({
      id: 'corp', kind: 'ldap', url: 'ldap://h', dialect: 'openldap', bindDn: 'cn=r,dc=x', bindPassword: 'env:TETHER_UNIT_LDAP',
      people: { baseDns: ['ou=p,dc=x'] }, groups: { baseDns: ['ou=g,dc=x'] }, pollIntervalSeconds: 1,
    });
    expect(fast.success).toBe(true);
  });
});
