import { CronPattern } from 'croner';

/**
 * NCRONTAB as Azure Functions timers read it: exactly six fields
 * `{second} {minute} {hour} {day} {month} {day-of-week}`, each a `*`, a number, a range `a-b`,
 * a step `*\/n`, `a-b/n` or `a/n` (NCrontab: `a` to the field's maximum, every n), or a comma list of
 * those; month and day-of-week also take English names (`Jan`, `January`, `Mon`, `Monday`, in any
 * case). Day-of-month and day-of-week must BOTH match (NCrontab's rule, unlike Vixie cron's OR).
 * croner's extensions (`L`, `W`, `#`, `?`, `@daily`, a year field) are refused, so that a policy
 * means the same thing here as in any Azure tool that reads NCRONTAB.
 */

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Full English names, first = `min`. NCrontab (like .NET) compares their first three letters. */
  readonly names?: readonly string[];
}

const FIELDS: readonly FieldSpec[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: [
      'JANUARY',
      'FEBRUARY',
      'MARCH',
      'APRIL',
      'MAY',
      'JUNE',
      'JULY',
      'AUGUST',
      'SEPTEMBER',
      'OCTOBER',
      'NOVEMBER',
      'DECEMBER',
    ],
  },
  {
    name: 'day-of-week',
    min: 0,
    max: 6,
    names: ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'],
  },
];

/** Why an expression is not NCRONTAB, in words an operator can act on. */
export class NcrontabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NcrontabError';
  }
}

/**
 * A checked NCRONTAB expression, reduced to what enumeration needs. croner parses it; we enumerate
 * ourselves because croner's DST rule fires "interval" jobs twice in the repeated autumn hour and is
 * slow per step, and the schedule module needs one fixed rule for every expression.
 */
export interface Ncrontab {
  readonly expression: string;
  /** Seconds after midnight at which it fires on a matching day, ascending, never empty. */
  readonly secondsOfDay: readonly number[];
  /** True when every calendar day matches (day, month and day-of-week all `*`). */
  readonly everyDay: boolean;
  /** Whether the calendar day `dayNumber` (days since 1970-01-01) matches day, month AND day-of-week. */
  matchesDay(dayNumber: number): boolean;
}

/**
 * A number, or a name: NCrontab reads any word by its first three letters (`Monkey` is Monday), so we
 * accept exactly the words whose meaning that leaves beyond doubt: the three-letter abbreviation, the
 * full name, or anything between (`Tues`, `Sept`), in any case; other words are refused.
 */
function parseValue(text: string, spec: FieldSpec): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < spec.min || n > spec.max) {
      throw new NcrontabError(`${spec.name} value ${n} is outside ${spec.min}-${spec.max}`);
    }
    return n;
  }
  const word = text.toUpperCase();
  const index = word.length >= 3 ? (spec.names?.findIndex((name) => name.startsWith(word)) ?? -1) : -1;
  if (index >= 0) return index + spec.min;
  if (/^[LW#?]|[LW#?]$|#/i.test(text)) {
    throw new NcrontabError(`${spec.name} uses '${text}': NCRONTAB has no L, W, # or ? (those are Quartz extensions)`);
  }
  const first = spec.names?.[0];
  const hint =
    first === undefined ? '' : ` or a name such as ${first.slice(0, 3)} or ${first[0]}${first.slice(1).toLowerCase()}`;
  throw new NcrontabError(`${spec.name} value '${text}' is not a number${hint}`);
}

/**
 * Checks one comma-separated item and rewrites it in numbers only, as `a`, `a-b` or `a-b/n`, so that
 * croner has nothing left to read its own way: names become numbers, `*` becomes `min-max`, and a
 * step on a single value (`5/15`) becomes NCrontab's `5-max/15`.
 */
