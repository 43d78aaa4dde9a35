import {
  ARM_BUCKETS,
  FULL_BUCKET,
  observeRemaining,
  reserveTokens,
  type ArmOperationKind,
  type BucketState,
} from '../pacing/armBuckets';
import {
  answeredWithoutCount,
  COMPUTE_POLICIES_BY_OPERATION,
  observePolicy,
  observeThrottle,
  type ComputeOperation,
  type PolicyStates,
} from '../pacing/computePolicies';
import { reservePolicy } from '../pacing/computePolicyReservation';
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

/** When a request may start, and the record after it. */
export interface PlannedReservation {
  readonly startAtMs: number;
  /** Held back by a Compute policy: nothing was reserved; ask again at `startAtMs`. */
  readonly recheck: boolean;
  readonly next: SubscriptionPacing;
}

/** Pure: the start time of a request and the record after it. */
export function planReservation(
  current: SubscriptionPacing | undefined,
  request: PacingRequest,
  nowMs: number,
): PlannedReservation {
  const state = current ?? EMPTY;
  const counts: Record<ArmOperationKind, number> = {
    read: request.reads ?? 0,
    write: request.writes ?? 0,
    delete: request.deletes ?? 0,
  };
  // The earliest instant at which every bucket holds its share and Compute's policies allow the calls; then
  // every bucket is charged at that instant. A bucket charged at its own earlier instant refills ahead of
  // Azure's in the model: its calls are really spent at the common start, on top of what later reservations
  // take from that refill (reads reserved early but spent late, behind the writes, meet 429s).
  let startAtMs = nowMs;
  for (const kind of ['read', 'write', 'delete'] as const) {
    if (counts[kind] === 0) continue;
    startAtMs = Math.max(
      startAtMs,
      reserveTokens(state.buckets[kind], ARM_BUCKETS[kind], counts[kind], nowMs).startAtMs,
    );
  }
  // Compute's policies grant now or say when to ask again; a request one of them holds back is not charged
  // anywhere (only what a waiting policy decided, e.g. the time of its probe, is kept).
  const compute: Record<string, PolicyStates[string]> = { ...state.compute };
  const held: Record<string, PolicyStates[string]> = {};
  let retryAtMs: number | undefined;
  for (const [operation, count] of Object.entries(request.compute ?? {}) as [ComputeOperation, number][]) {
    for (const policy of COMPUTE_POLICIES_BY_OPERATION[operation]) {
      const r = reservePolicy(compute[policy], count, startAtMs);
      if (r.granted) compute[policy] = r.state;
      else {
        held[policy] = r.state;
        retryAtMs = Math.max(retryAtMs ?? 0, r.retryAtMs);
      }
    }
  }
  if (retryAtMs !== undefined) {
    return { startAtMs: retryAtMs, recheck: true, next: { ...state, compute: { ...state.compute, ...held } } };
  }
  const buckets = { ...state.buckets };
  for (const kind of ['read', 'write', 'delete'] as const) {
    if (counts[kind] === 0) continue;
    buckets[kind] = reserveTokens(buckets[kind], ARM_BUCKETS[kind], counts[kind], startAtMs).state;
  }
  return { startAtMs, recheck: false, next: { buckets, compute } };
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
    // The policies this observation answers an operation of (its counts of others answer nothing of theirs).
    const answers: readonly string[] = o.operation === undefined ? [] : COMPUTE_POLICIES_BY_OPERATION[o.operation];
    for (const [policy, remaining] of Object.entries(o.computePolicies)) {
      if (o.computeThrottle?.policy === policy) continue;
      compute[policy] = observePolicy(compute[policy], remaining, o.atMs, o.sentAtMs, answers.includes(policy));
    }
    if (o.computeThrottle !== undefined) {
      const t = o.computeThrottle;
      compute[t.policy] = observeThrottle(compute[t.policy], o.atMs, t.retryAfterMs, t.window, o.sentAtMs);
    }
    // An answer to a paced operation without one of its policies' counts (a successful one, before any count
    // was seen: that policy is not reported). A 5xx may not have reached Compute: only what it owed is paid.
    if (o.operation !== undefined) {
      const success = o.status >= 200 && o.status < 300;
      for (const policy of COMPUTE_POLICIES_BY_OPERATION[o.operation]) {
        // A failure of a policy never seen says nothing of it: nothing is written for it.
        if (!success && compute[policy] === undefined) continue;
        if (!(policy in o.computePolicies) && o.computeThrottle?.policy !== policy)
          compute[policy] = answeredWithoutCount(compute[policy], o.atMs, success, o.sentAtMs);
      }
    }
  }
  return { buckets, compute };
}

const key = (subscriptionId: string) => subscriptionId.toLowerCase();

/** What reserveArm answers: the start of the reserved calls, or (recheck) when to ask again. */
export type ArmReservation = Pick<PlannedReservation, 'startAtMs' | 'recheck'>;

