import type { ArmError } from './armErrors';
import { computeThrottled, subscriptionThrottled } from './armErrors';
import type { ComputePolicySetting } from './computePolicies';

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

/** Keys per policy before closed windows are swept (one key per restore point or operation would pile up). */
const SWEEP_MIN_SIZE = 4_096;

/**
 * CRP's undocumented policies (computePolicies.ts): a fixed window per key that opens at the first
 * counted request. Enforced only when the setting says so; a refused request is not counted.
 */
export class PolicyCounters {
  private readonly counters = new Map<string, Map<string, { windowStart: number; count: number }>>();
  /** Per policy: the map size at which closed windows are swept next (amortised O(1) per count). */
  private readonly sweepAt = new Map<string, number>();

  /**
   * Counts a request under `key`; throws Compute's 429 when enforced and the window is full. Returns
   * the `Microsoft.Compute/<policy>;<remaining>` header value.
   */
  count(policy: string, key: string, setting: ComputePolicySetting, nowMs: number): string {
    let byKey = this.counters.get(policy);
    if (!byKey) this.counters.set(policy, (byKey = new Map()));
    if (byKey.size >= (this.sweepAt.get(policy) ?? SWEEP_MIN_SIZE)) {
      for (const [other, counter] of byKey) if (nowMs - counter.windowStart >= setting.windowMs) byKey.delete(other);
      this.sweepAt.set(policy, Math.max(SWEEP_MIN_SIZE, 2 * byKey.size));
    }
    let counter = byKey.get(key);
    if (!counter || nowMs - counter.windowStart >= setting.windowMs) {
      counter = { windowStart: nowMs, count: 0 };
      byKey.set(key, counter);
    }
    if (setting.enforce && counter.count >= setting.limit) {
      const endMs = counter.windowStart + setting.windowMs;
      throw computeThrottled(
        policy,
        {
          startTime: new Date(counter.windowStart).toISOString(),
          endTime: new Date(endMs).toISOString(),
          allowedRequestCount: setting.limit,
          measuredRequestCount: counter.count + 1,
        },
        Math.max(1, Math.ceil((endMs - nowMs) / 1000)),
      ).withHeaders({ 'x-ms-ratelimit-remaining-resource': `Microsoft.Compute/${policy};0` });
    }
    counter.count += 1;
    return `Microsoft.Compute/${policy};${Math.max(0, setting.limit - counter.count)}`;
  }

  /** Snapshot support: `policy|key` → [windowStart, count]. */
  toJSON(): Record<string, [number, number]> {
    const flatCounters: Record<string, [number, number]> = {};
    for (const [policy, byKey] of this.counters)
      for (const [key, counter] of byKey) flatCounters[`${policy}|${key}`] = [counter.windowStart, counter.count];
    return flatCounters;
  }

  load(data: Record<string, [number, number]>): void {
    for (const [compound, [windowStart, count]] of Object.entries(data)) {
      const at = compound.indexOf('|');
      const policy = compound.slice(0, at);
      let byKey = this.counters.get(policy);
      if (!byKey) this.counters.set(policy, (byKey = new Map()));
      byKey.set(compound.slice(at + 1), { windowStart, count });
    }
  }
}
