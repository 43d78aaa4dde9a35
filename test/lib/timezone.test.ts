import { describe, expect, it } from 'vitest';
import {
  isIanaTimeZone,
  offsetMs,
  toInstantMs,
  toInstantNear,
  toLocalMs,
  transitionsBetween,
} from '../../lib/timezone';

const HOUR = 3_600_000;
const at = (iso: string): number => Date.parse(iso);
/** Wall-clock reading written as an ISO string without a zone, as local milliseconds. */
const local = (wall: string): number => Date.parse(`${wall}Z`);

describe('isIanaTimeZone', () => {
  it('accepts IANA names the runtime knows', () => {
    for (const zone of ['UTC', 'Europe/Berlin', 'America/New_York', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5']) {
      expect(isIanaTimeZone(zone), zone).toBe(true);
    }
  });

  it('refuses unknown names, offsets and Windows names', () => {
    for (const zone of ['Mars/Olympus', '+01:00', 'W. Europe Standard Time', '', 'Europe/Berlin ']) {
      expect(isIanaTimeZone(zone), zone).toBe(false);
    }
  });
});

describe('offsetMs and toLocalMs', () => {
  it('give the offset in force at an instant, DST included', () => {
    expect(offsetMs('Europe/Berlin', at('2026-01-15T12:00:00Z'))).toBe(HOUR);
    expect(offsetMs('Europe/Berlin', at('2026-07-15T12:00:00Z'))).toBe(2 * HOUR);
    expect(offsetMs('America/New_York', at('2026-07-15T12:00:00Z'))).toBe(-4 * HOUR);
    expect(offsetMs('Asia/Kolkata', at('2026-07-15T12:00:00Z'))).toBe(5.5 * HOUR);
    expect(toLocalMs('Europe/Berlin', at('2026-07-15T12:00:00Z'))).toBe(local('2026-07-15T14:00:00'));
  });
});

describe('toInstantMs', () => {
  it('maps an ordinary wall-clock time to its only instant', () => {
    expect(toInstantMs('Europe/Berlin', local('2026-07-15T14:00:00'))).toBe(at('2026-07-15T12:00:00Z'));
    expect(toInstantMs('UTC', local('2026-07-15T14:00:00'))).toBe(at('2026-07-15T14:00:00Z'));
  });

  it('maps a time that happens twice (fall-back) to its first occurrence', () => {
    expect(toInstantMs('Europe/Berlin', local('2026-10-25T02:30:00'))).toBe(at('2026-10-25T00:30:00Z'));
    expect(toInstantMs('America/New_York', local('2026-11-01T01:30:00'))).toBe(at('2026-11-01T05:30:00Z'));
  });

  it('moves a time that never happens (spring-forward) forward by the size of the jump', () => {
    expect(toInstantMs('Europe/Berlin', local('2026-03-29T02:30:00'))).toBe(at('2026-03-29T01:30:00Z'));
    expect(toInstantMs('America/New_York', local('2026-03-08T02:30:00'))).toBe(at('2026-03-08T07:30:00Z'));
    // Lord Howe jumps by 30 minutes, 02:00 -> 02:30.
    expect(toInstantMs('Australia/Lord_Howe', local('2026-10-04T02:10:00'))).toBe(at('2026-10-03T15:40:00Z'));
  });

  it('agrees with toInstantNear around a known transition', () => {
    const [spring, autumn] = transitionsBetween(
      'Europe/Berlin',
      at('2026-01-01T00:00:00Z'),
      at('2027-01-01T00:00:00Z'),
    );
    for (const transition of [spring, autumn]) {
      if (transition === undefined) throw new Error('expected two transitions');
      for (let minutes = -180; minutes <= 180; minutes += 15) {
        const reading = transition.atMs + transition.offsetBeforeMs + minutes * 60_000;
        expect(toInstantNear(transition, reading)).toBe(toInstantMs('Europe/Berlin', reading));
      }
    }
  });
});

describe('transitionsBetween', () => {
  it('finds the two 2026 DST changes of Berlin and New York to the second, and none for UTC or Kolkata', () => {
    const year = [at('2026-01-01T00:00:00Z'), at('2027-01-01T00:00:00Z')] as const;
    expect(transitionsBetween('Europe/Berlin', ...year)).toEqual([
      { atMs: at('2026-03-29T01:00:00Z'), offsetBeforeMs: HOUR, offsetAfterMs: 2 * HOUR },
      { atMs: at('2026-10-25T01:00:00Z'), offsetBeforeMs: 2 * HOUR, offsetAfterMs: HOUR },
    ]);
    expect(transitionsBetween('America/New_York', ...year).map((t) => new Date(t.atMs).toISOString())).toEqual([
      '2026-03-08T07:00:00.000Z',
      '2026-11-01T06:00:00.000Z',
    ]);
    expect(transitionsBetween('UTC', ...year)).toEqual([]);
    expect(transitionsBetween('Asia/Kolkata', ...year)).toEqual([]);
  });
});
