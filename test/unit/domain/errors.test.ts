import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { AppError, ERROR_CODES, isAppError, type ErrorCode } from '../../../src/domain/errors.js';

const CODES = Object.keys(ERROR_CODES) as ErrorCode[];

describe('AppError', () => {
  it.each<[ErrorCode, number, boolean]>([
    ['invalid_input', 400, false],
    ['unauthenticated', 401, false],
    ['forbidden', 403, false],
    ['not_found', 404, false],
    ['uniqueness', 409, false],
    ['conflict', 409, true],
    ['precondition_failed', 412, false],
    ['payload_too_large', 413, false],
    ['rate_limited', 429, true],
    ['invalid_config', 500, false],
    ['internal', 500, true],
    ['not_implemented', 501, false],
    ['target_rejected', 502, false],
    ['unavailable', 503, true],
    ['target_unavailable', 503, true],
  ])('%s maps to HTTP %i (retryable: %s)', (code, status, retryable) => {
    const error = new AppError(code, 'boom');
    expect(error.status).toBe(status);
    expect(error.retryable).toBe(retryable);
  });

  it('takes status, retryable and a title from the closed table for every code', () => {
    for (const code of CODES) {
      const error = new AppError(code, 'x');
      expect(error.code).toBe(code);
      expect(error.status).toBe(ERROR_CODES[code].status);
      expect(error.retryable).toBe(ERROR_CODES[code].retryable);
      expect(error.status).toBeGreaterThanOrEqual(400);
      expect(error.status).toBeLessThan(600);
      expect(ERROR_CODES[code].title.length).toBeGreaterThan(0);
    }
  });

  it('never marks a 4xx client error other than conflict or rate limiting as retryable', () => {
    const retryableClientErrors = CODES.filter((code) => ERROR_CODES[code].status < 500 && ERROR_CODES[code].retryable);
    expect(retryableClientErrors.sort()).toEqual(['conflict', 'rate_limited']);
  });

  it('has sensible defaults without options', () => {
    const error = new AppError('not_found', 'agent a-1 not found');
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(AppError);
    expect(error.name).toBe('AppError');
    expect(error.message).toBe('agent a-1 not found');
    expect(error.detail).toBeUndefined();
    expect(error.meta).toEqual({});
    expect(error.retryAfterSeconds).toBeUndefined();
    expect(error.cause).toBeUndefined();
    expect('cause' in error).toBe(false);
    expect(typeof error.stack).toBe('string');
  });

  it('keeps detail, meta, retryAfterSeconds and cause', () => {
    const cause = new Error('socket hang up');
    const error = new AppError('target_unavailable', 'webhook down', {
      detail: 'target t-1 did not answer',
      meta: { targetId: 't-1' },
      retryAfterSeconds: 30,
      cause,
    });
    expect(error.detail).toBe('target t-1 did not answer');
    expect(error.meta).toEqual({ targetId: 't-1' });
    expect(error.retryAfterSeconds).toBe(30);
    expect(error.cause).toBe(cause);
  });

  it('keeps a falsy but defined cause', () => {
    expect(new AppError('internal', 'x', { cause: 0 }).cause).toBe(0);
    expect(new AppError('internal', 'x', { cause: null }).cause).toBeNull();
  });

  it('round-trips any code, message and options', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...CODES),
        fc.string(),
        fc.option(fc.string(), { nil: undefined }),
        fc.option(fc.nat(), { nil: undefined }),
        (code, message, detail, retryAfterSeconds) => {
          const options = { ...(detail === undefined ? {} : { detail }), ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) };
          const error = new AppError(code, message, options);
          expect(error.message).toBe(message);
          expect(error.detail).toBe(detail);
          expect(error.retryAfterSeconds).toBe(retryAfterSeconds);
          expect(isAppError(error)).toBe(true);
        },
      ),
    );
  });
});

describe('isAppError', () => {
  it.each<[string, unknown]>([
    ['a plain Error', new Error('x')],
    ['a look-alike object', { name: 'AppError', code: 'internal', message: 'x' }],
    ['a string', 'AppError'],
    ['null', null],
    ['undefined', undefined],
  ])('rejects %s', (_name, value) => {
    expect(isAppError(value)).toBe(false);
  });

  it('accepts an AppError, also when thrown and caught', () => {
    let caught: unknown;
    try {
      throw new AppError('forbidden', 'no');
    } catch (error) {
      caught = error;
    }
    expect(isAppError(caught)).toBe(true);
  });
});
