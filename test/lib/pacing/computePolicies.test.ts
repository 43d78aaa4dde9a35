import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { observePolicy, observeThrottle, reservePolicy, type PolicyState } from '../../../lib/pacing/computePolicies';

/**
 * A Compute policy as the emulator enforces it: `limit` requests per fixed window that opens at the first
 * request after the previous one closed. The client reserves, sends at the start it was given, and observes
 * the remaining count of every answer (and the window of a 429).
 */
function simulate(limit: number, windowMs: number, operations: number) {
  let state: PolicyState | undefined;
  let windowStart = -Infinity;
  let count = 0;
  let now = 0;
  let throttles = 0;
  for (let done = 0; done < operations;) {
    const r = reservePolicy(state, 1, now);
    state = r.state;
    now = Math.max(now, r.startAtMs);
    if (now - windowStart >= windowMs) {
      windowStart = now;
      count = 0;
    }
    if (count >= limit) {
      throttles++;
      state = observeThrottle(state, now, windowStart + windowMs - now, {
        startMs: windowStart,
        endMs: windowStart + windowMs,
        allowed: limit,
      });
      continue;
    }
    count++;
    done++;
    state = observePolicy(state, limit - count, now);
    now += 100;
  }
  return { throttles, elapsedMs: now };
}

describe('pacing against an undocumented Compute policy', () => {
  it('sends at once while the count is high', () => {
    const state = observePolicy(undefined, 149, 0);
    expect(reservePolicy(state, 10, 0).startAtMs).toBe(0);
  });

  it('waits for the window to roll over instead of sending into a count Azure would refuse', () => {
    let state = observePolicy(undefined, 9, 0);
    state = observePolicy(state, 1, 1_000);
    const r = reservePolicy(state, 1, 1_000);
    expect(r.startAtMs).toBeGreaterThan(1_000);
  });

  it('learns the window from a throttle and never meets a second one', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 40 }),
        fc.integer({ min: 1, max: 20 }).map((m) => m * 60_000),
        fc.integer({ min: 1, max: 6 }),
        (limit, windowMs, windows) => {
          const { throttles, elapsedMs } = simulate(limit, windowMs, limit * windows);
          expect(throttles).toBeLessThanOrEqual(1);
          // And it does not crawl: within a few windows of the floor.
          expect(elapsedMs).toBeLessThanOrEqual((windows + 3) * windowMs + 60 * 60_000);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('finishes a burst of three windows close to the floor of the limit', () => {
    const { throttles, elapsedMs } = simulate(300, 60_000, 1_000);
    expect(throttles).toBe(0);
    expect(elapsedMs).toBeLessThan(8 * 60_000);
  });
});
