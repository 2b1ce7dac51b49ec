import { describe, expect, it } from 'vitest';
import { applyPatch, coerceBoolean, parsePatchRequest, type PatchOperation, type PatchOptions } from '../../../src/http/scim/patch.js';
import { AppError, type ErrorCode } from '../../../src/domain/errors.js';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';

type Json = Record<string, unknown>;

/** A representative stored user; every case starts from a fresh, deeply frozen copy. */
const USER: Json = {
  userName: 'ada@example.com',
  displayName: 'Ada',
  active: true,
  name: { givenName: 'Ada', familyName: 'Lovelace' },
  emails: [
    { value: 'ada@work.example', type: 'work', primary: true },
    { value: 'ada@home.example', type: 'home' },
  ],
  [ENTERPRISE]: { department: 'R&D', manager: { value: 'boss-1' } },
};

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

function frozen(resource: Json = USER): Json {
  return deepFreeze(structuredClone(resource));
}

function op(kind: PatchOperation['op'], path: string | null, value?: unknown): PatchOperation {
  return { op: kind, path, value };
}

function errorOf(run: () => unknown): AppError {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError');
}

describe('coerceBoolean', () => {
  it.each([
    [true, true],
    [false, false],
    ['True', true],
    ['FALSE', false],
    [' true ', true],
    ['yes', undefined],
    [1, undefined],
    [null, undefined],
    [undefined, undefined],
  ])('%j → %j', (input, expected) => {
    expect(coerceBoolean(input)).toBe(expected);
  });
});

describe('parsePatchRequest', () => {
  it('normalises Entra ID capitalised ops and trims paths', () => {
    const body = {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'Replace', path: ' displayName ', value: 'Ada L.' },
        { op: 'Add', path: 'emails[type eq "work"].value', value: 'a@x' },
        { op: 'Remove', path: 'members', value: [{ value: 'u1' }] },
      ],
    };
    expect(parsePatchRequest(body)).toEqual([
      { op: 'replace', path: 'displayName', value: 'Ada L.' },
      { op: 'add', path: 'emails[type eq "work"].value', value: 'a@x' },
      { op: 'remove', path: 'members', value: [{ value: 'u1' }] },
    ]);
  });

  it('accepts the Okta pathless deactivation shape', () => {
    expect(parsePatchRequest({ schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] })).toEqual([
      { op: 'replace', path: null, value: { active: false } },
    ]);
  });

  it('tolerates a missing schemas array, a lower-case "operations" key and case-variant field names', () => {
    expect(parsePatchRequest({ operations: [{ OP: 'add', Path: 'title', Value: 'Eng' }] })).toEqual([{ op: 'add', path: 'title', value: 'Eng' }]);
  });

  it('treats a null path as no path', () => {
    expect(parsePatchRequest({ Operations: [{ op: 'replace', path: null, value: { active: false } }] })[0]?.path).toBeNull();
  });

  it.each<[string, unknown, ErrorCode, RegExp]>([
    ['a non-object body', [], 'invalid_syntax', /PatchOp JSON object/],
    ['a null body', null, 'invalid_syntax', /PatchOp JSON object/],
    ['schemas without the PatchOp URN', { schemas: [CORE], Operations: [{ op: 'add', path: 'title', value: 'x' }] }, 'invalid_syntax', /schemas must contain/],
    ['schemas that is not an array', { schemas: PATCH_OP, Operations: [{ op: 'add', path: 'title', value: 'x' }] }, 'invalid_syntax', /schemas must contain/],
    ['missing Operations', { schemas: [PATCH_OP] }, 'invalid_syntax', /non-empty array/],
    ['empty Operations', { schemas: [PATCH_OP], Operations: [] }, 'invalid_syntax', /non-empty array/],
    ['an operation that is not an object', { Operations: ['add'] }, 'invalid_syntax', /Operations\[0\] must be an object/],
    ['an unknown op', { Operations: [{ op: 'move', path: 'title', value: 'x' }] }, 'invalid_syntax', /op must be add, replace or remove/],
    ['a missing op', { Operations: [{ path: 'title', value: 'x' }] }, 'invalid_syntax', /op must be/],
    ['a numeric path', { Operations: [{ op: 'add', path: 7, value: 'x' }] }, 'invalid_path', /path must be a non-empty string/],
    ['a blank path', { Operations: [{ op: 'add', path: '  ', value: 'x' }] }, 'invalid_path', /path must be a non-empty string/],
    ['a malformed path', { Operations: [{ op: 'add', path: 'name..givenName', value: 'x' }] }, 'invalid_path', /Invalid attribute path/],
    ['a path starting with a digit', { Operations: [{ op: 'add', path: '1name', value: 'x' }] }, 'invalid_path', /Invalid attribute path/],
    ['an unclosed value path', { Operations: [{ op: 'add', path: 'emails[type eq "work"', value: 'x' }] }, 'invalid_path', /Invalid attribute path/],
    ['a filter that does not parse', { Operations: [{ op: 'add', path: 'emails[type eq].value', value: 'x' }] }, 'invalid_filter', /Invalid filter/],
    ['an empty filter', { Operations: [{ op: 'remove', path: 'emails[]' }] }, 'invalid_filter', /Invalid filter/],
    ['remove without a path', { Operations: [{ op: 'remove' }] }, 'no_target', /remove needs a path/],
    ['add with a path but no value', { Operations: [{ op: 'add', path: 'title' }] }, 'invalid_value', /needs a value/],
    ['pathless replace with a scalar value', { Operations: [{ op: 'replace', value: 'x' }] }, 'invalid_value', /object value/],
    ['pathless add with an array value', { Operations: [{ op: 'add', value: [{ title: 'x' }] }] }, 'invalid_value', /object value/],
  ])('rejects %s', (_name, body, code, detail) => {
    const error = errorOf(() => parsePatchRequest(body));
    expect(error.code).toBe(code);
    expect(error.detail).toMatch(detail);
  });
});

