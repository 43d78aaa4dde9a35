import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  classifySlots,
  closestSlots,
  MAX_LISTED_MISSED_SLOTS,
  MAX_LOOKBACK_MS,
  minimumGapMs,
  mostSlotsWithin,
  nextSlotAfter,
  shortestSpanOf,
  slotsBetween,
  slotTimesBetween,
  type Schedule,
  CADENCE_HORIZON,
} from '../../lib/schedule';
import { transitionsBetween } from '../../lib/timezone';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const at = (iso: string): number => Date.parse(iso);

describe('slotsBetween with everyHours', () => {
  it('aligns slots to multiples of n hours since the Unix epoch, in UTC', () => {
    expect(slotsBetween({ everyHours: 6 }, at('2026-11-22T00:00:00Z'), at('2026-11-23T00:00:00Z'))).toEqual([
      '2026-11-22T06:00:00.000Z',
      '2026-11-22T12:00:00.000Z',
      '2026-11-22T18:00:00.000Z',
      '2026-11-23T00:00:00.000Z',
    ]);
    // 5 does not divide 24: still k·5 h after the epoch, so the hour of day drifts from day to day.
    expect(slotsBetween({ everyHours: 5 }, at('2026-11-22T00:00:00Z'), at('2026-11-22T12:00:00Z'))).toEqual([
      '2026-11-22T04:00:00.000Z',
      '2026-11-22T09:00:00.000Z',
    ]);
  });

  it('treats the range as (from, to]: a slot at `from` belongs to the previous range', () => {
    const slot = at('2026-11-22T12:00:00Z');
    expect(slotsBetween({ everyHours: 3 }, slot, slot + HOUR)).toEqual([]);
    expect(slotsBetween({ everyHours: 3 }, slot - HOUR, slot)).toEqual(['2026-11-22T12:00:00.000Z']);
    expect(slotsBetween({ everyHours: 3 }, slot, slot)).toEqual([]);
  });
});

describe('slotsBetween with cron across DST in Europe/Berlin', () => {
  const berlin = (cron: string): Schedule => ({ cron, timeZone: 'Europe/Berlin' });

  it('keeps an hourly schedule hourly in UTC on the spring-forward night, inventing no extra slot', () => {
    // 2026-03-29 02:00 CET jumps to 03:00 CEST (01:00Z): local 02:00 does not exist.
    expect(slotsBetween(berlin('0 0 * * * *'), at('2026-03-28T22:00:00Z'), at('2026-03-29T03:00:00Z'))).toEqual([
      '2026-03-28T23:00:00.000Z',
      '2026-03-29T00:00:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-29T02:00:00.000Z',
      '2026-03-29T03:00:00.000Z',
    ]);
  });

  it('runs a daily slot that falls in the skipped hour once, as far after the jump (02:30 -> 03:30 CEST)', () => {
    expect(slotsBetween(berlin('0 30 2 * * *'), at('2026-03-27T12:00:00Z'), at('2026-03-30T12:00:00Z'))).toEqual([
      '2026-03-28T01:30:00.000Z',
      '2026-03-29T01:30:00.000Z',
      '2026-03-30T00:30:00.000Z',
    ]);
  });

  it('runs a slot in the repeated hour of fall-back once, at its first occurrence', () => {
    // 2026-10-25 03:00 CEST falls back to 02:00 CET (01:00Z): 02:30 happens at 00:30Z and 01:30Z.
    expect(slotsBetween(berlin('0 30 2 * * *'), at('2026-10-24T12:00:00Z'), at('2026-10-26T12:00:00Z'))).toEqual([
      '2026-10-25T00:30:00.000Z',
      '2026-10-26T01:30:00.000Z',
    ]);
    expect(slotsBetween(berlin('0 0 * * * *'), at('2026-10-24T22:00:00Z'), at('2026-10-25T04:00:00Z'))).toEqual([
      '2026-10-24T23:00:00.000Z',
      '2026-10-25T00:00:00.000Z',
      '2026-10-25T02:00:00.000Z',
      '2026-10-25T03:00:00.000Z',
      '2026-10-25T04:00:00.000Z',
    ]);
  });
});