function normalizeItem(item: string, spec: FieldSpec): string {
  const [range, step, extra] = item.split('/');
  if (range === undefined || range === '' || extra !== undefined) {
    throw new NcrontabError(`${spec.name} item '${item}' is not a value, a range or a step`);
  }
  if (step !== undefined && (!/^\d+$/.test(step) || Number(step) === 0)) {
    throw new NcrontabError(`${spec.name} step '${step}' must be a whole number of at least 1`);
  }
  const every = step === undefined ? 1 : Number(step);
  // croner refuses a step longer than the field; NCrontab takes it, and it selects the start alone.
  const span = (from: number, to: number): string =>
    from === to || from + every > to ? String(from) : every === 1 ? `${from}-${to}` : `${from}-${to}/${every}`;
  if (range === '*') return span(spec.min, spec.max);
  const bounds = range.split('-');
  if (bounds.length > 2 || bounds.some((b) => b === '')) {
    throw new NcrontabError(`${spec.name} range '${range}' must look like a-b`);
  }
  const [from, to] = bounds.map((b) => parseValue(b, spec)) as [number, number | undefined];
  if (to !== undefined && from > to) {
    throw new NcrontabError(`${spec.name} range '${range}' runs backwards (${from} > ${to})`);
  }
  if (to !== undefined) return span(from, to);
  return step === undefined ? String(from) : span(from, spec.max);
}

function splitFields(expression: string): string[] {
  const fields = expression.trim().split(/\s+/);
  if (fields.length === 5) {
    throw new NcrontabError(
      `has 5 fields; NCRONTAB needs 6: {second} {minute} {hour} {day} {month} {day-of-week} ` +
        `(for the 5-field cron '${fields.join(' ')}' write '0 ${fields.join(' ')}')`,
    );
  }
  if (fields.length !== 6 || fields[0] === '') {
    throw new NcrontabError(
      `has ${fields[0] === '' ? 0 : fields.length} fields; NCRONTAB needs 6: {second} {minute} {hour} {day} {month} {day-of-week}`,
    );
  }
  return fields;
}

function onesIn(flags: readonly number[], offset = 0): number[] {
  const out: number[] = [];
  flags.forEach((flag, index) => {
    if (flag) out.push(index + offset);
  });
  return out;
}

/**
 * Checks and compiles an NCRONTAB expression, or throws {@link NcrontabError} saying which field is
 * wrong and why.
 */
export function parseNcrontab(expression: string): Ncrontab {
  const fields = splitFields(expression);
  const numeric = fields.map((field, i) => {
    const spec = FIELDS[i] as FieldSpec;
    return field
      .split(',')
      .map((item) => normalizeItem(item, spec))
      .join(',');
  });
  const normalized = fields.join(' ');
  let pattern: CronPattern;
  try {
    pattern = new CronPattern(numeric.join(' '), undefined, { mode: '6-part' });
  } catch (error) {
    // Our own checks above should have caught everything croner refuses; keep its words if not.
    throw new NcrontabError(String((error as Error).message).replace(/^CronPattern: /, ''));
  }
  const secondsOfDay: number[] = [];
  for (const h of onesIn(pattern.hour)) {
    for (const m of onesIn(pattern.minute)) {
      for (const s of onesIn(pattern.second)) secondsOfDay.push(h * 3600 + m * 60 + s);
    }
  }
  const days = pattern.day.map(Boolean);
  const months = pattern.month.map(Boolean);
  // croner keeps bit masks for `#n` in day-of-week; without `#`, any non-zero entry means "matches".
  const weekdays = pattern.dayOfWeek.map(Boolean);
  const matchesDay = (dayNumber: number): boolean => {
    const date = new Date(dayNumber * 86_400_000);
    return (
      (days[date.getUTCDate() - 1] ?? false) &&
      (months[date.getUTCMonth()] ?? false) &&
      (weekdays[date.getUTCDay()] ?? false)
    );
  };
  const everyDay = fields.slice(3).every((f) => f === '*');
  return { expression: normalized, secondsOfDay, everyDay, matchesDay };
}
