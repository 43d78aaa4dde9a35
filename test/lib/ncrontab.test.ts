import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NcrontabError, parseNcrontab } from '../../lib/ncrontab';

const dayNumber = (iso: string): number => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;

describe('parseNcrontab', () => {
  it('reads the six fields into firing times of day', () => {
    expect(parseNcrontab('0 30 */6 * * *').secondsOfDay).toEqual([1800, 23400, 45000, 66600]);
    expect(parseNcrontab('0 0,30 9-10 * * *').secondsOfDay).toEqual([32400, 34200, 36000, 37800]);
    expect(parseNcrontab('  0   0   2   *   *   *  ').expression).toBe('0 0 2 * * *');
  });

  it('matches a day only when day, month AND day-of-week all match, as NCrontab does', () => {
    const fridayThe13th = parseNcrontab('0 0 0 13 * Fri');
    expect(fridayThe13th.matchesDay(dayNumber('2026-02-13'))).toBe(true); // a Friday
    expect(fridayThe13th.matchesDay(dayNumber('2026-01-13'))).toBe(false); // a Tuesday
    expect(fridayThe13th.matchesDay(dayNumber('2026-01-16'))).toBe(false); // a Friday, not the 13th
    expect(fridayThe13th.everyDay).toBe(false);
    expect(parseNcrontab('0 0 0 * * *').everyDay).toBe(true);
  });

  it('accepts English month and day names in any case, and ranges of them', () => {
    const pattern = parseNcrontab('0 0 6 * jan-Mar MON-fri');
    expect(pattern.matchesDay(dayNumber('2026-03-02'))).toBe(true); // Monday in March
    expect(pattern.matchesDay(dayNumber('2026-03-01'))).toBe(false); // Sunday
    expect(pattern.matchesDay(dayNumber('2026-04-01'))).toBe(false); // April
  });

  it.each([
    ['', 'has 0 fields; NCRONTAB needs 6'],
    [
      '0 0 * * *',
      "has 5 fields; NCRONTAB needs 6: {second} {minute} {hour} {day} {month} {day-of-week} (for the 5-field cron '0 0 * * *' write '0 0 0 * * *')",
    ],
    ['0 0 0 * * * 2026', 'has 7 fields'],
    ['60 0 0 * * *', 'second value 60 is outside 0-59'],
    ['0 0 24 * * *', 'hour value 24 is outside 0-23'],
    ['0 0 0 0 * *', 'day value 0 is outside 1-31'],
    ['0 0 0 * 13 *', 'month value 13 is outside 1-12'],
    ['0 0 0 * * 7', 'day-of-week value 7 is outside 0-6'],
    ['0 0 0 L * *', "day uses 'L': NCRONTAB has no L, W, # or ?"],
    ['0 0 0 * * 5#2', "day-of-week uses '5#2'"],
    ['0 0 0 ? * *', "day uses '?'"],
    ['0 0 0 * * Fun', "day-of-week value 'Fun' is not a number or a name such as SUN"],
    ['0 0 x * * *', "hour value 'x' is not a number"],
    ['0 0 5-1 * * *', "hour range '5-1' runs backwards (5 > 1)"],
    ['0 0 1-2-3 * * *', "hour range '1-2-3' must look like a-b"],
    ['0 0 */0 * * *', "hour step '0' must be a whole number of at least 1"],
    ['0 0 0 * * Monkey', "day-of-week value 'Monkey' is not a number or a name such as SUN or Sunday"],
    ['0 0 0 * * Mo', "day-of-week value 'Mo' is not a number"],
    ['0 0 0 * Janvier *', "month value 'Janvier' is not a number or a name such as JAN or January"],
    ['0 0 0 * * 3/0', "day-of-week step '0' must be a whole number of at least 1"],
    ['0 70/5 0 * * *', 'minute value 70 is outside 0-59'],
    ['0 0 1,,2 * * *', "hour item '' is not a value, a range or a step"],
    ['@daily', 'has 1 fields'],
  ])('refuses %j: %s', (expression, message) => {
    expect(() => parseNcrontab(expression)).toThrow(NcrontabError);
    expect(() => parseNcrontab(expression)).toThrow(message);
  });
});

