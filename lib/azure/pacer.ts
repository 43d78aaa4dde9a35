import {
  ARM_BUCKETS,
  FULL_BUCKET,
  observeRemaining,
  reserveTokens,
  type ArmOperationKind,
  type BucketState,
} from '../pacing/armBuckets';
import {
  COMPUTE_POLICIES_BY_OPERATION,
  observePolicy,
  observeThrottle,
  reservePolicy,
  type ComputeOperation,
  type PolicyStates,
} from '../pacing/computePolicies';
import { STATE_PARTITIONS, type StateStore } from '../tables/stateStore';
import type { ArmObservation } from './observations';

/**
 * The subscription's pacing record in RpoState (docs/pacing.md): ARM's three buckets as GCRA state and what
 * was learned of Compute's subscription policies. Reservations and observations from every orchestration
 * and every instance of the app meet in this one row.
 */
export interface SubscriptionPacing {
  readonly buckets: Readonly<Record<ArmOperationKind, BucketState>>;
  readonly compute: PolicyStates;
}

const EMPTY: SubscriptionPacing = {
  buckets: { read: FULL_BUCKET, write: FULL_BUCKET, delete: FULL_BUCKET },
  compute: {},
};

export interface PacingRequest {
  readonly reads?: number;
  readonly writes?: number;
  readonly deletes?: number;
  readonly compute?: Partial<Record<ComputeOperation, number>>;
}

/** Pure: the start time of a request and the record after it. */
export function planReservation(
  current: SubscriptionPacing | undefined,
  request: PacingRequest,
  nowMs: number,
): { startAtMs: number; next: SubscriptionPacing } {
  const state = current ?? EMPTY;
  let startAtMs = nowMs;
  const buckets = { ...state.buckets };
  const counts: Record<ArmOperationKind, number> = {
    read: request.reads ?? 0,
    write: request.writes ?? 0,
    delete: request.deletes ?? 0,
  };
  for (const kind of ['read', 'write', 'delete'] as const) {
    if (counts[kind] === 0) continue;
    const r = reserveTokens(buckets[kind], ARM_BUCKETS[kind], counts[kind], nowMs);
    buckets[kind] = r.state;
    startAtMs = Math.max(startAtMs, r.startAtMs);
  }
  const compute: Record<string, PolicyStates[string]> = { ...state.compute };
  for (const [operation, count] of Object.entries(request.compute ?? {}) as [ComputeOperation, number][]) {
    for (const policy of COMPUTE_POLICIES_BY_OPERATION[operation]) {
      const known = compute[policy];
      if (known === undefined || count === 0) continue;
      const r = reservePolicy(known, count, nowMs);
      if (r.state !== undefined) compute[policy] = r.state;
      startAtMs = Math.max(startAtMs, r.startAtMs);
    }
  }
  return { startAtMs, next: { buckets, compute } };
}

/** Pure: the record after a batch of observations (oldest first). */
export function applyObservations(
  current: SubscriptionPacing | undefined,
  observations: readonly ArmObservation[],
): SubscriptionPacing {
  const state = current ?? EMPTY;
  const buckets = { ...state.buckets };
  const compute: Record<string, PolicyStates[string]> = { ...state.compute };
  for (const o of observations) {
    if (o.bucketRemaining !== undefined) {
      buckets[o.kind] = observeRemaining(buckets[o.kind], ARM_BUCKETS[o.kind], o.bucketRemaining, o.atMs);
    }
    for (const [policy, remaining] of Object.entries(o.computePolicies)) {
      if (o.computeThrottle?.policy === policy) continue;
      compute[policy] = observePolicy(compute[policy], remaining, o.atMs);
    }
    if (o.computeThrottle !== undefined) {
      const t = o.computeThrottle;
      compute[t.policy] = observeThrottle(compute[t.policy], o.atMs, t.retryAfterMs, t.window);
    }
  }
  return { buckets, compute };
}

const key = (subscriptionId: string) => subscriptionId.toLowerCase();

export async function reserveArm(
  store: StateStore,
  subscriptionId: string,
  request: PacingRequest,
  nowMs: number,
): Promise<number> {
  return store.update<SubscriptionPacing, number>(STATE_PARTITIONS.subscription, key(subscriptionId), (current) => {
    const { startAtMs, next } = planReservation(current, request, nowMs);
    return { next, result: startAtMs };
  });
}

/** How often one process writes plain observations (throttles and low counts are written at once). */
export const OBSERVATION_FLUSH_MS = 10_000;
const lastFlush = new Map<string, number>();

/**
 * Writes what a unit of work observed, when it matters: a throttle, a Compute count below half of what the
 * record knows, or else at most every {@link OBSERVATION_FLUSH_MS} per subscription and process (so thousands
 * of activities do not all fight over one row to say that all is well).
 */
export async function recordObservations(
  store: StateStore,
  subscriptionId: string,
  observations: readonly ArmObservation[],
  nowMs: number,
): Promise<void> {
  if (observations.length === 0) return;
  const urgent = observations.some(
    (o) => o.status === 429 || Object.values(o.computePolicies).some((remaining) => remaining < 20),
  );
  const last = lastFlush.get(key(subscriptionId)) ?? -Infinity;
  if (!urgent && nowMs - last < OBSERVATION_FLUSH_MS) return;
  lastFlush.set(key(subscriptionId), nowMs);
  await store.update<SubscriptionPacing, void>(STATE_PARTITIONS.subscription, key(subscriptionId), (current) => ({
    next: applyObservations(current, observations),
    result: undefined,
  }));
}
