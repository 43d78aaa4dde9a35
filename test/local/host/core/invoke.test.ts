import { describe, expect, it } from 'vitest';
import { fromTypedData } from '../../../../local/host/core/invoke';

describe('fromTypedData', () => {
  it('decodes a return value the way the extension reads it, keeping strings as strings', () => {
    expect(fromTypedData({ json: '{"isDone":true}' })).toEqual({ isDone: true });
    expect(fromTypedData({ string: '{"looks":"like json"}' })).toBe('{"looks":"like json"}');
    expect(fromTypedData({ int: 42 })).toBe(42);
    expect(fromTypedData({ double: 1.5 })).toBe(1.5);
    expect(fromTypedData({ bytes: Buffer.from('hi') })).toEqual(Buffer.from('hi'));
    expect(fromTypedData(undefined)).toBeUndefined();
    expect(fromTypedData(null)).toBeUndefined();
  });
});
