import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ARM_BUCKETS,
  FULL_BUCKET,
  floorSeconds,
  observeRemaining,
  plannedBurst,
  reserveTokens,
  tokensAt,
  type BucketState,
} from '../../../lib/pacing/armBuckets';

/** Azure's real bucket: `burst` tokens, refilled continuously; taking from an empty one is a 429. */
function realBucket(burst: number, perSecond: number) {
  let tokens = burst;
  let at = 0;
  return {
    take(count: number, nowMs: number): boolean {
      tokens = Math.min(burst, tokens + ((nowMs - at) / 1000) * perSecond);
      at = nowMs;
      if (tokens + 1e-9 < count) return false;
      tokens -= count;
      return true;
    },
  };
}

describe('ARM bucket reservations', () => {
  it('never let reserved calls drain the real bucket, whatever the sequence of reservations', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ count: fc.integer({ min: 0, max: 180 }), gapMs: fc.integer({ min: 0, max: 30_000 }) }), {
          maxLength: 60,
        }),
        fc.constantFrom(...(Object.keys(ARM_BUCKETS) as (keyof typeof ARM_BUCKETS)[])),
        (requests, kind) => {
          const spec = ARM_BUCKETS[kind];
          const bucket = realBucket(spec.burst, spec.refillPerSecond);
          let state: BucketState = FULL_BUCKET;
          let now = 1_000_000;
          const spends: { at: number; count: number }[] = [];
          for (const { count, gapMs } of requests) {
            now += gapMs;
            const r = reserveTokens(state, spec, count, now);
            expect(r.startAtMs).toBeGreaterThanOrEqual(now);
            state = r.state;
            spends.push({ at: r.startAtMs, count });
          }
          spends.sort((a, b) => a.at - b.at);
          for (const s of spends) expect(bucket.take(s.count, s.at)).toBe(true);
        },
      ),
    );
  });

  it('refuse more than the planned burst at once: no bucket ever holds that many', () => {
    expect(() => reserveTokens(FULL_BUCKET, ARM_BUCKETS.write, plannedBurst(ARM_BUCKETS.write) + 1, 0)).toThrow(
      RangeError,
    );
  });

  it('start at once while the burst lasts, then at the refill rate', () => {
    const spec = ARM_BUCKETS.write;
    const first = reserveTokens(FULL_BUCKET, spec, plannedBurst(spec), 0);
    expect(first.startAtMs).toBe(0);
    const next = reserveTokens(first.state, spec, 10, 0);
    expect(next.startAtMs).toBe(1000); // 10 writes at 10 per second
  });

  it('move the plan back when Azure reports fewer tokens than the model, and never forward', () => {
    const spec = ARM_BUCKETS.write;
    const drained = observeRemaining(FULL_BUCKET, spec, 0, 5_000);
    expect(tokensAt(drained, spec, 5_000)).toBeLessThanOrEqual(0);
    expect(reserveTokens(drained, spec, 1, 5_000).startAtMs).toBeGreaterThan(5_000);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 100_000 }), (remaining, at) => {
        const after = observeRemaining(drained, spec, remaining, at);
        expect(after.tatMs).toBeGreaterThanOrEqual(drained.tatMs);
      }),
    );
  });

  it('give the floor of a cycle as the burst and then the refill (limits A4)', () => {
    expect(floorSeconds(ARM_BUCKETS.write, 1_000)).toBe(80);
    expect(floorSeconds(ARM_BUCKETS.write, 5_000)).toBe(480);
    expect(floorSeconds(ARM_BUCKETS.read, 100)).toBe(0);
  });
});
