import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunkText, fitJsonArray, truncateText } from '../../../lib/tables/entityText';

describe('truncateText', () => {
  it('leaves short text alone and cuts long text to the limit with a marker', () => {
    expect(truncateText('abc', 10)).toBe('abc');
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), fc.integer({ min: 40, max: 200 }), (text, max) => {
        const cut = truncateText(text, max);
        expect(cut.length).toBeLessThanOrEqual(max);
        if (text.length > max) expect(cut).toMatch(/…\[truncated \d+ chars\]$/);
        else expect(cut).toBe(text);
      }),
    );
  });

  it('never splits a surrogate pair', () => {
    const cut = truncateText('😀'.repeat(50), 41);
    expect(cut).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });
});

describe('fitJsonArray', () => {
  it('always returns valid JSON within the limit, saying how many items were dropped', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 50 }), { maxLength: 200 }),
        fc.integer({ min: 30, max: 2000 }),
        (items, max) => {
          const json = fitJsonArray(items, (n) => `[${n} more]`, max);
          expect(json.length).toBeLessThanOrEqual(max);
          const back = JSON.parse(json) as string[];
          if (JSON.stringify(items).length <= max) expect(back).toEqual(items);
          else if (back.length > 0) expect(back.at(-1)).toBe(`[${items.length - back.length + 1} more]`);
        },
      ),
    );
  });
});

describe('chunkText', () => {
  it('splits into chunks of at most the size that join back to the text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), fc.integer({ min: 2, max: 50 }), (text, size) => {
        const chunks = chunkText(text, size);
        expect(chunks.join('')).toBe(text);
        expect(chunks.every((c) => c.length <= size)).toBe(true);
      }),
    );
  });
});
