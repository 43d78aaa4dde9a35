import { describe, expect, it } from 'vitest';
import { parseSchedule } from '../../../../local/host/triggers/timer';

const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('parseSchedule', () => {
  it('reads 6-field NCRONTAB with seconds first, in UTC', () => {
    const everyTenSeconds = parseSchedule('*/10 * * * * *', 'f');
    expect(iso(everyTenSeconds(at('2026-01-01T00:00:00Z')))).toBe('2026-01-01T00:00:10.000Z');
    expect(iso(everyTenSeconds(at('2026-01-01T00:00:05Z')))).toBe('2026-01-01T00:00:10.000Z');
    const weekdaysAtNineThirty = parseSchedule('0 30 9 * * 1-5', 'f');
    // 2026-01-03 is a Saturday: the next run is Monday the 5th.
    expect(iso(weekdaysAtNineThirty(at('2026-01-03T10:00:00Z')))).toBe('2026-01-05T09:30:00.000Z');
  });

  it('fires only when the day of the month and the day of the week both match, as NCRONTAB does', () => {
    const fridayThe13th = parseSchedule('0 0 0 13 * 5', 'f');
    // Fridays in January 2026 are the 2nd, 9th, 16th…; the 13th is a Tuesday. The first Friday the 13th is in February.
    expect(iso(fridayThe13th(at('2026-01-01T00:00:00Z')))).toBe('2026-02-13T00:00:00.000Z');
  });

  it('reads TimeSpan schedules as fixed intervals', () => {
    expect(parseSchedule('00:05:00', 'f')(1_000)).toBe(1_000 + 300_000);
    expect(parseSchedule('1.02:00:00', 'f')(0)).toBe(26 * 3_600_000);
  });

  it('rejects a 5-field cron and a bad expression, naming the field', () => {
    expect(() => parseSchedule('*/5 * * * *', "Function 'tick' schedule")).toThrow(
      /Function 'tick' schedule: "\*\/5 \* \* \* \*" must be a 6-field NCRONTAB expression/,
    );
    expect(() => parseSchedule('0 0 25 * * *', 'sched')).toThrow(/sched: "0 0 25 \* \* \*" is not a valid NCRONTAB/);
    expect(() => parseSchedule('00:00:00', 'sched')).toThrow(/must be longer than zero/);
  });
});
