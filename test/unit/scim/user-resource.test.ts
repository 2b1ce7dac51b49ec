import { describe, expect, it } from 'vitest';
import { omitsActive, toPersonWrite } from '../../../src/http/scim/user-resource.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

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
