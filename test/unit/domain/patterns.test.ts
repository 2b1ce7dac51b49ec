import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { anyToolMatches, isToolPattern, toolMatches } from '../../../src/domain/patterns.js';

const segmentArb = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,6}$/);
const toolIdArb = fc.array(segmentArb, { minLength: 2, maxLength: 4 }).map((segments) => segments.join('.'));
const patternArb = fc.oneof(
  fc.constant('*'),
  toolIdArb,
  fc.array(segmentArb, { minLength: 1, maxLength: 3 }).map((segments) => `${segments.join('.')}.*`),
);

describe('toolMatches (table)', () => {
  it.each<[string, string, boolean]>([
    ['*', 'crm.contacts.read', true],
    ['crm.contacts.read', 'crm.contacts.read', true],
    ['crm.contacts.read', 'crm.contacts.write', false],
    ['crm.contacts.read', 'crm.contacts.read.all', false],
    ['crm.contacts.read', 'CRM.contacts.read', false],
    ['crm.*', 'crm.contacts.read', true],
    ['crm.*', 'crm.x', true],
    ['crm.*', 'crmx.read', false],
    ['crm.*', 'crm', false],
    ['crm.*', 'xcrm.read', false],
    ['crm.contacts.*', 'crm.contacts.read', true],
    ['crm.contacts.*', 'crm.contactsx.read', false],
    ['crm.contacts.*', 'crm.deals.read', false],
    ['crm*', 'crmx.read', false],
    ['crm*', 'crm*', true],
  ])('toolMatches(%j, %j) is %s', (pattern, toolId, expected) => {
    expect(toolMatches(pattern, toolId)).toBe(expected);
  });
});

describe('anyToolMatches (table)', () => {
  it.each<[string[], string, boolean]>([
    [[], 'crm.contacts.read', false],
    [['hr.*', 'crm.contacts.read'], 'crm.contacts.read', true],
    [['hr.*', 'crm.deals.*'], 'crm.contacts.read', false],
    [['hr.*', '*'], 'anything.at.all', true],
  ])('anyToolMatches(%j, %j) is %s', (patterns, toolId, expected) => {
    expect(anyToolMatches(patterns, toolId)).toBe(expected);
  });
});

describe('isToolPattern (table)', () => {
  it.each<[string, boolean]>([
    ['*', true],
    ['crm', true],
    ['crm.contacts.read', true],
    ['CRM.Contacts.Read', true],
    ['crm_2.contacts-x.read', true],
    ['crm.*', true],
    ['crm.contacts.*', true],
    ['', false],
    ['.*', false],
    ['*.*', false],
    ['crm.*.read', false],
    ['crm*', false],
    ['crm.', false],
    ['.crm', false],
    ['crm..read', false],
    ['_crm.read', false],
    ['-crm.read', false],
    ['crm.contacts read', false],
    ['crm/contacts', false],
    ['crm.**', false],
    [' crm.read', false],
    ['crm.read\n', false],
  ])('isToolPattern(%j) is %s', (value, expected) => {
    expect(isToolPattern(value)).toBe(expected);
  });
});

describe('pattern properties', () => {
  it('* matches every tool id and an exact id matches only itself', () => {
    fc.assert(
      fc.property(toolIdArb, toolIdArb, (a, b) => {
        expect(toolMatches('*', a)).toBe(true);
        expect(toolMatches(a, a)).toBe(true);
        expect(toolMatches(a, b)).toBe(a === b);
      }),
    );
  });

  it('prefix.* matches exactly the ids below prefix on a dot boundary', () => {
    fc.assert(
      fc.property(toolIdArb, toolIdArb, (prefix, toolId) => {
        expect(toolMatches(`${prefix}.*`, `${prefix}.${toolId}`)).toBe(true);
        expect(toolMatches(`${prefix}.*`, prefix)).toBe(false);
        expect(toolMatches(`${prefix}.*`, `${prefix}x.${toolId}`)).toBe(false);
        expect(toolMatches(`${prefix}.*`, toolId)).toBe(toolId.startsWith(`${prefix}.`));
      }),
    );
  });

  it('anyToolMatches is "some pattern matches", and adding patterns never un-matches', () => {
    fc.assert(
      fc.property(fc.array(patternArb, { maxLength: 5 }), patternArb, toolIdArb, (patterns, extra, toolId) => {
        const any = anyToolMatches(patterns, toolId);
        expect(any).toBe(patterns.some((pattern) => toolMatches(pattern, toolId)));
        if (any) expect(anyToolMatches([...patterns, extra], toolId)).toBe(true);
        expect(anyToolMatches([...patterns, extra], toolId)).toBe(any || toolMatches(extra, toolId));
      }),
    );
  });

  it('every generated id and pattern is a valid tool pattern', () => {
    fc.assert(
      fc.property(patternArb, (pattern) => {
        expect(isToolPattern(pattern)).toBe(true);
      }),
    );
  });

  it('a string with a character outside [A-Za-z0-9_.*-] is never a valid pattern', () => {
    fc.assert(
      fc.property(toolIdArb, fc.constantFrom(' ', '/', ':', '@', '?', 'é', '\t', '#'), fc.nat(), (id, bad, at) => {
        const position = at % (id.length + 1);
        expect(isToolPattern(id.slice(0, position) + bad + id.slice(position))).toBe(false);
      }),
    );
  });
});
