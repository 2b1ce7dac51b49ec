import { describe, expect, it } from 'vitest';
import { toGroupWrite } from '../../../src/http/scim/group-resource.js';
import { omitsActive, toPersonWrite, toScimUser } from '../../../src/http/scim/user-resource.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

describe('toPersonWrite', () => {
  it('refuses more than one primary value of a multi-valued attribute (RFC 7643 §2.4), "True" strings included', () => {
    const body = (emails: unknown[]) => ({ schemas: [USER], userName: 'ann', emails });
    expect(() => toPersonWrite(body([{ value: 'a@x', primary: true }, { value: 'b@x', primary: 'True' }])))
      .toThrow(expect.objectContaining({ code: 'invalid_value', message: expect.stringMatching(/emails: more than one primary/) }));
    expect(toPersonWrite(body([{ value: 'a@x', primary: true }, { value: 'b@x', primary: 'False' }])).resource['emails'])
      .toEqual([{ value: 'a@x', primary: true }, { value: 'b@x', primary: false }]);
  });
});

describe('omitsActive', () => {
  it('tells a PUT body that leaves `active` out (any spelling) from one that states it', () => {
    expect(omitsActive({ schemas: [USER], userName: 'ann' })).toBe(true);
    expect(omitsActive({ schemas: [USER], userName: 'ann', Active: false })).toBe(false);
    expect(omitsActive({ userName: 'ann', active: true })).toBe(false);
  });
});

describe('schemas of a body and of a representation (RFC 7643 §3)', () => {
  const person = (resource: Record<string, unknown>) => ({
    id: '00000000-0000-4000-8000-000000000001', sourceId: 'hr', userName: 'ann', externalId: null, active: true, resource, version: 1,
    createdAt: new Date(0), updatedAt: new Date(0),
  }) as unknown as Parameters<typeof toScimUser>[0];

  it('serves a body without schemas, and refuses one whose schemas do not name the User schema, whatever else it holds', () => {
    expect(toPersonWrite({ userName: 'ann' }).userName).toBe('ann');
    expect(toPersonWrite({ SCHEMAS: [USER.toUpperCase()], userName: 'ann' }).userName).toBe('ann');
    for (const schemas of [[GROUP], [], USER, [USER, 7], null]) {
      expect(() => toPersonWrite({ schemas, userName: 'ann' }), JSON.stringify(schemas))
        .toThrow(expect.objectContaining({ code: 'invalid_syntax', message: `schemas must contain ${USER}` }));
    }
    expect(() => toGroupWrite({ schemas: [USER], displayName: 'Sales' })).toThrow(expect.objectContaining({ code: 'invalid_syntax' }));
    expect(toGroupWrite({ schemas: [GROUP], displayName: 'Sales' }).write.displayName).toBe('Sales');
  });

  it('declares every extension whose object the representation holds, and nothing else', () => {
    const custom = 'urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User';
    expect(toScimUser(person({ title: 'x' }), [], 'http://h')['schemas']).toEqual([USER]);
    expect(toScimUser(person({ [ENTERPRISE]: { department: 'R&D' }, [custom]: { badge: '7' }, [`${custom}:flat`]: 'v', 'urn:x:list': [1] }), [], 'http://h')['schemas'])
      .toEqual([USER, ENTERPRISE, custom]);
  });
});

describe('unassigned values (RFC 7643 §2.5)', () => {
  it('stores null, empty lists and complex values left empty as absent, at every depth, and keeps false, 0 and ""', () => {
    const write = toPersonWrite({
      schemas: [USER, ENTERPRISE], userName: 'ann', title: null, nickName: '', emails: [], phoneNumbers: [{ value: null, type: null }],
      name: { givenName: null, familyName: 'Lee', honorificPrefix: null }, addresses: [{ primary: false, locality: 'X', region: null }],
      [ENTERPRISE]: { manager: { value: null }, costCenter: null }, x509Certificates: [{}], 'urn:acme:1.0:User': { badge: 0 },
    });
    expect(write.resource).toEqual({
      userName: 'ann', active: true, nickName: '', name: { familyName: 'Lee' }, addresses: [{ primary: false, locality: 'X' }], 'urn:acme:1.0:User': { badge: 0 },
    });
    expect(toScimUser({ ...write, id: 'i', sourceId: 's', version: 1, createdAt: new Date(0), updatedAt: new Date(0) }, [], 'http://h')['schemas'])
      .toEqual([USER, 'urn:acme:1.0:User']);
    expect(toGroupWrite({ displayName: 'Sales', 'urn:acme:1.0:Group': { code: null }, description: null }).write.resource).toEqual({ displayName: 'Sales' });
  });
});
