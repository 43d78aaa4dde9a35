import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeKeyPart,
  decodeRowKey,
  decodeVmPartitionKey,
  encodeKeyPart,
  isValidTableKey,
  MAX_KEY_TIME_MS,
  OPERATIONS,
  outcomeRowKey,
  rowKeyBoundSince,
  vmPartitionKey,
} from '../../lib/tableKeys';

// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[/\\#?\u0000-\u001f\u007f-\u009f]/;

/** Every UTF-16 code unit, lone surrogates included, and the characters the scheme treats specially. */
const anyText = fc.string({
  unit: fc.oneof(
    fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    fc.constantFrom('/', '|', '~', '\\', '#', '?', '~7c', '\u0085', '😀', 'İ'),
  ),
  maxLength: 80,
});
const operation = fc.constantFrom(...OPERATIONS);
const time = fc.integer({ min: 0, max: MAX_KEY_TIME_MS - 1 });

describe('vmPartitionKey', () => {
  it('lower-cases the VM id and replaces / by |', () => {
    expect(vmPartitionKey('/subscriptions/S1/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/Web1')).toBe(
      '|subscriptions|s1|resourcegroups|rg|providers|microsoft.compute|virtualmachines|web1',
    );
  });

  it('round-trips every string to its lower-cased form', () => {
    fc.assert(
      fc.property(
        anyText.filter((s) => s !== ''),
        (text) => {
          expect(decodeVmPartitionKey(vmPartitionKey(text))).toBe(text.toLowerCase());
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never produces a character Table keys forbid', () => {
    fc.assert(
      fc.property(
        anyText.filter((s) => s !== ''),
        (text) => {
          const key = vmPartitionKey(text);
          expect(key).not.toMatch(FORBIDDEN);
          expect(isValidTableKey(key)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps ids apart that differ only in an escaped character', () => {
    expect(vmPartitionKey('a|b')).not.toBe(vmPartitionKey('a/b'));
    expect(vmPartitionKey('a~7cb')).not.toBe(vmPartitionKey('a|b'));
    expect(vmPartitionKey('a#b')).toBe('a~23b');
  });

  it('refuses an empty id and one whose key exceeds 1 KiB', () => {
    expect(() => vmPartitionKey('')).toThrow(/vmId: .*\[required\]/);
    expect(() => vmPartitionKey('x'.repeat(1025))).toThrow(/vmId: .*1025 bytes.*\[key-size\]/);
  });
});

describe('encodeKeyPart', () => {
  it('round-trips every string exactly, case kept, and escapes / as well', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const key = encodeKeyPart(text);
        expect(key).not.toMatch(FORBIDDEN);
        expect(decodeKeyPart(key)).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a malformed escape', () => {
    expect(() => decodeKeyPart('a~zz')).toThrow(/\[escape\]/);
    expect(() => decodeKeyPart('a~')).toThrow(/\[escape\]/);
  });
});

describe('outcomeRowKey', () => {
  it('puts the inverted time first, then the operation and the point name', () => {
    expect(outcomeRowKey(0, 'create', 'rpo-daily-202611221800')).toBe('9999999999999_create_rpo-daily-202611221800');
    expect(outcomeRowKey(Date.UTC(2026, 10, 22), 'skip')).toMatch(/^\d{13}_skip_$/);
  });

  it('decodes back to time, operation, name and run id for all inputs', () => {
    fc.assert(
      fc.property(time, operation, anyText, fc.option(anyText, { nil: undefined }), (ms, op, name, runId) => {
        const key = outcomeRowKey(ms, op, name, runId);
        expect(key).not.toMatch(FORBIDDEN);
        const expected = runId === undefined ? {} : { runId };
        expect(decodeRowKey(key)).toEqual({ timeMs: ms, operation: op, restorePointName: name, ...expected });
      }),
      { numRuns: 500 },
    );
  });

  it('appends the run id after ~~ so runs in the same millisecond get their own rows', () => {
    expect(outcomeRowKey(0, 'skip', '', 'policy-run:daily:2026-11-22T18:00:00.000Z')).toBe(
      '9999999999999_skip_~~policy-run:daily:2026-11-22T18:00:00.000Z',
    );
    expect(outcomeRowKey(5, 'skip', 'x', 'run-a')).not.toBe(outcomeRowKey(5, 'skip', 'x', 'run-b'));
  });

  it('sorts newer rows first for all timestamps', () => {
    fc.assert(
      fc.property(time, time, operation, operation, anyText, anyText, (a, b, opA, opB, nameA, nameB) => {
        fc.pre(a !== b);
        const keyA = outcomeRowKey(a, opA, nameA, nameB);
        const keyB = outcomeRowKey(b, opB, nameB, nameA);
        expect(keyA < keyB).toBe(a > b);
      }),
      { numRuns: 1000 },
    );
  });

  it('bounds "since" queries exactly: rows at or after the time sort below the bound', () => {
    fc.assert(
      fc.property(time, time, operation, anyText, (rowTime, since, op, name) => {
        expect(outcomeRowKey(rowTime, op, name, name) < rowKeyBoundSince(since)).toBe(rowTime >= since);
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses times outside the key range and unknown operations', () => {
    expect(() => outcomeRowKey(-1, 'create')).toThrow(/time: .*\[time-range\]/);
    expect(() => outcomeRowKey(1.5, 'create')).toThrow(/\[time-range\]/);
    expect(() => outcomeRowKey(MAX_KEY_TIME_MS, 'create')).toThrow(/\[time-range\]/);
    expect(() => outcomeRowKey(0, 'backup' as never)).toThrow(/operation: must be one of create, copy/);
  });

  it('does not decode keys it did not make', () => {
    for (const key of ['', 'abc', '123_create_x', '9999999999999_backup_x', '9999999999999_create_~zz']) {
      expect(decodeRowKey(key), key).toBeUndefined();
    }
  });
});
