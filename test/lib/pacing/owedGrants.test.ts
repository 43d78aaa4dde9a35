import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addOwed,
  OWED_BUCKET_MS,
  payOwed,
  SETTLE_MS,
  totalOwed,
  type OwedGrants,
} from '../../../lib/pacing/owedGrants';

/** Grants (count > 0) and answers (count 0) at increasing times. */
const events = fc.array(fc.record({ gapMs: fc.integer({ min: 0, max: 30_000 }), count: fc.nat(5) }), {
  maxLength: 200,
});

describe('what a Compute policy still owes', () => {
  it('owes every grant of the last minute until it is answered, oldest answered first, and nothing older', () => {
    fc.assert(
      fc.property(events, (list) => {
        let owed: OwedGrants = [];
        let atMs = 0;
        const grants: { atMs: number; left: number }[] = [];
        const live = (g: { atMs: number }) =>
          Math.floor(g.atMs / OWED_BUCKET_MS) * OWED_BUCKET_MS + OWED_BUCKET_MS + SETTLE_MS > atMs;
        for (const { gapMs, count } of list) {
          atMs += gapMs;
          if (count > 0) {
            owed = addOwed(owed, count, atMs);
            grants.push({ atMs, left: count });
          } else {
            owed = payOwed(owed, atMs);
            const oldest = grants.find((g) => g.left > 0 && live(g));
            if (oldest !== undefined) oldest.left -= 1;
          }
          const total = totalOwed(owed, atMs);
          // Answers pay the oldest grant first; a grant is owed until a minute after the end of its bucket.
          expect(total).toBe(grants.filter(live).reduce((sum, g) => sum + g.left, 0));
          // So every grant of the last minute not yet answered is still owed.
          const lastMinute = grants.filter((g) => g.atMs + SETTLE_MS > atMs).reduce((sum, g) => sum + g.left, 0);
          expect(total).toBeGreaterThanOrEqual(lastMinute);
          expect(owed.length).toBeLessThanOrEqual(SETTLE_MS / OWED_BUCKET_MS + 2);
        }
        expect(totalOwed(owed, atMs + SETTLE_MS + OWED_BUCKET_MS)).toBe(0);
      }),
    );
  });

  it('keeps paying back the oldest grant first', () => {
    let owed = addOwed(addOwed([], 2, 0), 3, 20_000);
    owed = payOwed(payOwed(owed, 21_000), 21_000);
    expect(owed).toEqual([[20_000, 3]]);
    // The first bucket is owed no longer a minute and a bucket after it: the newer one still is.
    expect(totalOwed(addOwed([], 2, 0), SETTLE_MS + OWED_BUCKET_MS)).toBe(0);
    expect(totalOwed(owed, SETTLE_MS + OWED_BUCKET_MS)).toBe(3);
  });
});
