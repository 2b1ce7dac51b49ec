import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { classifyChange, type ChangeKind, type PersonState } from '../../../src/domain/classify.js';

const person = (overrides: Partial<PersonState> = {}): PersonState => ({
  active: true,
  groupIds: ['g-1', 'g-2'],
  attributes: { department: 'eng', title: 'Engineer' },
  ...overrides,
});

const personArb: fc.Arbitrary<PersonState> = fc.record({
  active: fc.boolean(),
  groupIds: fc.array(fc.constantFrom('g-1', 'g-2', 'g-3'), { maxLength: 4 }),
  attributes: fc.dictionary(fc.constantFrom('department', 'title', 'manager'), fc.constantFrom('a', 'b', '')),
});
const maybePersonArb = fc.option(personArb, { nil: null });

describe('classifyChange (table)', () => {
  it.each<[string, PersonState | null, PersonState | null, ChangeKind]>([
    ['created active', null, person(), 'joiner'],
    ['created inactive', null, person({ active: false }), 'noop'],
    ['reactivated', person({ active: false }), person(), 'joiner'],
    ['reactivated with other groups', person({ active: false, groupIds: [] }), person(), 'joiner'],
    ['deactivated', person(), person({ active: false }), 'leaver'],
    ['deactivated and moved', person(), person({ active: false, groupIds: ['g-9'] }), 'leaver'],
    ['deleted while active', person(), null, 'leaver'],
    ['deleted while inactive', person({ active: false }), null, 'noop'],
    ['nothing before or after', null, null, 'noop'],
    ['inactive, groups changed', person({ active: false }), person({ active: false, groupIds: [] }), 'noop'],
    ['unchanged', person(), person(), 'noop'],
    ['groups reordered and duplicated', person(), person({ groupIds: ['g-2', 'g-1', 'g-2'] }), 'noop'],
    ['group added', person(), person({ groupIds: ['g-1', 'g-2', 'g-3'] }), 'mover'],
    ['group removed', person(), person({ groupIds: ['g-1'] }), 'mover'],
    ['group swapped', person(), person({ groupIds: ['g-1', 'g-3'] }), 'mover'],
    ['attribute changed', person(), person({ attributes: { department: 'sales', title: 'Engineer' } }), 'mover'],
    ['attribute added', person(), person({ attributes: { department: 'eng', title: 'Engineer', manager: 'm-1' } }), 'mover'],
    ['attribute removed', person(), person({ attributes: { department: 'eng' } }), 'mover'],
    ['attribute emptied', person(), person({ attributes: { department: '', title: 'Engineer' } }), 'mover'],
    ['attribute key case changed', person(), person({ attributes: { Department: 'eng', title: 'Engineer' } }), 'mover'],
  ])('%s -> %s', (_name, before, after, expected) => {
    expect(classifyChange(before, after)).toBe(expected);
  });
});

describe('classifyChange (properties)', () => {
  it('a state compared with itself (or a copy) is never a change', () => {
    fc.assert(
      fc.property(maybePersonArb, (state) => {
        const copy = state === null ? null : { ...state, groupIds: [...state.groupIds].reverse(), attributes: { ...state.attributes } };
        expect(classifyChange(state, state)).toBe('noop');
        expect(classifyChange(state, copy)).toBe('noop');
      }),
    );
  });

  it('joiner and leaver mirror each other; mover and noop are symmetric', () => {
    const mirror: Record<ChangeKind, ChangeKind> = { joiner: 'leaver', leaver: 'joiner', mover: 'mover', noop: 'noop' };
    fc.assert(
      fc.property(maybePersonArb, maybePersonArb, (before, after) => {
        expect(classifyChange(after, before)).toBe(mirror[classifyChange(before, after)]);
      }),
    );
  });

  it('is decided by activity first, then by group set and attributes', () => {
    fc.assert(
      fc.property(maybePersonArb, maybePersonArb, (before, after) => {
        const was = before?.active === true;
        const is = after?.active === true;
        const kind = classifyChange(before, after);
        if (!was && is) expect(kind).toBe('joiner');
        else if (was && !is) expect(kind).toBe('leaver');
        else if (!was && !is) expect(kind).toBe('noop');
        else {
          const sameGroups = JSON.stringify([...new Set(before!.groupIds)].sort()) === JSON.stringify([...new Set(after!.groupIds)].sort());
          const keys = new Set([...Object.keys(before!.attributes), ...Object.keys(after!.attributes)]);
          const sameAttributes = [...keys].every((key) => before!.attributes[key] === after!.attributes[key]);
          expect(kind).toBe(sameGroups && sameAttributes ? 'noop' : 'mover');
        }
      }),
    );
  });
});