interface Case {
  readonly name: string;
  readonly resource?: Json;
  readonly ops: readonly PatchOperation[];
  readonly options?: PatchOptions;
  /** Keys listed here are compared; `undefined` means the key must be absent. */
  readonly expect: Json;
}

const cases: Case[] = [
  // single-valued and complex attributes
  { name: 'add sets a single-valued attribute', ops: [op('add', 'title', 'Engineer')], expect: { title: 'Engineer' } },
  { name: 'replace matches an existing key case-insensitively and keeps its spelling', ops: [op('replace', 'DISPLAYNAME', 'Ada L.')], expect: { displayName: 'Ada L.', DISPLAYNAME: undefined } },
  { name: 'a created key uses canonical() when given', ops: [op('add', 'NICKNAME', 'ada')], options: { canonical: (n) => (n.toLowerCase() === 'nickname' ? 'nickName' : n) }, expect: { nickName: 'ada', NICKNAME: undefined } },
  { name: 'a created key keeps the name as sent without canonical()', ops: [op('add', 'NickName', 'ada')], expect: { NickName: 'ada' } },
  { name: 'add name.givenName changes only that sub-attribute', ops: [op('add', 'name.givenName', 'Augusta')], expect: { name: { givenName: 'Augusta', familyName: 'Lovelace' } } },
  { name: 'replace Name.GIVENNAME matches both levels case-insensitively', ops: [op('replace', 'Name.GIVENNAME', 'Augusta')], expect: { name: { givenName: 'Augusta', familyName: 'Lovelace' } } },
  { name: 'a dotted path creates its complex parent', resource: { userName: 'u' }, ops: [op('add', 'name.familyName', 'King')], expect: { name: { familyName: 'King' } } },
  { name: 'add on a complex attribute merges sub-attributes case-insensitively', ops: [op('add', 'name', { GivenName: 'Augusta', honorificPrefix: 'Lady' })], expect: { name: { givenName: 'Augusta', familyName: 'Lovelace', honorificPrefix: 'Lady' } } },
  { name: 'replace on a complex attribute replaces only the given sub-attributes (RFC 7644 §3.5.2.3)', ops: [op('replace', 'name', { givenName: 'Augusta' })], expect: { name: { givenName: 'Augusta', familyName: 'Lovelace' } } },
  { name: 'replace with null unassigns the attribute', ops: [op('replace', 'displayName', null)], expect: { displayName: undefined } },
  { name: 'replace of a sub-attribute with null removes just it', ops: [op('replace', 'name', { familyName: null })], expect: { name: { givenName: 'Ada' } } },
  { name: 'add with null changes nothing', ops: [op('add', 'displayName', null)], expect: { displayName: 'Ada' } },
  { name: 'Entra boolean strings are stored as sent (the caller coerces)', ops: [op('replace', 'active', 'False')], expect: { active: 'False' } },
  // multi-valued attributes
  { name: 'add appends to a multi-valued attribute', ops: [op('add', 'emails', [{ value: 'ada@alt.example', type: 'other' }])], expect: { emails: [...(USER['emails'] as unknown[]), { value: 'ada@alt.example', type: 'other' }] } },
  { name: 'add accepts a single object for a multi-valued attribute', ops: [op('add', 'emails', { value: 'ada@alt.example' })], expect: { emails: [...(USER['emails'] as unknown[]), { value: 'ada@alt.example' }] } },
  { name: 'add skips values already present (key order and key case ignored)', ops: [op('add', 'emails', [{ TYPE: 'home', value: 'ada@home.example' }])], expect: { emails: USER['emails'] } },
  { name: 'add creates a missing multi-valued attribute from an array', ops: [op('add', 'phoneNumbers', [{ value: '+1', type: 'work' }])], expect: { phoneNumbers: [{ value: '+1', type: 'work' }] } },
  { name: 'add of a primary value clears primary on the others', ops: [op('add', 'emails', [{ value: 'new@x', type: 'other', primary: true }])], expect: { emails: [{ value: 'ada@work.example', type: 'work', primary: false }, { value: 'ada@home.example', type: 'home' }, { value: 'new@x', type: 'other', primary: true }] } },
  { name: 'replace of a multi-valued attribute replaces all values', ops: [op('replace', 'emails', [{ value: 'only@x' }])], expect: { emails: [{ value: 'only@x' }] } },
  { name: 'replace members [] leaves an empty array', resource: { displayName: 'g', members: [{ value: 'u1' }, { value: 'u2' }] }, ops: [op('replace', 'members', [])], expect: { members: [] } },
  { name: 'remove deletes an attribute', ops: [op('remove', 'displayName')], expect: { displayName: undefined, userName: 'ada@example.com' } },
  { name: 'remove of an absent attribute is a no-op', ops: [op('remove', 'nickName'), op('remove', 'addresses.locality')], expect: USER },
  { name: 'remove deletes a sub-attribute', ops: [op('remove', 'name.givenName')], expect: { name: { familyName: 'Lovelace' } } },
  { name: 'remove members with a value array removes just those (Entra)', resource: { members: [{ value: 'u1' }, { value: 'u2', display: 'Two' }, { value: 'u3' }] }, ops: [op('remove', 'members', [{ value: 'u2' }, { value: 'nope' }])], expect: { members: [{ value: 'u1' }, { value: 'u3' }] } },
  { name: 'remove of the last member by value leaves it unassigned', resource: { members: [{ value: 'u1' }] }, ops: [op('remove', 'members', [{ value: 'u1' }])], expect: { members: undefined } },
  { name: 'remove of a plain string from a primitive array', resource: { tags: ['a', 'b'] }, ops: [op('remove', 'tags', 'a')], expect: { tags: ['b'] } },
  // value paths
  { name: 'replace emails[type eq "work"].value sets the sub-attribute on the match', ops: [op('replace', 'emails[type eq "work"].value', 'ada@new.example')], expect: { emails: [{ value: 'ada@new.example', type: 'work', primary: true }, { value: 'ada@home.example', type: 'home' }] } },
  { name: 'value-path names and string values compare case-insensitively', ops: [op('replace', 'EMAILS[TYPE eq "WORK"].Value', 'x@y')], expect: { emails: [{ value: 'x@y', type: 'work', primary: true }, { value: 'ada@home.example', type: 'home' }] } },
  { name: 'replace emails[type eq "home"] replaces the whole matching element', ops: [op('replace', 'emails[type eq "home"]', { value: 'h@x', type: 'home' })], expect: { emails: [{ value: 'ada@work.example', type: 'work', primary: true }, { value: 'h@x', type: 'home' }] } },
  { name: 'add emails[type eq "home"] merges into the matching element', ops: [op('add', 'emails[type eq "home"]', { display: 'Home' })], expect: { emails: [{ value: 'ada@work.example', type: 'work', primary: true }, { value: 'ada@home.example', type: 'home', display: 'Home' }] } },
  { name: 'add on a value path with no match creates the element (Entra)', ops: [op('add', 'emails[type eq "other"].value', 'o@x')], expect: { emails: [...(USER['emails'] as unknown[]), { type: 'other', value: 'o@x' }] } },
  { name: 'add on a value path with no match creates the attribute', resource: { userName: 'u' }, ops: [op('add', 'addresses[type eq "work"].streetAddress', '1 Main St')], expect: { addresses: [{ type: 'work', streetAddress: '1 Main St' }] } },
  { name: 'add on an "and" value path with no match seeds every equality', resource: { userName: 'u' }, ops: [op('add', 'phoneNumbers[type eq "work" and display eq "desk"]', { value: '+1' })], expect: { phoneNumbers: [{ type: 'work', display: 'desk', value: '+1' }] } },
  { name: 'replace emails[type eq "home"].primary "True" makes it the only primary', ops: [op('replace', 'emails[type eq "home"].primary', 'True')], expect: { emails: [{ value: 'ada@work.example', type: 'work', primary: false }, { value: 'ada@home.example', type: 'home', primary: 'True' }] } },
  { name: 'remove emails[type eq "work"] removes matching elements', ops: [op('remove', 'emails[type eq "work"]')], expect: { emails: [{ value: 'ada@home.example', type: 'home' }] } },
  { name: 'remove emails[type eq "work"].value removes the sub-attribute only', ops: [op('remove', 'emails[type eq "work"].value')], expect: { emails: [{ type: 'work', primary: true }, { value: 'ada@home.example', type: 'home' }] } },
  { name: 'remove members[value eq "u2"] removes that member', resource: { members: [{ value: 'u1' }, { value: 'u2' }] }, ops: [op('remove', 'members[value eq "u2"]')], expect: { members: [{ value: 'u1' }] } },
  { name: 'remove with a value path that matches everything leaves it unassigned', ops: [op('remove', 'emails[value pr]')], expect: { emails: undefined } },
  { name: 'remove with a value path that matches nothing is a no-op', ops: [op('remove', 'emails[type eq "fax"]')], expect: { emails: USER['emails'] } },
  { name: 'value paths support or / not / co / sw / ew / pr', ops: [op('remove', 'emails[(type eq "fax" or value sw "ADA@HOME") and not (primary eq true) and value co "home" and value ew ".example" and type pr]')], expect: { emails: (USER['emails'] as unknown[]).slice(0, 1) } },
  { name: 'value paths on a primitive array compare "value" with the element', resource: { tags: ['a', 'b'] }, ops: [op('remove', 'tags[value eq "A"]')], expect: { tags: ['b'] } },
  { name: 'boolean filters match Entra "True" strings', resource: { emails: [{ value: 'a', primary: 'True' }, { value: 'b' }] }, ops: [op('remove', 'emails[primary eq true]')], expect: { emails: [{ value: 'b' }] } },
  // URN paths
  { name: 'a URN-qualified path addresses the extension attribute', ops: [op('replace', `${ENTERPRISE}:department`, 'Maths')], expect: { [ENTERPRISE]: { department: 'Maths', manager: { value: 'boss-1' } } } },
  { name: 'a URN-qualified path creates the extension object', resource: { userName: 'u' }, ops: [op('add', `${ENTERPRISE}:employeeNumber`, '42')], expect: { [ENTERPRISE]: { employeeNumber: '42' } } },
  { name: 'a URN path with a sub-attribute (manager.value)', ops: [op('replace', `${ENTERPRISE}:manager.value`, 'boss-2')], expect: { [ENTERPRISE]: { department: 'R&D', manager: { value: 'boss-2' } } } },
  { name: 'a URN path matches the extension key case-insensitively', ops: [op('replace', `${ENTERPRISE.toUpperCase()}:Department`, 'Maths')], expect: { [ENTERPRISE]: { department: 'Maths', manager: { value: 'boss-1' } } } },
  { name: 'remove of a URN-qualified attribute', ops: [op('remove', `${ENTERPRISE}:manager`)], expect: { [ENTERPRISE]: { department: 'R&D' } } },
  { name: 'the bare extension URN as path merges attributes (add)', ops: [op('add', ENTERPRISE, { costCenter: 'C1', manager: { displayName: 'Boss' } })], expect: { [ENTERPRISE]: { department: 'R&D', costCenter: 'C1', manager: { value: 'boss-1', displayName: 'Boss' } } } },
  { name: 'the bare extension URN as path replaces given attributes (replace)', ops: [op('replace', ENTERPRISE, { department: 'Maths' })], expect: { [ENTERPRISE]: { department: 'Maths', manager: { value: 'boss-1' } } } },
  { name: 'a custom extension URN listed in schemas is recognised', resource: { schemas: [CORE, 'urn:acme:ext:1.0:Agent'], userName: 'u' }, ops: [op('add', null, { 'urn:acme:ext:1.0:Agent': { sponsor: 's1' } })], expect: { 'urn:acme:ext:1.0:Agent': { sponsor: 's1' } } },
  { name: 'the core schema URN qualifies top-level attributes', ops: [op('replace', `${CORE}:displayName`, 'Core'), op('replace', `${CORE}:name.familyName`, 'King')], expect: { displayName: 'Core', name: { givenName: 'Ada', familyName: 'King' }, [CORE]: undefined } },
  { name: 'a URN path with a value filter', resource: { [ENTERPRISE]: { badges: [{ value: 'a', type: 'x' }, { value: 'b', type: 'y' }] } }, ops: [op('remove', `${ENTERPRISE}:badges[type eq "x"]`)], expect: { [ENTERPRISE]: { badges: [{ value: 'b', type: 'y' }] } } },
  // pathless add / replace
  { name: 'pathless replace {active:false} (Entra and Okta)', ops: [op('replace', null, { active: false })], expect: { active: false, userName: 'ada@example.com' } },
  { name: 'pathless replace with case-variant keys', ops: [op('replace', null, { Active: false, DisplayName: 'A' })], expect: { active: false, displayName: 'A', Active: undefined } },
  { name: 'pathless add with dotted and URN-qualified keys', ops: [op('add', null, { 'name.givenName': 'Augusta', [`${ENTERPRISE}:department`]: 'Maths', title: 'Countess' })], expect: { title: 'Countess', name: { givenName: 'Augusta', familyName: 'Lovelace' }, [ENTERPRISE]: { department: 'Maths', manager: { value: 'boss-1' } } } },
  { name: 'pathless add with the extension URN key and an object value', resource: { userName: 'u' }, ops: [op('add', null, { [ENTERPRISE]: { department: 'Maths', manager: { value: 'm1' } } })], expect: { [ENTERPRISE]: { department: 'Maths', manager: { value: 'm1' } } } },
  { name: 'pathless replace of a complex attribute keeps unspecified sub-attributes', ops: [op('replace', null, { name: { givenName: 'Augusta' } })], expect: { name: { givenName: 'Augusta', familyName: 'Lovelace' } } },
  { name: 'pathless add appends to multi-valued attributes', ops: [op('add', null, { emails: [{ value: 'n@x' }] })], expect: { emails: [...(USER['emails'] as unknown[]), { value: 'n@x' }] } },
  { name: 'pathless keys may be value paths', ops: [op('replace', null, { 'emails[type eq "work"].value': 'w@x' })], expect: { emails: [{ value: 'w@x', type: 'work', primary: true }, { value: 'ada@home.example', type: 'home' }] } },
  // read-only attributes
  { name: 'Okta pathless group rename echoing an unstored id is accepted', resource: { displayName: 'Old' }, ops: [op('replace', null, { id: 'g1', displayName: 'New' })], options: { readOnly: ['id', 'meta', 'members'] }, expect: { displayName: 'New', id: undefined } },
  { name: 'a pathless read-only value equal to the stored one is accepted', resource: { id: 'g1', displayName: 'Old' }, ops: [op('replace', null, { ID: 'g1', displayName: 'New' })], options: { readOnly: ['id'] }, expect: { id: 'g1', displayName: 'New' } },
  // sequencing
  { name: 'operations apply in order', ops: [op('replace', 'emails', []), op('add', 'emails', [{ value: 'a@x' }]), op('add', 'emails', [{ value: 'a@x' }])], expect: { emails: [{ value: 'a@x' }] } },
];

