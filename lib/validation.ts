import type { z } from 'zod';

/**
 * One problem with one field of an input. `field` is a path such as `schedule.everyHours` or
 * `copies[1].targetRegion` (empty for the input as a whole); `rule` is a short, stable, kebab-case
 * name of the rule that failed (`required`, `unknown-field`, `minimum-interval`, ...), so that
 * callers and tests can match on it; `message` says what is wrong in plain words.
 */
export interface ValidationIssue {
  readonly field: string;
  readonly rule: string;
  readonly message: string;
}

/**
 * Bad input, with every problem found (not just the first), so an operator fixes a policy in one go.
 * Extends TypeError because the caller handed over a value of the wrong shape; HTTP handlers map it to 400.
 */
export class ValidationError extends TypeError {
  /** What was validated (`policy`, `backup request`, ...); prefixes each field in the message. */
  readonly what: string;
  readonly issues: readonly ValidationIssue[];

  constructor(what: string, issues: readonly ValidationIssue[]) {
    super(formatIssues(what, issues));
    this.name = 'ValidationError';
    this.what = what;
    this.issues = issues;
  }
}

/** `policy.schedule.everyHours: must be ... [minimum-interval]`, one line per issue. */
export function formatIssue(what: string, issue: ValidationIssue): string {
  const label = issue.field === '' ? what : issue.field.startsWith('[') ? what + issue.field : `${what}.${issue.field}`;
  return `${label}: ${issue.message} [${issue.rule}]`;
}

function formatIssues(what: string, issues: readonly ValidationIssue[]): string {
  if (issues.length === 0) return `invalid ${what}`;
  if (issues.length === 1) return `invalid ${what}: ${formatIssue(what, issues[0] as ValidationIssue)}`;
  return `invalid ${what} (${issues.length} problems):\n${issues.map((i) => `- ${formatIssue(what, i)}`).join('\n')}`;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Renders a path as a reader writes it in JSON terms: `copies[1].targetRegion`, `selector.tags["cost center"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && IDENTIFIER.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

/**
 * Creates the `params` a zod refinement carries so that {@link issuesFromZod} reports a named rule
 * instead of the generic `invalid`: `.refine(ok, { error: 'must be a GUID', params: rule('guid') })`.
 */
export function rule(name: string): { rule: string } {
  return { rule: name };
}

type ZodIssue = z.core.$ZodIssue;

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  record: 'an object',
  date: 'a date',
  null: 'null',
};

function isMissing(issue: ZodIssue): boolean {
  if ('input' in issue) return issue.input === undefined;
  // Without `reportInput` zod only says so in its English message.
  return /received undefined/.test(issue.message);
}

function describeLimit(origin: string, bound: number | bigint, atLeast: boolean, inclusive: boolean): string {
  const n = Number(bound);
  const word = atLeast ? (inclusive ? 'at least' : 'more than') : inclusive ? 'at most' : 'less than';
  switch (origin) {
    case 'string':
      return `must be ${word} ${n} character${n === 1 ? '' : 's'} long`;
    case 'array':
    case 'set':
      return `must have ${word} ${n} item${n === 1 ? '' : 's'}`;
    default:
      return `must be ${word} ${n}`;
  }
}

function customMessage(issue: ZodIssue, fallback: string): string {
  // zod's own English defaults start with "Invalid" or "Too"; anything else was written by us on the schema.
  return /^(Invalid|Too (small|big)|Unrecognized)/.test(issue.message) ? fallback : issue.message;
}

function convert(issue: ZodIssue, base: readonly PropertyKey[]): ValidationIssue[] {
  const path = [...base, ...issue.path];
  const field = formatPath(path);
  switch (issue.code) {
    case 'invalid_type': {
      if (isMissing(issue)) return [{ field, rule: 'required', message: 'is required' }];
      const expected = TYPE_WORDS[issue.expected] ?? issue.expected;
      const ruleName = issue.expected === 'int' ? 'integer' : 'type';
      return [{ field, rule: ruleName, message: customMessage(issue, `must be ${expected}`) }];
    }
    case 'too_small':
      return [
        {
          field,
          rule: issue.origin === 'string' || issue.origin === 'array' ? 'min-length' : 'minimum',
          message: customMessage(issue, describeLimit(issue.origin, issue.minimum, true, issue.inclusive ?? true)),
        },
      ];
    case 'too_big':
      return [
        {
          field,
          rule: issue.origin === 'string' || issue.origin === 'array' ? 'max-length' : 'maximum',
          message: customMessage(issue, describeLimit(issue.origin, issue.maximum, false, issue.inclusive ?? true)),
        },
      ];
    case 'invalid_format':
      return [{ field, rule: 'format', message: customMessage(issue, `is not a valid ${issue.format}`) }];
    case 'not_multiple_of':
      return [{ field, rule: 'multiple-of', message: customMessage(issue, `must be a multiple of ${issue.divisor}`) }];
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({
        field: formatPath([...path, key]),
        rule: 'unknown-field',
        message: 'is not a known field (check the spelling)',
      }));
    case 'invalid_union': {
      // Report the alternative that got furthest; if none stands out, say what was expected.
      const best = [...issue.errors].sort((a, b) => a.length - b.length)[0];
      if (best !== undefined && best.length > 0) return best.flatMap((inner) => convert(inner, path));
      return [{ field, rule: 'one-of', message: customMessage(issue, 'matches none of the accepted forms') }];
    }
    case 'invalid_key':
      return issue.issues.flatMap((inner) => convert(inner, path)).map((i) => ({ ...i, message: `key ${i.message}` }));
    case 'invalid_element':
      return issue.issues.flatMap((inner) => convert(inner, path));
    case 'invalid_value': {
      const values = issue.values.map((v) => JSON.stringify(v)).join(', ');
      return [
        {
          field,
          rule: 'allowed-values',
          message: customMessage(issue, issue.values.length === 1 ? `must be ${values}` : `must be one of ${values}`),
        },
      ];
    }
    case 'custom': {
      const params = issue.params as { rule?: unknown } | undefined;
      const ruleName = typeof params?.rule === 'string' ? params.rule : 'invalid';
      return [{ field, rule: ruleName, message: customMessage(issue, 'is not valid') }];
    }
    default: {
      const unknownIssue = issue as { message: string };
      return [{ field, rule: 'invalid', message: unknownIssue.message }];
    }
  }
}

/** Translates a zod error into our issues: field paths as JSON readers write them, rules in plain words. */
export function issuesFromZod(error: z.core.$ZodError): ValidationIssue[] {
  return error.issues.flatMap((issue) => convert(issue, []));
}

/** Wraps a zod error as a {@link ValidationError} about `what`. */
export function validationErrorFromZod(error: z.core.$ZodError, what: string): ValidationError {
  return new ValidationError(what, issuesFromZod(error));
}

/**
 * Parses `input` with `schema` and returns the typed (defaulted, transformed) value, or throws a
 * {@link ValidationError} listing every problem. The one way inputs cross a boundary in RPO.
 */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  throw validationErrorFromZod(result.error, what);
}
