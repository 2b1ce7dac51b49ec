import { describe, expect, it } from 'vitest';
import { parseScimFilter } from '../../../src/http/scim/filter.js';
import { AppError } from '../../../src/domain/errors.js';

const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

function code(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof AppError ? error.code : 'not an AppError';
  }
}

describe('SCIM filter compValue strings are JSON strings (RFC 7644 §3.4.2.2)', () => {
  it.each([
    ['userName eq "CONTOSO\\\\jdoe"', 'CONTOSO\\jdoe'],
    ['userName eq "\\u0061nn"', 'ann'],
    ['userName eq "say \\"hi\\""', 'say "hi"'],
    ['userName eq "tab\\there"', 'tab\there'],
    ['userName eq "slash\\/ok"', 'slash/ok'],
    ['userName eq "ends with \\\\"', 'ends with \\'],
    ['userName eq "\\ud83d\\ude00"', '😀'],
    ['userName eq "0"', '0'],
  ])('%s compares with %j', (filter, value) => {
    expect(parseScimFilter(filter)).toEqual({ op: 'eq', path: 'userName', value });
  });

  it('decodes every string of a compound filter in its place', () => {
    expect(parseScimFilter('userName eq "a\\\\b" or (emails[value co "\\u0040x"] and title sw "1")')).toEqual({
      op: 'or',
      filters: [
        { op: 'eq', path: 'userName', value: 'a\\b' },
        { op: 'and', filters: [
          { op: 'valuePath', path: 'emails', filter: { op: 'co', path: 'value', value: '@x' } },
          { op: 'sw', path: 'title', value: '1' },
        ] },
      ],
    });
  });

  it('keeps a backslash that starts no JSON escape (a client that does not escape), reads the valid ones', () => {
    expect(parseScimFilter('userName eq "CONTOSO\\jdoe"')).toEqual({ op: 'eq', path: 'userName', value: 'CONTOSO\\jdoe' });
    expect(parseScimFilter('userName eq "\\x41\\u00"')).toEqual({ op: 'eq', path: 'userName', value: '\\x41\\u00' });
    expect(parseScimFilter('userName eq "a\\\\b\\"c\\u0064"')).toEqual({ op: 'eq', path: 'userName', value: 'a\\b"cd' });
  });

  it.each([
    'userName eq "nul\\u0000"',
    'userName eq "\\ud800"',
  ])('refuses %s with invalidFilter', (filter) => {
    expect(code(() => parseScimFilter(filter))).toBe('invalid_filter');
  });

  it('keeps the lenient forms: bare words (backslashes literal), JSON literals, bare dates', () => {
    expect(parseScimFilter('userName eq CONTOSO\\jdoe')).toEqual({ op: 'eq', path: 'userName', value: 'CONTOSO\\jdoe' });
    expect(parseScimFilter('userName eq Test_User_dfeef4c5')).toEqual({ op: 'eq', path: 'userName', value: 'Test_User_dfeef4c5' });
    expect(parseScimFilter('active eq true')).toEqual({ op: 'eq', path: 'active', value: true });
    expect(parseScimFilter('meta.Created gt 2015-10-10T14:38:21.8617979-07:00')).toEqual({ op: 'gt', path: 'meta.Created', value: '2015-10-10T14:38:21.8617979-07:00' });
    expect(parseScimFilter('name.FamilyName eq Employee and emails.Value co "x\\\\y"')).toEqual({
      op: 'and', filters: [{ op: 'eq', path: 'name.FamilyName', value: 'Employee' }, { op: 'co', path: 'emails.Value', value: 'x\\y' }],
    });
  });
});

describe('SCIM filter attribute paths qualified with a schema URN (RFC 7644 §3.10)', () => {
  it('reads a core schema URN as the top-level attribute, for any resource type and in value paths', () => {
    expect(parseScimFilter(`${CORE_USER}:userName eq "ann"`)).toEqual({ op: 'eq', path: 'userName', value: 'ann' });
    expect(parseScimFilter(`${CORE_USER}:name.familyName pr`)).toEqual({ op: 'pr', path: 'name.familyName' });
    expect(parseScimFilter('urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "Sales"')).toEqual({ op: 'eq', path: 'displayName', value: 'Sales' });
    expect(parseScimFilter('URN:IETF:params:scim:schemas:core:2.0:Agent:agentUserName eq "bot"')).toEqual({ op: 'eq', path: 'agentUserName', value: 'bot' });
    expect(parseScimFilter(`${CORE_USER}:emails[type eq "work"]`)).toEqual({ op: 'valuePath', path: 'emails', filter: { op: 'eq', path: 'type', value: 'work' } });
  });

  it('keeps an extension URN: its attributes live under it', () => {
    expect(parseScimFilter(`${ENTERPRISE}:department eq "R&D"`)).toEqual({ op: 'eq', path: `${ENTERPRISE}:department`, value: 'R&D' });
  });
});
