/**
 * ARM's per-subscription token buckets (docs/pacing.md; shared/docs/limits-reliability-security.md A1), planned
 * as reservations so that a fleet cycle meets no 429 it could have foreseen.
 *
 * The model is GCRA (the generic cell rate algorithm): a bucket is one number, `tatMs`, the instant at which
 * it would be full again if nothing more were taken. Reserving k tokens returns the earliest instant at which
 * k tokens are there at once; the caller waits (a durable timer) and then spends them. Spending later than
 * reserved is always safe: the real bucket only holds more than the model. Pure: time is passed in.
 */

export type ArmOperationKind = 'read' | 'write' | 'delete';

export interface BucketSpec {
  /** Tokens when full. */
  readonly burst: number;
  readonly refillPerSecond: number;
}

/** ARM's documented buckets per subscription and principal (request-limits-and-throttling, 2025-05-28). */
export const ARM_BUCKETS: Readonly<Record<ArmOperationKind, BucketSpec>> = Object.freeze({
  read: { burst: 250, refillPerSecond: 25 },
  write: { burst: 200, refillPerSecond: 10 },
  delete: { burst: 200, refillPerSecond: 10 },
});

/**
 * Share of each burst RPO leaves to everything else in the subscription (portal, other automation): RPO plans
 * with 90 % of the burst. The refill rate is used in full; observed headers push the plan back when others draw.
 */
export const BURST_HEADROOM = 0.1;

export interface BucketState {
  /** When the bucket would be full again (epoch ms); ≤ now means full. */
  readonly tatMs: number;
}

export const FULL_BUCKET: BucketState = Object.freeze({ tatMs: 0 });

function emissionMs(spec: BucketSpec): number {
  return 1000 / spec.refillPerSecond;
}

/** Tokens RPO may hold in one go: the burst less the headroom, at least 1. */
export function plannedBurst(spec: BucketSpec): number {
  return Math.max(1, Math.floor(spec.burst * (1 - BURST_HEADROOM)));
}

/** Tokens in the modelled bucket at `nowMs` (may be fractional). */
export function tokensAt(state: BucketState, spec: BucketSpec, nowMs: number): number {
  return plannedBurst(spec) - Math.max(0, state.tatMs - nowMs) / emissionMs(spec);
}

export interface Reservation {
  /** When the reserved tokens may be spent (≥ now). */
  readonly startAtMs: number;
  readonly state: BucketState;
}

/**
 * Reserves `count` tokens (0 reserves nothing), to be spent at once from the returned start. At most the
 * planned burst: more could never be there at one instant (callers reserve per VM, a few calls at a time).
 */
export function reserveTokens(state: BucketState, spec: BucketSpec, count: number, nowMs: number): Reservation {
  const burst = plannedBurst(spec);
  if (!Number.isInteger(count) || count < 0 || count > burst) {
    throw new RangeError(`count must be a whole number from 0 to the planned burst ${burst}, got ${count}`);
  }
  if (count === 0) return { startAtMs: nowMs, state };
  const emission = emissionMs(spec);
  // count tokens are there at s when burst - (tat - s)/T >= count, i.e. s >= tat - (burst - count)·T.
  const startAtMs = Math.max(nowMs, state.tatMs - (burst - count) * emission);
  return { startAtMs: Math.ceil(startAtMs), state: { tatMs: Math.max(state.tatMs, startAtMs) + count * emission } };
}

/**
 * What a response's `x-ms-ratelimit-remaining-subscription-{reads,writes,deletes}` says: `remaining` tokens at
 * `atMs`. When that is fewer than the model expects, something else drains the bucket: the plan moves back so
 * that the model holds no more than Azure reports. It never moves forward (reservations not yet spent).
 */
export function observeRemaining(state: BucketState, spec: BucketSpec, remaining: number, atMs: number): BucketState {
  if (!Number.isFinite(remaining) || remaining < 0) return state;
  // Azure's count covers its whole burst; RPO's share of it is the part above the headroom.
  const ours = remaining - (spec.burst - plannedBurst(spec));
  if (tokensAt(state, spec, atMs) <= ours) return state;
  const tatMs = atMs + (plannedBurst(spec) - Math.max(0, ours)) * emissionMs(spec);
  return tatMs > state.tatMs ? { tatMs } : state;
}

/**
 * The least time a cycle of `count` operations of one kind can take from a full bucket (A4): the burst, then
 * the refill. What bench/fleet.ts compares a cycle with.
 */
export function floorSeconds(spec: BucketSpec, count: number): number {
  return Math.max(0, (count - spec.burst) / spec.refillPerSecond);
}
