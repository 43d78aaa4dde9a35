import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArmError } from '../../../local/compute/armErrors';
import { PolicyCounters, SlidingWindows, SubscriptionBuckets, requestKind } from '../../../local/compute/throttling';
import { expectRestError, rawRequest, startTestEmulator, type TestEmulator } from './fixtures';

function takeOrError(take: () => unknown): ArmError | undefined {
  try {
    take();
    return undefined;
  } catch (error) {
    if (error instanceof ArmError) return error;
    throw error;
  }
}

describe('SubscriptionBuckets', () => {
  it('maps methods to ARM operation types', () => {
    expect([
      requestKind('GET'),
      requestKind('HEAD'),
      requestKind('PUT'),
      requestKind('PATCH'),
      requestKind('POST'),
      requestKind('DELETE'),
    ]).toEqual(['read', 'read', 'write', 'write', 'write', 'delete']);
  });

  it('never lets more requests through than the burst plus the refill since the start', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('read' as const, 'write' as const, 'delete' as const),
        fc.array(fc.integer({ min: 0, max: 2_000 }), { minLength: 1, maxLength: 600 }),
        (kind, gaps) => {
          const buckets = new SubscriptionBuckets(true);
          const [capacity, refill] = kind === 'read' ? [250, 25] : [200, 10];
          let now = 0;
          let allowed = 0;
          for (const gap of gaps) {
            now += gap;
            if (!takeOrError(() => buckets.take('s', kind, now))) allowed += 1;
          }
          return allowed <= capacity + Math.floor((now / 1000) * refill);
        },
      ),
    );
  });

  it('throttles with 429 SubscriptionRequestsThrottled, a Retry-After in whole seconds, and a zero counter', () => {
    const buckets = new SubscriptionBuckets(true);
    for (let i = 0; i < 200; i++) buckets.take('sub', 'write', 0);
    const error = takeOrError(() => buckets.take('sub', 'write', 0));
    expect(error?.status).toBe(429);
    expect(error?.code).toBe('SubscriptionRequestsThrottled');
    expect(error?.extra.headers).toMatchObject({
      'retry-after': '1',
      'x-ms-ratelimit-remaining-subscription-writes': '0',
    });
    // Writes refill at 10 per second: one token after 100 ms, not before.
    expect(takeOrError(() => buckets.take('sub', 'write', 50))?.extra.headers?.['retry-after']).toBe('1');
    expect(takeOrError(() => buckets.take('sub', 'write', 100))).toBeUndefined();
    expect(takeOrError(() => buckets.take('sub', 'write', 100))).toBeDefined();
    expect(takeOrError(() => buckets.take('sub', 'write', 1_000))).toBeUndefined();
    // Buckets are per subscription and per operation type.
    expect(takeOrError(() => buckets.take('other', 'write', 1_000))).toBeUndefined();
    expect(takeOrError(() => buckets.take('sub', 'read', 1_000))).toBeUndefined();
  });

  it('only counts when disabled', () => {
    const buckets = new SubscriptionBuckets(false);
    for (let i = 0; i < 1_000; i++) expect(takeOrError(() => buckets.take('sub', 'delete', 0))).toBeUndefined();
  });
});

describe('SlidingWindows', () => {
  it('allows `limit` requests per window and names the remaining count in the policy header', () => {
    const windows = new SlidingWindows();
    const hour = 3_600_000;
    expect(windows.take('P', 'vm', 3, hour, 0, true)).toBe('Microsoft.Compute/P;2');
    expect(windows.take('P', 'vm', 3, hour, 10, true)).toBe('Microsoft.Compute/P;1');
    expect(windows.take('P', 'vm', 3, hour, 20, true)).toBe('Microsoft.Compute/P;0');
    const error = takeOrError(() => windows.take('P', 'vm', 3, hour, 30 * 60_000, true));
    expect(error?.status).toBe(429);
    expect(error?.body()).toMatchObject({
      code: 'OperationNotAllowed',
      details: [{ code: 'TooManyRequests', target: 'P' }],
    });
    expect(error?.extra.headers?.['retry-after']).toBe(String(30 * 60));
    expect(windows.take('P', 'vm', 3, hour, hour, true)).toBe('Microsoft.Compute/P;0');
    expect(windows.take('P', 'other-vm', 3, hour, hour, true)).toBe('Microsoft.Compute/P;2');
  });

  it('holds for any request times: no window of the given length ever contains more than `limit` accepted requests', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.integer({ min: 0, max: 1_800_000 }), { maxLength: 60 }),
        (limit, gaps) => {
          const windows = new SlidingWindows();
          const windowMs = 3_600_000;
          const accepted: number[] = [];
          let now = 0;
          for (const gap of gaps) {
            now += gap;
            if (!takeOrError(() => windows.take('P', 'k', limit, windowMs, now, true))) accepted.push(now);
          }
          return accepted.every((start, i) => accepted.slice(i).filter((t) => t < start + windowMs).length <= limit);
        },
      ),
    );
  });
});

