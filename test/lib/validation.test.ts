import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatPath, parseWith, rule, ValidationError, type ValidationIssue } from '../../lib/validation';

function issuesOf(fn: () => unknown): readonly ValidationIssue[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).issues;
  }
  throw new Error('expected a ValidationError');
}

const sample = z.strictObject({
  name: z.string().min(1),
  count: z.number().int().min(1).max(500),
  mode: z.enum(['ApplicationConsistent', 'CrashConsistent']),
  copies: z
    .array(
      z.strictObject({
        targetRegion: z.string().refine((s) => /^[a-z0-9]+$/.test(s), {
          error: 'must be a region name such as westeurope',
          params: rule('region-name'),
        }),
      }),
    )
    .optional(),
  tags: z.record(z.string().max(3), z.string()).optional(),
  flag: z.boolean().default(false),
});

describe('parseWith', () => {
  it('returns the typed value with defaults applied when the input is valid', () => {
    const value = parseWith(sample, { name: 'a', count: 3, mode: 'CrashConsistent' }, 'sample');
    expect(value).toEqual({ name: 'a', count: 3, mode: 'CrashConsistent', flag: false });
  });

  it.each([
    ['a missing field', { count: 1, mode: 'CrashConsistent' }, 'name', 'required', 'is required'],
    ['a wrong type', { name: 1, count: 1, mode: 'CrashConsistent' }, 'name', 'type', 'must be a string'],
    [
      'a fraction where a whole number is needed',
      { name: 'a', count: 1.5, mode: 'CrashConsistent' },
      'count',
      'integer',
      'must be a whole number',
    ],
    [
      'a number below the minimum',
      { name: 'a', count: 0, mode: 'CrashConsistent' },
      'count',
      'minimum',
      'must be at least 1',
    ],
    [
      'a number above the maximum',
      { name: 'a', count: 501, mode: 'CrashConsistent' },
      'count',
      'maximum',
      'must be at most 500',
    ],
    [
      'an empty string',
      { name: '', count: 1, mode: 'CrashConsistent' },
      'name',
      'min-length',
      'must be at least 1 character long',
    ],
    [
      'a value outside the enum',
      { name: 'a', count: 1, mode: 'Crash' },
      'mode',
      'allowed-values',
      'must be one of "ApplicationConsistent", "CrashConsistent"',
    ],
    [
      'a typo in a field name',
      { name: 'a', count: 1, mode: 'CrashConsistent', cuont: 2 },
      'cuont',
      'unknown-field',
      'is not a known field',
    ],
    [
      'a named refinement inside a list',
      {
        name: 'a',
        count: 1,
        mode: 'CrashConsistent',
        copies: [{ targetRegion: 'westeurope' }, { targetRegion: 'West Europe' }],
      },
      'copies[1].targetRegion',
      'region-name',
      'must be a region name',
    ],
    [
      'a bad record key',
      { name: 'a', count: 1, mode: 'CrashConsistent', tags: { 'cost center': 'x' } },
      'tags["cost center"]',
      'max-length',
      'key must be at most 3 characters long',
    ],
  ])('reports %s with its field path and rule', (_label, input, field, ruleName, message) => {
    const issues = issuesOf(() => parseWith(sample, input, 'sample'));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ field, rule: ruleName });
    expect(issues[0]?.message).toContain(message);
  });

  it('lists every issue in one error message, each prefixed with what was validated', () => {
    let caught: unknown;
    try {
      parseWith(sample, { name: '', count: 0, mode: 'CrashConsistent', extra: true }, 'policy');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TypeError);
    const error = caught as ValidationError;
    expect(error.issues.map((i) => `${i.field}/${i.rule}`).sort()).toEqual([
      'count/minimum',
      'extra/unknown-field',
      'name/min-length',
    ]);
    expect(error.message).toContain('invalid policy (3 problems)');
    expect(error.message).toContain('policy.name: must be at least 1 character long [min-length]');
    expect(error.message).toContain('policy.count: must be at least 1 [minimum]');
    expect(error.message).toContain('policy.extra: is not a known field (check the spelling) [unknown-field]');
  });

  it('names the input itself when the whole value has the wrong type', () => {
    const issues = issuesOf(() => parseWith(sample, 'nope', 'policy'));
    expect(issues).toEqual([{ field: '', rule: 'type', message: 'must be an object' }]);
  });
});

describe('ValidationError', () => {
  it('puts a single issue on one line with the field, the message and the rule', () => {
    const error = new ValidationError('policy', [
      { field: 'schedule.everyHours', rule: 'minimum-interval', message: 'must be at least 3 hours' },
    ]);
    expect(error.name).toBe('ValidationError');
    expect(error.message).toBe(
      'invalid policy: policy.schedule.everyHours: must be at least 3 hours [minimum-interval]',
    );
  });
});

describe('formatPath', () => {
  it('writes paths the way a JSON reader would', () => {
    expect(formatPath(['copies', 1, 'targetRegion'])).toBe('copies[1].targetRegion');
    expect(formatPath(['selector', 'tags', 'cost center'])).toBe('selector.tags["cost center"]');
    expect(formatPath([0, 'name'])).toBe('[0].name');
    expect(formatPath([])).toBe('');
  });
});
