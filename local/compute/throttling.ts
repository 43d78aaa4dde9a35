import type { ArmError } from './armErrors';
import { computeThrottled, subscriptionThrottled } from './armErrors';

/**
 * ARM's regional token buckets per subscription (request-limits-and-throttling.md, 2025-05-28):
 * reads 250 burst refilling 25/s, writes and deletes 200 refilling 10/s; and Compute's per-resource
 * policies (`x-ms-ratelimit-remaining-resource`), with the documented restore point limits enforced.
 */
export type RequestKind = 'read' | 'write' | 'delete';

const BUCKETS: Record<RequestKind, { capacity: number; refillPerSecond: number; header: string }> = {
  read: { capacity: 250, refillPerSecond: 25, header: 'x-ms-ratelimit-remaining-subscription-reads' },
  write: { capacity: 200, refillPerSecond: 10, header: 'x-ms-ratelimit-remaining-subscription-writes' },
  delete: { capacity: 200, refillPerSecond: 10, header: 'x-ms-ratelimit-remaining-subscription-deletes' },
};

/** Global subscription limits are 15 x the per-principal ones (ARM docs); reported, not enforced separately. */
const GLOBAL_FACTOR = 15;

export function requestKind(method: string): RequestKind {
  if (method === 'GET' || method === 'HEAD') return 'read';
  if (method === 'DELETE') return 'delete';
  return 'write';
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export class SubscriptionBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly enabled: boolean) {}

  /** Takes a token; returns the headers to add, or throws the 429 ArmError. */
  take(subscriptionId: string, kind: RequestKind, nowMs: number): Record<string, string> {
    const spec = BUCKETS[kind];
    const key = `${subscriptionId.toLowerCase()}|${kind}`;
    let bucket = this.buckets.get(key);
    if (!bucket) this.buckets.set(key, (bucket = { tokens: spec.capacity, updatedMs: nowMs }));
    bucket.tokens = Math.min(spec.capacity, bucket.tokens + ((nowMs - bucket.updatedMs) / 1000) * spec.refillPerSecond);
    bucket.updatedMs = Math.max(bucket.updatedMs, nowMs);
    if (this.enabled && bucket.tokens < 1) {
      const retryAfterSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) / spec.refillPerSecond));
      const error: ArmError = subscriptionThrottled(kind, subscriptionId, retryAfterSeconds);
      error.extra.headers = { ...error.extra.headers, [spec.header]: '0' };
      throw error;
    }
    if (this.enabled) bucket.tokens -= 1;
    const remaining = Math.max(0, Math.floor(bucket.tokens));
    const globalHeader =
      kind === 'read'
        ? 'x-ms-ratelimit-remaining-subscription-global-reads'
        : 'x-ms-ratelimit-remaining-subscription-global-writes';
    return {
      [spec.header]: String(remaining),
      [globalHeader]: String(remaining * GLOBAL_FACTOR + GLOBAL_FACTOR - 1),
    };
  }
}

/** A sliding window of at most `limit` requests per `windowMs`, keyed (e.g. per VM and mode). */
export class SlidingWindows {
  /** policy → key → request times; nested so the (shared) key strings are not copied into composite keys. */
  private readonly windows = new Map<string, Map<string, number[]>>();

  /**
   * Records a request under `key`; throws Compute's 429 when the window is full. Returns the
   * `Microsoft.Compute/<policy>;<remaining>` header value.
   */
  take(policy: string, key: string, limit: number, windowMs: number, nowMs: number, enforce: boolean): string {
    let byKey = this.windows.get(policy);
    if (!byKey) this.windows.set(policy, (byKey = new Map()));
    const times = (byKey.get(key) ?? []).filter((t) => t > nowMs - windowMs);
    if (enforce && times.length >= limit) {
      const oldest = times[0] ?? nowMs;
      const retryAfterSeconds = Math.max(1, Math.ceil((oldest + windowMs - nowMs) / 1000));
      byKey.set(key, times);
      throw computeThrottled(
        policy,
        {
          startTime: new Date(nowMs - windowMs).toISOString(),
          endTime: new Date(nowMs).toISOString(),
          allowedRequestCount: limit,
          measuredRequestCount: times.length + 1,
        },
        retryAfterSeconds,
      ).withHeaders({ 'x-ms-ratelimit-remaining-resource': `Microsoft.Compute/${policy};0` });
    }
    times.push(nowMs);
    byKey.set(key, times);
    return `Microsoft.Compute/${policy};${Math.max(0, limit - times.length)}`;
  }

  /** Snapshot support. */
  toJSON(): Record<string, number[]> {
    const flatWindows: Record<string, number[]> = {};
    for (const [policy, byKey] of this.windows)
      for (const [key, times] of byKey) flatWindows[`${policy}|${key}`] = times;
    return flatWindows;
  }

  load(data: Record<string, number[]>): void {
    for (const [compound, times] of Object.entries(data)) {
      const at = compound.indexOf('|');
      const policy = compound.slice(0, at);
      let byKey = this.windows.get(policy);
      if (!byKey) this.windows.set(policy, (byKey = new Map()));
      byKey.set(compound.slice(at + 1), times);
    }
  }
}

/**
 * Informational CRP policies (names from live recordings; limits and windows undocumented, so
 * counted and reported but never enforced): a fixed window per key.
 */
export class PolicyCounters {
  private readonly counters = new Map<string, Map<string, { windowStart: number; count: number }>>();

  count(policy: string, key: string, limit: number, windowMs: number, nowMs: number): string {
    let byKey = this.counters.get(policy);
    if (!byKey) this.counters.set(policy, (byKey = new Map()));
    let counter = byKey.get(key);
    if (!counter || nowMs - counter.windowStart >= windowMs) {
      counter = { windowStart: nowMs, count: 0 };
      byKey.set(key, counter);
    }
    counter.count += 1;
    return `Microsoft.Compute/${policy};${Math.max(0, limit - counter.count)}`;
  }
}