describe('applyPatch', () => {
  it.each(cases)('$name', ({ resource = USER, ops, options, expect: expected }) => {
    const input = frozen(resource);
    const result = applyPatch(input, ops, options);
    for (const [key, value] of Object.entries(expected)) {
      if (value === undefined) expect(result).not.toHaveProperty([key]);
      else expect(result[key], key).toEqual(value);
    }
    expect(input).toEqual(resource); // frozen input would have thrown on mutation; still equal
  });

  it('returns a new object that shares no nested state with the input', () => {
    const input = structuredClone(USER);
    const result = applyPatch(input, [op('add', 'title', 'x')]);
    expect(result).not.toBe(input);
    (result['name'] as Json)['givenName'] = 'changed';
    (result['emails'] as Json[]).push({ value: 'z' });
    expect(input).toEqual(USER);
  });

  it('leaves untouched attributes exactly as they were', () => {
    const result = applyPatch(frozen(), [op('replace', 'displayName', 'X')]);
    expect(result).toEqual({ ...USER, displayName: 'X' });
  });

  it.each<[string, Json | undefined, readonly PatchOperation[], PatchOptions | undefined, ErrorCode, RegExp]>([
    ['replace on a value path with no match', undefined, [op('replace', 'emails[type eq "fax"].value', 'f@x')], undefined, 'no_target', /^no target/],
    ['replace on a value path of a missing attribute', { userName: 'u' }, [op('replace', 'emails[type eq "work"]', { value: 'w' })], undefined, 'no_target', /^no target/],
    ['add on a value path that cannot seed a new element', undefined, [op('add', 'emails[type co "fax"].value', 'f@x')], undefined, 'no_target', /^no target/],
    ['add on a value path with no match and a scalar element value', undefined, [op('add', 'emails[type eq "fax"]', 'f@x')], undefined, 'invalid_value', /must be an object/],
    ['a value filter on a single-valued attribute', undefined, [op('replace', 'name[givenName eq "Ada"].familyName', 'x')], undefined, 'invalid_path', /not multi-valued/],
    ['a malformed path', undefined, [op('add', 'emails[type eq "work"]x', 'x')], undefined, 'invalid_path', /Invalid attribute path/],
    ['a filter that does not parse', undefined, [op('remove', 'emails[type eq "work" and]')], undefined, 'invalid_filter', /Invalid filter/],
    ['remove without a path', undefined, [op('remove', null)], undefined, 'no_target', /remove needs a path/],
    ['pathless add with a non-object value', undefined, [op('add', null, ['x'])], undefined, 'invalid_value', /object value/],
    ['a path to a read-only attribute', { id: 'u1', userName: 'u' }, [op('replace', 'id', 'u2')], { readOnly: ['id', 'meta', 'groups'] }, 'mutability', /id is read-only/],
    ['a path to a read-only attribute even with the same value', { id: 'u1' }, [op('replace', 'ID', 'u1')], { readOnly: ['id'] }, 'mutability', /read-only/],
    ['a path below a read-only attribute', { meta: { version: '1' } }, [op('replace', 'meta.version', '2')], { readOnly: ['id', 'meta'] }, 'mutability', /meta is read-only/],
    ['a value path on a read-only attribute', { groups: [{ value: 'g1' }] }, [op('remove', 'groups[value eq "g1"]')], { readOnly: ['groups'] }, 'mutability', /groups is read-only/],
    ['a pathless change of a stored read-only value', { id: 'g1' }, [op('replace', null, { id: 'g2' })], { readOnly: ['id'] }, 'mutability', /read-only/],
    ['read-only names given in any case', { members: [] }, [op('add', 'members', [{ value: 'u' }])], { readOnly: ['MEMBERS'] }, 'mutability', /read-only/],
  ])('rejects %s', (_name, resource, ops, options, code, detail) => {
    const input = frozen(resource ?? USER);
    const error = errorOf(() => applyPatch(input, ops, options));
    expect(error.code).toBe(code);
    expect(error.detail).toMatch(detail);
  });

  it('an error leaves the input untouched even after earlier operations applied', () => {
    const input = structuredClone(USER);
    expect(() => applyPatch(input, [op('replace', 'displayName', 'X'), op('replace', 'emails[type eq "fax"].value', 'f')])).toThrow(AppError);
    expect(input).toEqual(USER);
  });
});