/** Reservations waiting for the subscription's row, per store and subscription (see reserveArm). */
interface Waiting {
  readonly request: PacingRequest;
  readonly nowMs: number;
  resolve(planned: ArmReservation): void;
  reject(error: unknown): void;
}
type Queues = Map<string, Waiting[]>;
const waiting = new WeakMap<StateStore, Queues>();
/** At most this many reservations share one write of the row. */
const MAX_RESERVATIONS_PER_WRITE = 100;

/**
 * Reserves ARM calls on the subscription's row and returns when they may start. Reservations made in this
 * process while the row is being written wait, and the next write takes all of them in order (one read and
 * one conditional write for many): thousands of VMs reserving at once do not fight over the row's ETag. Other
 * processes still meet at the ETag.
 */
export function reserveArm(
  store: StateStore,
  subscriptionId: string,
  request: PacingRequest,
  nowMs: number,
): Promise<ArmReservation> {
  let bySubscription = waiting.get(store);
  if (bySubscription === undefined) {
    bySubscription = new Map<string, Waiting[]>();
    waiting.set(store, bySubscription);
  }
  const queues = bySubscription;
  const row = key(subscriptionId);
  return new Promise<ArmReservation>((resolve, reject) => {
    const item: Waiting = { request, nowMs, resolve, reject };
    const queue = queues.get(row);
    if (queue !== undefined) {
      queue.push(item);
      return;
    }
    queues.set(row, [item]);
    void writeReservations(store, row, queues);
  });
}

async function writeReservations(store: StateStore, row: string, queues: Queues): Promise<void> {
  for (;;) {
    const queue = queues.get(row) ?? [];
    const batch = queue.splice(0, MAX_RESERVATIONS_PER_WRITE);
    if (batch.length === 0) {
      queues.delete(row);
      return;
    }
    try {
      const starts = await store.update<SubscriptionPacing, ArmReservation[]>(
        STATE_PARTITIONS.subscription,
        row,
        (current) => {
          let state = current;
          const result: ArmReservation[] = [];
          for (const item of batch) {
            const planned = planReservation(state, item.request, item.nowMs);
            state = planned.next;
            result.push({ startAtMs: planned.startAtMs, recheck: planned.recheck });
          }
          return { next: state, result };
        },
      );
      batch.forEach((item, i) => item.resolve(starts[i] ?? { startAtMs: item.nowMs, recheck: false }));
    } catch (error) {
      for (const item of batch) item.reject(error);
    }
  }
}

/** How often one process writes plain observations (throttles and low counts are written at once). */
export const OBSERVATION_FLUSH_MS = 10_000;
interface Pending {
  lastFlushMs: number;
  observations: ArmObservation[];
}
const pendingBySubscription = new WeakMap<StateStore, Map<string, Pending>>();
/** This many unwritten observations are written without waiting for the flush interval. */
const FLUSH_AT_PENDING = 250;
/**
 * A process keeps at most this many unwritten observations per subscription while writing the row fails (the
 * newest are kept; what the dropped ones owed is forgotten after SETTLE_MS, lib/pacing/owedGrants).
 */
const MAX_PENDING = 5_000;

/**
 * Writes what units of work observed, when it matters: a throttle or a Compute count below 20 at once, else
 * at most every {@link OBSERVATION_FLUSH_MS} per subscription and process (so thousands of activities do not
 * all fight over one row to say that all is well). Observations in between are kept and go with the next
 * write, never dropped: the one that shows a Compute window rolling over (a count going up) is what lets
 * paced callers go again.
 */
export async function recordObservations(
  store: StateStore,
  subscriptionId: string,
  observations: readonly ArmObservation[],
  nowMs: number,
): Promise<void> {
  if (observations.length === 0) return;
  let bySubscription = pendingBySubscription.get(store);
  if (bySubscription === undefined) {
    bySubscription = new Map();
    pendingBySubscription.set(store, bySubscription);
  }
  const row = key(subscriptionId);
  const pending = bySubscription.get(row) ?? { lastFlushMs: -Infinity, observations: [] };
  bySubscription.set(row, pending);
  pending.observations.push(...observations);
  if (pending.observations.length > MAX_PENDING)
    pending.observations.splice(0, pending.observations.length - MAX_PENDING);
  const urgent = observations.some(
    (o) => o.status === 429 || Object.values(o.computePolicies).some((remaining) => remaining < 20),
  );
  if (!urgent && pending.observations.length < FLUSH_AT_PENDING && nowMs - pending.lastFlushMs < OBSERVATION_FLUSH_MS)
    return;
  pending.lastFlushMs = nowMs;
  const batch = pending.observations.splice(0).sort((x, y) => x.atMs - y.atMs);
  try {
    await store.update<SubscriptionPacing, void>(STATE_PARTITIONS.subscription, row, (current) => ({
      next: applyObservations(current, batch),
      result: undefined,
    }));
  } catch (error) {
    pending.observations.unshift(...batch);
    throw error;
  }
}