describe('PolicyCounters', () => {
  const minute = 60_000;

  it('counts a fixed window per key that opens at the first request, and only reports when not enforced', () => {
    const counters = new PolicyCounters();
    const setting = { limit: 2, windowMs: minute, enforce: false };
    expect(counters.count('P', 'sub', setting, 0)).toBe('Microsoft.Compute/P;1');
    expect(counters.count('P', 'sub', setting, 10)).toBe('Microsoft.Compute/P;0');
    expect(counters.count('P', 'sub', setting, 20)).toBe('Microsoft.Compute/P;0');
    expect(counters.count('P', 'other', setting, 20)).toBe('Microsoft.Compute/P;1');
    expect(counters.count('P', 'sub', setting, minute)).toBe('Microsoft.Compute/P;1');
  });

  it('refuses beyond the limit when enforced with CRP’s 429, Retry-After until the window closes, and does not count the refusal', () => {
    const counters = new PolicyCounters();
    const setting = { limit: 2, windowMs: 10 * minute, enforce: true };
    counters.count('P', 'sub', setting, 0);
    counters.count('P', 'sub', setting, minute);
    const error = takeOrError(() => counters.count('P', 'sub', setting, 90_500));
    expect(error?.status).toBe(429);
    expect(error?.extra.headers).toEqual({
      'retry-after': String(10 * 60 - 90),
      'x-ms-ratelimit-remaining-resource': 'Microsoft.Compute/P;0',
    });
    expect(error?.body()).toEqual({
      code: 'OperationNotAllowed',
      message: 'The server rejected the request because too many requests have been received for this subscription.',
      details: [
        {
          code: 'TooManyRequests',
          target: 'P',
          message:
            '{"operationGroup":"P","startTime":"1970-01-01T00:00:00.000Z","endTime":"1970-01-01T00:10:00.000Z","allowedRequestCount":2,"measuredRequestCount":3}',
        },
      ],
    });
    // Refusals are not counted: the next window starts fresh.
    expect(takeOrError(() => counters.count('P', 'sub', setting, 2 * minute))).toBeDefined();
    expect(counters.count('P', 'sub', setting, 10 * minute)).toBe('Microsoft.Compute/P;1');
  });

  it('never accepts more than `limit` requests in one window, whatever the request times', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5 }),
        fc.array(fc.integer({ min: 0, max: 30_000 }), { maxLength: 80 }),
        (limit, gaps) => {
          const counters = new PolicyCounters();
          const setting = { limit, windowMs: minute, enforce: true };
          const accepted = new Map<string, number>();
          let now = 0;
          for (const gap of gaps) {
            now += gap;
            if (takeOrError(() => counters.count('P', 'k', setting, now))) continue;
            const window = JSON.stringify(counters.toJSON()['P|k']?.[0]);
            accepted.set(window, (accepted.get(window) ?? 0) + 1);
          }
          return [...accepted.values()].every((n) => n <= limit);
        },
      ),
    );
  });

  it('forgets closed windows of many keys, keeps open ones, and round-trips through a snapshot', () => {
    const counters = new PolicyCounters();
    const setting = { limit: 5, windowMs: minute, enforce: true };
    for (let i = 0; i < 5_000; i++) counters.count('P', `rp-${i}`, setting, 0);
    counters.count('P', 'open', setting, minute - 1);
    for (let i = 0; i < 5_000; i++) counters.count('P', `later-${i}`, setting, minute + 1);
    const keys = Object.keys(counters.toJSON());
    expect(keys.length).toBeLessThan(6_000);
    expect(keys).toContain('P|open');
    const restored = new PolicyCounters();
    restored.load(counters.toJSON());
    expect(restored.count('P', 'open', setting, minute)).toBe('Microsoft.Compute/P;3');
  });
});

describe('ARM token buckets over HTTPS', () => {
  let t: TestEmulator;
  beforeAll(async () => {
    t = await startTestEmulator();
  });
  afterAll(async () => t.emulator.stop());

  it('answers the 251st read within a second with 429 and Retry-After, and reads again once the clock refills the bucket', async () => {
    const sub = randomUUID();
    const path = `/subscriptions/${sub}/providers/Microsoft.Compute/restorePointCollections?api-version=2025-04-01`;
    for (let i = 0; i < 250; i++) expect((await rawRequest(t.emulator, 'GET', path)).status).toBe(200);
    const throttled = await rawRequest(t.emulator, 'GET', path);
    expect(throttled.status).toBe(429);
    expect(throttled.headers['retry-after']).toBe('1');
    expect(throttled.headers['x-ms-ratelimit-remaining-subscription-reads']).toBe('0');
    expect(throttled.json).toMatchObject({ error: { code: 'SubscriptionRequestsThrottled' } });
    const client = t.client(sub).client;
    await expectRestError(client.restorePointCollections.get('rg', 'x'), {
      status: 429,
      code: 'SubscriptionRequestsThrottled',
    });
    await t.clock.advance('1s');
    expect((await rawRequest(t.emulator, 'GET', path)).status).toBe(200);
    // Another subscription has its own bucket.
    expect((await rawRequest(t.emulator, 'GET', path.replace(sub, randomUUID()))).status).toBe(200);
  });
});