describe('identity-provider request shapes end to end', () => {
  const run = (resource: Json, body: unknown, options?: PatchOptions) => applyPatch(frozen(resource), parsePatchRequest(body), options);

  it('Microsoft Entra ID user update', () => {
    const body = {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'Replace', path: 'displayName', value: 'Ada King' },
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'ada.king@work.example' },
        { op: 'Add', path: 'phoneNumbers[type eq "mobile"].value', value: '+44 1' },
        { op: 'Add', path: 'name.givenName', value: 'Augusta' },
        { op: 'Replace', path: `${ENTERPRISE}:department`, value: 'Analytical Engines' },
        { op: 'Replace', path: 'active', value: 'False' },
      ],
    };
    const result = run(USER, body);
    expect(result).toMatchObject({
      displayName: 'Ada King',
      active: 'False',
      name: { givenName: 'Augusta', familyName: 'Lovelace' },
      emails: [{ value: 'ada.king@work.example', type: 'work', primary: true }, { value: 'ada@home.example', type: 'home' }],
      phoneNumbers: [{ type: 'mobile', value: '+44 1' }],
      [ENTERPRISE]: { department: 'Analytical Engines', manager: { value: 'boss-1' } },
    });
    expect(coerceBoolean(result['active'])).toBe(false);
  });

  it('Microsoft Entra ID group member removal by value array', () => {
    const group = { displayName: 'Eng', members: [{ value: 'u1' }, { value: 'u2' }, { value: 'u3' }] };
    const body = { schemas: [PATCH_OP], Operations: [{ op: 'Remove', path: 'members', value: [{ value: 'u1' }, { value: 'u3' }] }] };
    expect(run(group, body)['members']).toEqual([{ value: 'u2' }]);
  });

  it('Okta user deactivation and group rename', () => {
    expect(run(USER, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] })['active']).toBe(false);
    const rename = { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { id: 'abf4dd94', displayName: 'Renamed' } }] };
    expect(run({ displayName: 'Old' }, rename, { readOnly: ['id', 'meta', 'members'] })).toEqual({ displayName: 'Renamed' });
  });

  it('Okta group membership add and remove by value path', () => {
    const body = {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'add', path: 'members', value: [{ value: 'u9', display: 'nine' }] },
        { op: 'remove', path: 'members[value eq "u1"]' },
      ],
    };
    expect(run({ displayName: 'g', members: [{ value: 'u1' }] }, body)['members']).toEqual([{ value: 'u9', display: 'nine' }]);
  });
});
