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
    ['0 0 5/2 * * *', "hour step '5/2' needs a range or '*' before the '/', e.g. '*/2'"],
    ['0 0 1,,2 * * *', "hour item '' is not a value, a range or a step"],
    ['@daily', 'has 1 fields'],
  ])('refuses %j: %s', (expression, message) => {
    expect(() => parseNcrontab(expression)).toThrow(NcrontabError);
    expect(() => parseNcrontab(expression)).toThrow(message);
  });
});
