import { describe, expect, it } from 'vitest';
import { clockFromEnvironment, ManualClock, parseDuration, ScaledClock } from '../../local/clock';

describe('parseDuration', () => {
  it('reads milliseconds, units and combinations', () => {
    expect(parseDuration(1500)).toBe(1500);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('3h')).toBe(3 * 3_600_000);
    expect(parseDuration('1h30m')).toBe(90 * 60_000);
    expect(parseDuration('2d')).toBe(2 * 86_400_000);
  });

  it('rejects text that is not a duration, naming the accepted forms', () => {
    expect(() => parseDuration('3 hours')).toThrow(/250ms, 30s, 5m, 3h, 2d/);
    expect(() => parseDuration('')).toThrow(RangeError);
    expect(() => parseDuration(-1)).toThrow(RangeError);
  });
});

describe('ManualClock', () => {
  it('fires due timers in time order while advancing, and not the ones beyond', async () => {
    const clock = new ManualClock('2026-01-01T00:00:00Z');
    const fired: string[] = [];
    clock.at(clock.now() + 3_600_000, () => fired.push(`1h@${new Date(clock.now()).toISOString()}`));
    clock.at(clock.now() + 60_000, () => fired.push('1m'));
    clock.at(clock.now() + 86_400_000, () => fired.push('1d'));
    await clock.advance('2h');
    expect(fired).toEqual(['1m', '1h@2026-01-01T01:00:00.000Z']);
    expect(new Date(clock.now()).toISOString()).toBe('2026-01-01T02:00:00.000Z');
  });

  it('fires timers that work inside the window schedules', async () => {
    const clock = new ManualClock(0);
    const fired: number[] = [];
    const tick = (): void => {
      fired.push(clock.now());
      if (fired.length < 3) clock.at(clock.now() + 1_000, tick);
    };
    clock.at(1_000, tick);
    await clock.advance('10s');
    expect(fired).toEqual([1_000, 2_000, 3_000]);
  });

  it('resolves sleep only once time has passed', async () => {
    const clock = new ManualClock(0);
    let done = false;
    const sleeping = clock.sleep(5_000).then(() => (done = true));
    await clock.advance('4s');
    expect(done).toBe(false);
    await clock.advance('1s');
    await sleeping;
    expect(done).toBe(true);
  });

  it('never goes backwards', async () => {
    const clock = new ManualClock(10_000);
    await expect(clock.set(0)).rejects.toThrow(/backwards/);
  });
});

describe('ScaledClock', () => {
  it('runs faster than the wall clock by its scale', async () => {
    const clock = new ScaledClock(1000);
    const start = clock.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(clock.now() - start).toBeGreaterThanOrEqual(40_000);
  });

  it('fires a timer in scaled time', async () => {
    const clock = new ScaledClock(3600);
    const start = clock.now();
    await new Promise<void>((resolve) => clock.at(start + 3_600_000, resolve));
    expect(clock.now() - start).toBeGreaterThanOrEqual(3_600_000);
  });
});

describe('clockFromEnvironment', () => {
  it('reads RPO_CLOCK_SCALE and rejects a bad value naming the setting', () => {
    expect(clockFromEnvironment({ RPO_CLOCK_SCALE: '60' }).scale).toBe(60);
    expect(clockFromEnvironment({}).scale).toBe(1);
    expect(() => clockFromEnvironment({ RPO_CLOCK_SCALE: 'fast' })).toThrow(/RPO_CLOCK_SCALE must be a number > 0/);
  });

  it('makes two clocks with the same RPO_CLOCK_ORIGIN agree on the time', async () => {
    const env = { RPO_CLOCK_SCALE: '3600', RPO_CLOCK_ORIGIN: String(Date.now() - 1_000) };
    const first = clockFromEnvironment(env);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = clockFromEnvironment(env);
    // Read back to back: at most a few real milliseconds (times 3600) apart, not the 20 ms between their births.
    const [a, b] = [first.now(), second.now()];
    expect(Math.abs(a - b)).toBeLessThan(3_600 * 5);
    expect(second.now() - Date.now()).toBeGreaterThanOrEqual(3_599_000 - 1_000);
  });

  it('rejects an RPO_CLOCK_ORIGIN that is not a past epoch-ms instant, naming the setting', () => {
    expect(() => clockFromEnvironment({ RPO_CLOCK_ORIGIN: 'yesterday' })).toThrow(/RPO_CLOCK_ORIGIN must be/);
    expect(() => clockFromEnvironment({ RPO_CLOCK_ORIGIN: String(Date.now() + 60_000) })).toThrow(/RPO_CLOCK_ORIGIN/);
  });
});