describe('slotsBetween with cron across DST in America/New_York', () => {
  const newYork = (cron: string): Schedule => ({ cron, timeZone: 'America/New_York' });

  it('moves 02:30 on the spring-forward day to 03:30 EDT and keeps the other days at 02:30', () => {
    expect(slotsBetween(newYork('0 30 2 * * *'), at('2026-03-07T00:00:00Z'), at('2026-03-10T00:00:00Z'))).toEqual([
      '2026-03-07T07:30:00.000Z',
      '2026-03-08T07:30:00.000Z',
      '2026-03-09T06:30:00.000Z',
    ]);
  });

  it('runs 01:30 once on the fall-back day, in EDT', () => {
    expect(slotsBetween(newYork('0 30 1 * * *'), at('2026-10-31T00:00:00Z'), at('2026-11-03T00:00:00Z'))).toEqual([
      '2026-10-31T05:30:00.000Z',
      '2026-11-01T05:30:00.000Z',
      '2026-11-02T06:30:00.000Z',
    ]);
  });

  it('follows day-of-week on the local calendar, not the UTC one', () => {
    // Monday 00:30 in New York is Monday 05:30Z in winter; a UTC reading would pick Sunday night.
    expect(slotsBetween(newYork('0 30 0 * * Mon'), at('2026-11-20T00:00:00Z'), at('2026-12-01T00:00:00Z'))).toEqual([
      '2026-11-23T05:30:00.000Z',
      '2026-11-30T05:30:00.000Z',
    ]);
  });
});

describe('minimumGapMs', () => {
  it('is n hours for everyHours', () => {
    expect(minimumGapMs({ everyHours: 7 })).toBe(7 * HOUR);
  });

  it.each([
    ['0 0 */3 * * *', 'UTC', 3 * HOUR],
    ['0 0 */3 * * *', 'Europe/Berlin', 2 * HOUR],
    ['0 0 */4 * * *', 'Asia/Kolkata', 4 * HOUR],
    ['0 0 2 * * *', 'America/New_York', 23 * HOUR],
    ['0 0 1,3 * * *', 'America/New_York', 1 * HOUR],
    ['0 0 22 * * *', 'UTC', DAY],
    ['0 0 0,23 * * *', 'UTC', HOUR],
    ['0 0 6,18 * * Mon-Fri', 'UTC', 12 * HOUR],
    ['0 0 0 * * Mon', 'America/New_York', 7 * DAY - HOUR],
    ['0 0 0,12 1 * *', 'Australia/Lord_Howe', 11.5 * HOUR],
    ['0 0 9 1 1,7 *', 'UTC', 181 * DAY],
  ])('measures %s in %s, DST included', (cron, timeZone, expected) => {
    expect(minimumGapMs({ cron, timeZone })).toBe(expected);
  });

  it('names two slots at the minimum when DST causes it', () => {
    expect(closestSlots({ cron: '0 0 */3 * * *', timeZone: 'Europe/Berlin' }).between).toEqual([
      '2020-03-28T23:00:00.000Z',
      '2020-03-29T01:00:00.000Z',
    ]);
  });
});

describe('nextSlotAfter', () => {
  it('finds the next slot strictly after an instant', () => {
    expect(nextSlotAfter({ everyHours: 4 }, at('2026-11-22T04:00:00Z'))).toBe('2026-11-22T08:00:00.000Z');
    expect(nextSlotAfter({ cron: '0 30 2 * * *', timeZone: 'Europe/Berlin' }, at('2026-03-28T12:00:00Z'))).toBe(
      '2026-03-29T01:30:00.000Z',
    );
  });

  it('finds rare slots years ahead and answers undefined for a schedule that never fires', () => {
    expect(nextSlotAfter({ cron: '0 0 0 29 2 Mon' }, at('2026-01-01T00:00:00Z'))).toBe('2044-02-29T00:00:00.000Z');
    expect(nextSlotAfter({ cron: '0 0 0 30 2 *' }, at('2026-01-01T00:00:00Z'))).toBeUndefined();
  });
});

