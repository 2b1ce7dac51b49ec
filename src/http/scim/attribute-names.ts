import { CORE_USER, ENTERPRISE_USER } from './constants.js';

/** RFC 7643 attribute names are case-insensitive; Tether stores them in their canonical spelling. */
const USER_TOP_LEVEL = [
  'id', 'externalId', 'meta', 'schemas', 'userName', 'name', 'displayName', 'nickName', 'profileUrl', 'title', 'userType',
  'preferredLanguage', 'locale', 'timezone', 'active', 'password', 'emails', 'phoneNumbers', 'ims', 'photos', 'addresses',
  'groups', 'entitlements', 'roles', 'x509Certificates', ENTERPRISE_USER, CORE_USER,
];
const GROUP_TOP_LEVEL = ['id', 'externalId', 'meta', 'schemas', 'displayName', 'members'];

const USER_BY_LOWER = new Map(USER_TOP_LEVEL.map((name) => [name.toLowerCase(), name]));
const GROUP_BY_LOWER = new Map(GROUP_TOP_LEVEL.map((name) => [name.toLowerCase(), name]));

export function canonicalUserAttribute(name: string): string {
  return USER_BY_LOWER.get(name.toLowerCase()) ?? name;
}

export function canonicalGroupAttribute(name: string): string {
  return GROUP_BY_LOWER.get(name.toLowerCase()) ?? name;
}
