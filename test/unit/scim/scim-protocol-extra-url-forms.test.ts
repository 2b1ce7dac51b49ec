import { describe, expect, it } from 'vitest';
import { matchScimUrl } from '../../../src/http/scim/url-forms.js';

describe('SCIM URL forms: a resource name is never a baseEntity', () => {
  it('reads /{Resource}/.search as the resource and its .search in every form', () => {
    const cases: [string, string | null, string][] = [
      ['/Users/.search', null, ''],
      ['/v2/Groups/.search', null, '/v2'],
      ['/scim/v2/Agents/.search', null, '/scim/v2'],
      ['/hr/Users/.search', 'hr', '/hr'],
      ['/tenant/a/v2/hr/users/.search', 'hr', '/tenant/a/v2/hr'],
    ];
    for (const [path, baseEntity, publicPrefix] of cases) {
      const matched = matchScimUrl(path);
      expect(matched?.address, path).toEqual({ baseEntity, publicPrefix });
      expect(matched?.internalPath.toLowerCase(), path).toMatch(/^\/scim\/v2\/(users|groups|agents)\/\.search$/);
    }
  });

  it('still refuses v2 as a baseEntity and keeps the other forms', () => {
    expect(matchScimUrl('/scim/v2/v2/Users')).toBeNull();
    expect(matchScimUrl('/hr/.search')).toEqual({ address: { baseEntity: 'hr', publicPrefix: '/hr' }, internalPath: '/scim/v2/.search' });
    expect(matchScimUrl('/Users/abc')).toEqual({ address: { baseEntity: null, publicPrefix: '' }, internalPath: '/scim/v2/Users/abc' });
  });
});