describe('classifySlots', () => {
  const schedule: Schedule = { everyHours: 3 };
  const slot = at('2026-11-22T12:00:00Z');

  it('makes the newest slot due while it is within the start window, inclusive', () => {
    expect(
      classifySlots({
        schedule,
        startWindowMinutes: 60,
        lastEvaluatedMs: slot - 5 * MINUTE,
        nowMs: slot + 60 * MINUTE,
      }),
    ).toEqual({
      due: ['2026-11-22T12:00:00.000Z'],
      missed: [],
      missedNotListed: 0,
    });
  });

  it('records the newest slot as Missed once it is older than the start window', () => {
    expect(
      classifySlots({
        schedule,
        startWindowMinutes: 60,
        lastEvaluatedMs: slot - 5 * MINUTE,
        nowMs: slot + 61 * MINUTE,
      }),
    ).toEqual({ due: [], missed: ['2026-11-22T12:00:00.000Z'], missedNotListed: 0 });
  });

  it('runs only the newest of several slots in range and records the older ones as Missed', () => {
    const result = classifySlots({
      schedule,
      startWindowMinutes: 180,
      lastEvaluatedMs: slot - 7 * HOUR,
      nowMs: slot + 3 * HOUR,
    });
    expect(result.due).toEqual(['2026-11-22T15:00:00.000Z']);
    expect(result.missed).toEqual(['2026-11-22T06:00:00.000Z', '2026-11-22T09:00:00.000Z', '2026-11-22T12:00:00.000Z']);
  });

  it('returns nothing when time has not moved past the last evaluation', () => {
    expect(classifySlots({ schedule, startWindowMinutes: 60, lastEvaluatedMs: slot, nowMs: slot })).toEqual({
      due: [],
      missed: [],
      missedNotListed: 0,
    });
  });

  it('bounds the work after a long outage: lists the newest missed slots, counts the rest, reports the unexamined stretch', () => {
    const nowMs = at('2026-11-22T12:10:00Z');
    const result = classifySlots({ schedule: { everyHours: 1 }, startWindowMinutes: 60, lastEvaluatedMs: 0, nowMs });
    expect(result.due).toEqual(['2026-11-22T12:00:00.000Z']);
    expect(result.missed).toHaveLength(MAX_LISTED_MISSED_SLOTS);
    expect(result.missed[result.missed.length - 1]).toBe('2026-11-22T11:00:00.000Z');
    // 31 days of hourly slots, minus the due one and the listed ones.
    expect(result.missedNotListed).toBe(MAX_LOOKBACK_MS / HOUR - 1 - MAX_LISTED_MISSED_SLOTS);
    expect(result.notExamined).toEqual({
      fromExclusive: '1970-01-01T00:00:00.000Z',
      toInclusive: new Date(nowMs - MAX_LOOKBACK_MS).toISOString(),
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

type Mode = 'ApplicationConsistent' | 'CrashConsistent';
const MIN_HOURS: Record<Mode, number> = { ApplicationConsistent: 3, CrashConsistent: 1 };
const ZONES = [
  'UTC',
  'Europe/Berlin',
  'America/New_York',
  'America/Santiago', // DST changes at local midnight
  'Australia/Lord_Howe', // 30-minute DST
  'Pacific/Chatham', // +12:45 / +13:45
  'Asia/Kolkata', // +05:30, no DST
];

const cronScheduleArb: fc.Arbitrary<Schedule> = fc
  .record({
    minute: fc.integer({ min: 0, max: 59 }),
    hours: fc.oneof(
      fc.constant('*'),
      fc.constantFrom('*/2', '*/3', '*/4', '*/6', '*/8', '*/12'),
      fc
        .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 6 }))
        .map(([from, length]) => `${from}-${Math.min(23, from + length)}`),
      fc
        .uniqueArray(fc.integer({ min: 0, max: 23 }), { minLength: 1, maxLength: 6 })
        .map((hs) => hs.sort((a, b) => a - b).join(',')),
    ),
    day: fc.constantFrom('*', '*', '*', '1-15', '*/2', '10,20'),
    dayOfWeek: fc.constantFrom('*', '*', '*', 'Mon-Fri', 'Sat,Sun', 'Wed', '0,3'),
    timeZone: fc.constantFrom(...ZONES),
  })
  .map(({ minute, hours, day, dayOfWeek, timeZone }) => ({
    cron: `0 ${minute} ${hours} ${day} * ${dayOfWeek}`,
    timeZone,
  }));

/** Schedules the policy validation accepts for `mode`. */
const scheduleFor = (mode: Mode): fc.Arbitrary<Schedule> =>
  fc
    .oneof(
      { arbitrary: fc.integer({ min: MIN_HOURS[mode], max: 48 }).map((everyHours) => ({ everyHours })), weight: 1 },
      { arbitrary: cronScheduleArb, weight: 3 },
    )
    .filter((s) => minimumGapMs(s) >= MIN_HOURS[mode] * HOUR);

/** The offset changes of each zone in 2026 (none for UTC and Kolkata): where DST bugs live. */
const dstChanges = (schedule: Schedule): number[] =>
  'cron' in schedule
    ? transitionsBetween(schedule.timeZone ?? 'UTC', at('2026-01-01T00:00:00Z'), at('2027-01-01T00:00:00Z')).map(
        (t) => t.atMs,
      )
    : [];

/** An instant in 2021-2038, half the time just before one of the schedule's DST changes. */
const instantFor = (schedule: Schedule): fc.Arbitrary<number> => {
  const uniform = fc.integer({ min: at('2021-01-01T00:00:00Z'), max: at('2038-01-01T00:00:00Z') });
  const changes = dstChanges(schedule);
  if (changes.length === 0) return uniform;
  return fc.oneof(
    uniform,
    fc
      .tuple(fc.constantFrom(...changes), fc.integer({ min: -3 * DAY, max: DAY }))
      .map(([change, offset]) => change + offset),
  );
};
/** Range lengths, whole minutes or not: ticks do not land on minutes. */
const spanArb = fc.integer({ min: 0, max: 6 * DAY });

const modeArb = fc.constantFrom<Mode>('ApplicationConsistent', 'CrashConsistent');
/** A mode, a schedule valid for it, and an instant to start a range at. */
const caseArb = modeArb.chain((mode) =>
  scheduleFor(mode).chain((schedule) => instantFor(schedule).map((from) => ({ mode, schedule, from }))),
);
const PROPERTY = { timeout: 120_000 };

describe('slotsBetween properties', () => {
  it('gives strictly increasing slots inside the range, at least the mode’s minimum interval apart', PROPERTY, () => {
    fc.assert(
      fc.property(caseArb, spanArb, ({ mode, schedule, from }, span) => {
        const slots = slotTimesBetween(schedule, from, from + span);
        const gap = minimumGapMs(schedule);
        expect(gap).toBeGreaterThanOrEqual(MIN_HOURS[mode] * HOUR);
        for (const [i, slot] of slots.entries()) {
          expect(slot).toBeGreaterThan(from);
          expect(slot).toBeLessThanOrEqual(from + span);
          expect(slot % MINUTE).toBe(0);
          if (i > 0) expect(slot - (slots[i - 1] as number)).toBeGreaterThanOrEqual(gap);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('splits at any point: slotsBetween(a, c) = slotsBetween(a, b) ++ slotsBetween(b, c)', PROPERTY, () => {
    fc.assert(
      fc.property(caseArb, spanArb, spanArb, ({ schedule, from: a }, ab, bc) => {
        const b = a + ab;
        const c = b + bc;
        expect(slotsBetween(schedule, a, c)).toEqual([
          ...slotsBetween(schedule, a, b),
          ...slotsBetween(schedule, b, c),
        ]);
      }),
      { numRuns: 100 },
    );
  });

  it('agrees with nextSlotAfter on the first slot of a range', PROPERTY, () => {
    fc.assert(
      fc.property(caseArb, ({ schedule, from }) => {
        const [first] = slotsBetween(schedule, from, from + 40 * DAY);
        if (first !== undefined) expect(nextSlotAfter(schedule, from)).toBe(first);
      }),
      { numRuns: 80 },
    );
  });
});

describe('slotsBetween across DST changes', () => {
  it('never gives one instant twice nor goes backwards for hourly schedules around every 2026 change', PROPERTY, () => {
    const hourlyAcrossChange = fc
      .record({
        minute: fc.integer({ min: 0, max: 59 }),
        hours: fc.constantFrom('*', '0-5', '1,2,3', '2,3,4'),
        timeZone: fc.constantFrom(...ZONES.filter((z) => dstChanges({ cron: '* * * * * *', timeZone: z }).length > 0)),
      })
      .chain(({ minute, hours, timeZone }) => {
        const schedule: Schedule = { cron: `0 ${minute} ${hours} * * *`, timeZone };
        return fc
          .tuple(fc.constantFrom(...dstChanges(schedule)), fc.integer({ min: 1, max: 2 * DAY }))
          .map(([change, before]) => ({ schedule, from: change - before }));
      });
    fc.assert(
      fc.property(hourlyAcrossChange, ({ schedule, from }) => {
        const slots = slotTimesBetween(schedule, from, from + 3 * DAY);
        for (let i = 1; i < slots.length; i++) expect(slots[i]).toBeGreaterThan(slots[i - 1] as number);
        expect(slots.length).toBeGreaterThan(0);
      }),
      { numRuns: 100 },
    );
  });
});

describe('classifySlots properties', () => {
  it('never reports a slot both due and missed, and accounts for every slot of the range', PROPERTY, () => {
    fc.assert(
      fc.property(
        caseArb,
        fc.integer({ min: 0, max: 3 * DAY }),
        fc.integer({ min: 5, max: 180 }),
        ({ schedule, from: last }, elapsed, startWindowMinutes) => {
          const nowMs = last + elapsed;
          const result = classifySlots({ schedule, startWindowMinutes, lastEvaluatedMs: last, nowMs });
          expect(result.due.length).toBeLessThanOrEqual(1);
          expect(result.due.filter((slot) => result.missed.includes(slot))).toEqual([]);
          const all = slotsBetween(schedule, last, nowMs);
          expect([...result.missed, ...result.due]).toEqual(all.slice(result.missedNotListed));
          expect(result.missedNotListed + result.missed.length + result.due.length).toBe(all.length);
          for (const slot of result.due) {
            expect(nowMs - Date.parse(slot)).toBeLessThanOrEqual(startWindowMinutes * MINUTE);
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});

/** The most slots in any closed window of `windowMs`, by brute force over a sorted list of slots. */
function mostIn(slots: readonly number[], windowMs: number): number {
  let most = 0;
  for (let i = 0, j = 0; i < slots.length; i++) {
    while (j < slots.length && (slots[j] as number) - (slots[i] as number) <= windowMs) j++;
    most = Math.max(most, j - i);
  }
  return most;
}

describe('mostSlotsWithin and shortestSpanOf (what retention by age keeps)', () => {
  it('counts an everyHours schedule arithmetically: floor(window / period) + 1 slots, count - 1 periods', () => {
    expect(mostSlotsWithin({ everyHours: 3 }, 62 * DAY)).toBe(497);
    expect(mostSlotsWithin({ everyHours: 3 }, 63 * DAY)).toBe(505);
    expect(mostSlotsWithin({ everyHours: 5 }, 0)).toBe(1);
    expect(mostSlotsWithin({ everyHours: 5 }, 5 * HOUR - 1)).toBe(1);
    expect(shortestSpanOf({ everyHours: 3 }, 501)).toBe(500 * 3 * HOUR);
    expect(shortestSpanOf({ everyHours: 3 }, 1)).toBe(0);
  });

  it('counts a closed window on real instants, DST included', () => {
    // Hourly in Berlin: the skipped 02:00 lands on 03:00 (one slot), the repeated 02:00 fires once.
    expect(mostSlotsWithin({ cron: '0 0 * * * *', timeZone: 'Europe/Berlin' }, 21 * DAY)).toBe(505);
    expect(mostSlotsWithin({ cron: '0 0 * * * *', timeZone: 'Europe/Berlin' }, DAY)).toBe(25);
    // Daily at 02:30 in Berlin: 501 of them fit in 500 days minus the spring-forward hour.
    expect(shortestSpanOf({ cron: '0 30 2 * * *', timeZone: 'Europe/Berlin' }, 501)).toBe(500 * DAY - HOUR);
    expect(mostSlotsWithin({ cron: '0 30 2 * * *', timeZone: 'Europe/Berlin' }, 499 * DAY)).toBe(500);
    expect(mostSlotsWithin({ cron: '0 30 2 * * *', timeZone: 'Europe/Berlin' }, 500 * DAY)).toBe(501);
    // Weekdays only: 5 a week.
    expect(mostSlotsWithin({ cron: '0 0 2 * * Mon-Fri', timeZone: 'UTC' }, 7 * DAY)).toBe(6);
    expect(mostSlotsWithin({ cron: '0 0 2 * * Mon-Fri', timeZone: 'UTC' }, 14 * DAY - 1)).toBe(10);
  });

  it('is infinite for a count the schedule never reaches within the horizon', () => {
    expect(shortestSpanOf({ cron: '0 0 0 29 2 *', timeZone: 'UTC' }, 10)).toBe(Infinity);
    expect(mostSlotsWithin({ cron: '0 0 0 29 2 *', timeZone: 'UTC' }, 3650 * DAY)).toBe(3);
  });

  it('refuses crons that fire more than 24 times a day, which no policy accepts', () => {
    expect(() => mostSlotsWithin({ cron: '0 */30 * * * *' }, DAY)).toThrow(RangeError);
    expect(() => mostSlotsWithin({ everyHours: 1 }, -1)).toThrow(RangeError);
    expect(() => shortestSpanOf({ everyHours: 1 }, 0)).toThrow(RangeError);
  });

  it.each([
    ['0 30 2 * * *', 'Europe/Berlin'],
    ['0 0 0 * * *', 'America/Santiago'],
    ['0 15 1,9,17 * * Mon-Fri', 'Australia/Lord_Howe'],
    ['0 45 */8 * * *', 'Pacific/Chatham'],
  ])('agrees with slotTimesBetween over the whole horizon for %s in %s', { timeout: 60_000 }, (cron, timeZone) => {
    const schedule: Schedule = { cron, timeZone };
    const slots = slotTimesBetween(schedule, CADENCE_HORIZON.fromMs, CADENCE_HORIZON.toMs);
    for (const days of [1, 6, 7, 30, 365, 1000, 3650]) {
      expect(mostSlotsWithin(schedule, days * DAY), `${days} days`).toBe(mostIn(slots, days * DAY));
    }
    for (const count of [2, 3, 24, 501, 2000]) {
      let shortest = Infinity;
      for (let i = 0; i + count - 1 < slots.length; i++) {
        shortest = Math.min(shortest, (slots[i + count - 1] as number) - (slots[i] as number));
      }
      expect(shortestSpanOf(schedule, count), `${count} slots`).toBe(shortest);
    }
  });

  it('never finds fewer slots than any window of slotTimesBetween holds', PROPERTY, () => {
    fc.assert(
      fc.property(caseArb, fc.integer({ min: 0, max: 40 * DAY }), ({ schedule, from }, window) => {
        const [first] = slotTimesBetween(schedule, from, from + 40 * DAY);
        const start = first ?? from;
        const held = slotTimesBetween(schedule, start - 1, start + window).length;
        expect(mostSlotsWithin(schedule, window)).toBeGreaterThanOrEqual(held);
      }),
      { numRuns: 60 },
    );
  });

  it(
    'says exactly how long a window must be to hold a count: mostSlotsWithin(span) >= count > mostSlotsWithin(span - 1)',
    PROPERTY,
    () => {
      fc.assert(
        fc.property(caseArb, fc.integer({ min: 1, max: 800 }), ({ schedule }, count) => {
          const span = shortestSpanOf(schedule, count);
          if (span === Infinity) {
            expect(mostSlotsWithin(schedule, 3650 * DAY)).toBeLessThan(count);
            return;
          }
          expect(mostSlotsWithin(schedule, span)).toBeGreaterThanOrEqual(count);
          if (span > 0) expect(mostSlotsWithin(schedule, span - 1)).toBeLessThan(count);
        }),
        { numRuns: 60 },
      );
    },
  );
});
