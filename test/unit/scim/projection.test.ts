import { describe, expect, it } from 'vitest';
import { parseProjection, project } from '../../../src/http/scim/projection.js';

const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

const USER = {
  schemas: [CORE_USER, ENTERPRISE],
  id: 'u1',
  userName: 'ann@example.com',
  name: { givenName: 'Ann', familyName: 'Lee' },
  emails: [{ value: 'ann@example.com', primary: true }],
  [ENTERPRISE]: { department: 'R&D', employeeNumber: '7', manager: { value: 'm1' } },
  meta: { resourceType: 'User' },
};

const keys = (attributes: string | undefined, excluded?: string) => Object.keys(project(USER, parseProjection(attributes, excluded))).sort();

describe('attributes / excludedAttributes with schema URNs (RFC 7644 §3.4.2.5, §3.10)', () => {
  it('reads core-URN-qualified names as the attribute', () => {
    expect(project(USER, parseProjection(`${CORE_USER}:userName`, undefined))).toEqual({ schemas: USER.schemas, id: 'u1', userName: 'ann@example.com' });
    expect(project(USER, parseProjection(`urn:ietf:params:scim:schemas:core:2.0:user:NAME.givenName`, undefined))).toEqual({ schemas: USER.schemas, id: 'u1', name: { givenName: 'Ann' } });
    expect(keys(undefined, `${CORE_USER}:userName,${CORE_USER}:emails`)).toEqual(['id', 'meta', 'name', 'schemas', ENTERPRISE].sort());
  });

  it('returns a whole extension for its URN, and drops it when excluded (also inside a list)', () => {
    expect(project(USER, parseProjection(ENTERPRISE, undefined))).toEqual({ schemas: USER.schemas, id: 'u1', [ENTERPRISE]: USER[ENTERPRISE] });
    expect(keys(`userName,${ENTERPRISE.toLowerCase()}`)).toEqual(['id', 'schemas', 'userName', ENTERPRISE].sort());
    expect(keys(undefined, ENTERPRISE)).toEqual(['emails', 'id', 'meta', 'name', 'schemas', 'userName']);
    expect(keys(undefined, `userName, ${ENTERPRISE}`)).toEqual(['emails', 'id', 'meta', 'name', 'schemas']);
  });

  it('still answers extension sub-attributes and a bare core URN (every core attribute)', () => {
    expect(project(USER, parseProjection(`${ENTERPRISE}:manager.value`, undefined))).toEqual({ schemas: USER.schemas, id: 'u1', [ENTERPRISE]: { manager: { value: 'm1' } } });
    expect(keys(CORE_USER)).toEqual(['emails', 'id', 'meta', 'name', 'schemas', 'userName']);
    expect(keys(undefined, CORE_USER)).toEqual(['id', 'schemas', ENTERPRISE].sort());
  });
});
