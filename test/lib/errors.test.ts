import { describe, expect, it } from 'vitest';
import { ensureError } from '../../lib/errors';

describe('ensureError', () => {
  it('returns an Error unchanged', () => {
    const error = new RangeError('out of range');
    expect(ensureError(error)).toBe(error);
  });

  it('wraps a thrown string and keeps it as the cause', () => {
    const wrapped = ensureError('boom');
    expect(wrapped.message).toBe('Non-Error thrown: boom');
    expect(wrapped.cause).toBe('boom');
  });

  it('describes a thrown object as JSON', () => {
    expect(ensureError({ code: 'X' }).message).toBe('Non-Error thrown: {"code":"X"}');
  });
});
