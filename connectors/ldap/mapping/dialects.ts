import type { LdapDialect } from '../config.js';

/** What differs between directory servers: ids, change tracking, lock attributes, group shapes. */
export interface DialectProfile {
  /** The immutable id people and groups are keyed by (never the DN, which renames change). */
  readonly keyAttribute: string;
  /** Attributes that must be read as bytes. */
  readonly binaryAttributes: readonly string[];
  /** The attribute a delta poll filters on, and how its cursor is kept. */
  readonly changeTracking: 'modifyTimestamp' | 'usn';
  /** The attribute giving the entry's last change time (change events' sourceTime). */
  readonly timeAttribute: string;
  readonly userName: string;
  readonly displayName: string;
  readonly email: string;
  readonly groupName: string;
  /** Attributes holding member DNs, in the order they are read. */
  readonly memberDnAttributes: readonly string[];
  /** posixGroup's memberUid holds user names, not DNs. */
  readonly memberUidAttribute: string | null;
  /** Default rule attributes (Tether name → LDAP attribute). */
  readonly ruleAttributes: Readonly<Record<string, string>>;
  /** Attributes the dialect reads to decide whether an account is disabled. */
  readonly lockAttributes: readonly string[];
  readonly peopleFilter: string;
  readonly groupFilter: string;
}

/** OpenLDAP's profile; 389-ds differs only in its key and lock attributes. */
const OPENLDAP: DialectProfile = {
  keyAttribute: 'entryUUID',
  binaryAttributes: [],
  changeTracking: 'modifyTimestamp',
  timeAttribute: 'modifyTimestamp',
  userName: 'uid',
  displayName: 'cn',
  email: 'mail',
  groupName: 'cn',
  memberDnAttributes: ['member', 'uniqueMember'],
  memberUidAttribute: 'memberUid',
  ruleAttributes: { title: 'title', department: 'departmentNumber', employeeNumber: 'employeeNumber', organization: 'o' },
  lockAttributes: ['pwdAccountLockedTime'],
  peopleFilter: '(objectClass=inetOrgPerson)',
  groupFilter: '(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup))',
};

export const DIALECTS: { readonly [D in LdapDialect]: DialectProfile } = {
  openldap: OPENLDAP,
  '389ds': { ...OPENLDAP, keyAttribute: 'nsUniqueId', lockAttributes: ['nsAccountLock'] },
  ad: {
    keyAttribute: 'objectGUID',
    binaryAttributes: ['objectGUID', 'objectSid'],
    changeTracking: 'usn',
    timeAttribute: 'whenChanged',
    userName: 'sAMAccountName',
    displayName: 'displayName',
    email: 'mail',
    groupName: 'cn',
    memberDnAttributes: ['member'],
    memberUidAttribute: null,
    ruleAttributes: { title: 'title', department: 'department', employeeNumber: 'employeeID', organization: 'company', division: 'division' },
    lockAttributes: ['userAccountControl', 'accountExpires'],
    peopleFilter: '(&(objectCategory=person)(objectClass=user))',
    groupFilter: '(objectClass=group)',
  },
};