/** One NCRONTAB field: where it sits, its range, and how to read back the values an item in it selects. */
interface FieldProbe {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly values: (item: string) => number[];
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
// 2026-01-04 is a Sunday: 2026-01-04 + d is day-of-week d.
const FIELD_PROBES: readonly FieldProbe[] = [
  { name: 'second', min: 0, max: 59, values: (item) => [...parseNcrontab(`${item} 0 0 * * *`).secondsOfDay] },
  {
    name: 'minute',
    min: 0,
    max: 59,
    values: (item) => parseNcrontab(`0 ${item} 0 * * *`).secondsOfDay.map((s) => s / 60),
  },
  {
    name: 'hour',
    min: 0,
    max: 23,
    values: (item) => parseNcrontab(`0 0 ${item} * * *`).secondsOfDay.map((s) => s / 3600),
  },
  {
    name: 'day',
    min: 1,
    max: 31,
    values: (item) =>
      range(1, 31).filter((d) => parseNcrontab(`0 0 0 ${item} * *`).matchesDay(dayNumber('2026-01-01') + d - 1)),
  },
  {
    name: 'month',
    min: 1,
    max: 12,
    values: (item) =>
      range(1, 12).filter((m) => parseNcrontab(`0 0 0 1 ${item} *`).matchesDay(Date.UTC(2026, m - 1, 1) / 86_400_000)),
  },
  {
    name: 'day-of-week',
    min: 0,
    max: 6,
    values: (item) =>
      range(0, 6).filter((d) => parseNcrontab(`0 0 0 * * ${item}`).matchesDay(dayNumber('2026-01-04') + d)),
  },
];

/** NCrontab's own reading of a stepped range: from, from + step, ... up to `to`. */
const stepped = (from: number, to: number, step: number): number[] =>
  range(from, to).filter((v) => (v - from) % step === 0);

describe('NCRONTAB steps', () => {
  it.each([
    ['second', '*/15', [0, 15, 30, 45], '5/15', [5, 20, 35, 50]],
    ['minute', '*/15', [0, 15, 30, 45], '5/15', [5, 20, 35, 50]],
    ['hour', '*/6', [0, 6, 12, 18], '5/6', [5, 11, 17, 23]],
    ['day', '*/15', [1, 16, 31], '5/15', [5, 20]],
    ['month', '*/3', [1, 4, 7, 10], '5/3', [5, 8, 11]],
    ['day-of-week', '*/2', [0, 2, 4, 6], '1/2', [1, 3, 5]],
  ])(
    'reads the %s field as NCrontab does: %s steps from the field minimum, %s from that value to the maximum',
    (name, star, starValues, single, singleValues) => {
      const probe = FIELD_PROBES.find((p) => p.name === name) as FieldProbe;
      expect(probe.values(star)).toEqual(starValues);
      expect(probe.values(single)).toEqual(singleValues);
    },
  );

  it('reads a/n as a-max/n and */n as min-max/n in every field, for every start and step', () => {
    const arb = fc
      .constantFrom(...FIELD_PROBES)
      .chain((probe) =>
        fc.tuple(fc.constant(probe), fc.integer({ min: probe.min, max: probe.max }), fc.integer({ min: 1, max: 70 })),
      );
    fc.assert(
      fc.property(arb, ([probe, start, step]) => {
        expect(probe.values(`${start}/${step}`)).toEqual(stepped(start, probe.max, step));
        expect(probe.values(`${start}/${step}`)).toEqual(probe.values(`${start}-${probe.max}/${step}`));
        expect(probe.values(`*/${step}`)).toEqual(stepped(probe.min, probe.max, step));
      }),
    );
  });
});

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** A spelling NCrontab reads as `name`: three letters up to the full name, each letter in either case. */
const spellingOf = (name: string): fc.Arbitrary<string> =>
  fc
    .tuple(
      fc.integer({ min: 3, max: name.length }),
      fc.array(fc.boolean(), { minLength: name.length, maxLength: name.length }),
    )
    .map(([length, upper]) =>
      [...name.slice(0, length)].map((c, i) => (upper[i] === true ? c.toUpperCase() : c.toLowerCase())).join(''),
    );

describe('NCRONTAB month and day names', () => {
  it('accepts full names as well as three-letter ones, in any case, in ranges and lists', () => {
    const probe = (name: string) => FIELD_PROBES.find((p) => p.name === name) as FieldProbe;
    expect(probe('day-of-week').values('Monday-Friday')).toEqual([1, 2, 3, 4, 5]);
    expect(probe('day-of-week').values('Mon-Fri')).toEqual([1, 2, 3, 4, 5]);
    expect(probe('day-of-week').values('SATURDAY,sunday')).toEqual([0, 6]);
    expect(probe('day-of-week').values('Tues,Thurs')).toEqual([2, 4]);
    expect(probe('day-of-week').values('Mon/2')).toEqual([1, 3, 5]);
    expect(probe('month').values('January,March')).toEqual([1, 3]);
    expect(probe('month').values('jan-MARCH')).toEqual([1, 2, 3]);
    expect(probe('month').values('Sept-December/2')).toEqual([9, 11]);
    expect(parseNcrontab('0 0 6 * January Monday').expression).toBe('0 0 6 * January Monday');
  });

  it('reads every spelling of a name as its number, alone, in a range, in a list and before a step', () => {
    const field = fc.constantFrom(
      { probe: FIELD_PROBES[4] as FieldProbe, names: MONTHS, first: 1 },
      { probe: FIELD_PROBES[5] as FieldProbe, names: WEEKDAYS, first: 0 },
    );
    const arb = field.chain(({ probe, names, first }) =>
      fc
        .tuple(fc.nat({ max: names.length - 1 }), fc.nat({ max: names.length - 1 }), fc.integer({ min: 1, max: 5 }))
        .chain(([i, j, step]) => {
          const [a, b] = i <= j ? [i, j] : [j, i];
          return fc.record({
            probe: fc.constant(probe),
            from: fc.constant(a + first),
            to: fc.constant(b + first),
            step: fc.constant(step),
            fromName: spellingOf(names[a] as string),
            toName: spellingOf(names[b] as string),
          });
        }),
    );
    fc.assert(
      fc.property(arb, ({ probe, from, to, step, fromName, toName }) => {
        expect(probe.values(fromName)).toEqual([from]);
        expect(probe.values(`${fromName}-${toName}`)).toEqual(range(from, to));
        expect(probe.values(`${fromName},${toName}`)).toEqual([...new Set([from, to])]);
        expect(probe.values(`${fromName}/${step}`)).toEqual(stepped(from, probe.max, step));
      }),
    );
  });
});
