/**
 * Compute's own subscription-wide restore point policies (`PutRestorePointSubscriptionMaximum`, …) reported in
 * `x-ms-ratelimit-remaining-resource: Microsoft.Compute/<policy>;<remaining>`. Their limits and windows are not
 * documented (shared/docs/azure-api.md §6), so RPO learns them from what responses carry and slows down before a
 * count reaches zero: docs/pacing.md, "Compute policies". Pure: time is passed in.
 */

/** The Compute operations RPO paces, and the subscription-wide policies recorded on each (azure-api.md §6). */
export const COMPUTE_POLICIES_BY_OPERATION = Object.freeze({
  createRestorePoint: ['PutRestorePointSubscriptionMaximum'],
  createCollection: ['PutRestorePointCollectionSubscriptionMaximum'],
  deleteRestorePoint: ['DeleteRestorePointSubscriptionMaximum'],
  getRestorePoint: ['LowCostGetRestorePointSubscriptionMaximum'],
  getOperation: ['GetOperationSubscriptionMaximum'],
} as const);
export type ComputeOperation = keyof typeof COMPUTE_POLICIES_BY_OPERATION;

/** Below this share of the largest count seen, operations are spaced out instead of sent at once. */
export const LOW_WATER_SHARE = 0.25;
/**
 * The count RPO never spends: concurrent callers may each have read the same remaining count. Two for a
 * policy of 20 or more, one from 8, none below (a tiny limit cannot spare any).
 */
export function reserveOf(limit: number): number {
  return limit >= 20 ? 2 : limit >= 8 ? 1 : 0;
}
export const MIN_SPACING_MS = 5_000;
/**
 * Below the low-water mark of a window not known exactly, the spacing doubles up to this: a count spread over
 * ever longer gaps crawls, and running down to the reserve early costs at most the probe whose 429 states
 * the window.
 */
export const MAX_LOW_SPACING_MS = 60_000;
/** Azure's Retry-After for Compute throttles goes up to 20 minutes; a blind wait never exceeds it. */
export const MAX_SPACING_MS = 20 * 60_000;
/**
 * How long an answer can take to come back: an operation granted longer ago than this has been answered, so
 * a count seen later reflects it; and a policy whose first operation brought no count by then is not
 * reported on these answers (it is not paced).
 */
export const SETTLE_MS = 60_000;

export interface PolicyState {
  /** The largest `remaining + 1` ever seen: a lower bound of the policy's limit. 0: not seen yet (probing). */
  readonly limit: number;
  readonly remaining: number;
  readonly observedAtMs: number;
  /** Operations granted that the last count seen does not reflect yet (in flight, or about to be sent). */
  readonly spent: number;
  /** When the last operation was granted. */
  readonly lastGrantMs?: number;
  /** When the current window was seen to begin (a count going up), if ever. */
  readonly windowStartMs?: number;
  /** Learned window length: between two observed resets, or from a 429's window. */
  readonly windowMs?: number;
  /** The window came from a 429's body: exact, not re-learned from resets. */
  readonly windowExact?: boolean;
  /** Exhausted: the one probe of this wait may go at this time. */
  readonly probeAtMs?: number;
  /**
   * When RPO last took the known window for over (its end passed): the count went back to the limit and
   * the new window opened with the next grant. Answers to requests sent before then belong to the old one.
   */
  readonly rolledAtMs?: number;
  /** An answer to one of its operations came back without a count: answers do not report this policy. */
  readonly unreported?: boolean;
  readonly spacingMs: number;
  readonly nextAllowedMs: number;
}

export type PolicyStates = Readonly<Record<string, PolicyState>>;

const NOT_SEEN: PolicyState = {
  limit: 0,
  remaining: 0,
  observedAtMs: 0,
  spent: 0,
  spacingMs: MIN_SPACING_MS,
  nextAllowedMs: 0,
};

/**
 * Folds one response's count into the state of its policy. Within a window a count only goes down, but answers
 * of concurrent calls arrive out of order: a higher count is a new window only when its request was sent after
 * the lower count was seen (Azure counted it later); otherwise it is an older answer overtaking a newer one. A
 * count that goes down settles that many of the operations in flight.
 */
export function observePolicy(
  state: PolicyState | undefined,
  remaining: number,
  atMs: number,
  sentAtMs: number = atMs,
): PolicyState {
  if (state === undefined || state.limit === 0) {
    return {
      limit: remaining + 1,
      remaining,
      observedAtMs: atMs,
      spent: Math.max(0, (state?.spent ?? 0) - 1),
      ...(state?.lastGrantMs !== undefined ? { lastGrantMs: state.lastGrantMs } : {}),
      spacingMs: MIN_SPACING_MS,
      nextAllowedMs: 0,
    };
  }
  // An older response arriving late, or one of the same instant with a higher count, says nothing new.
  if (atMs < state.observedAtMs || (atMs === state.observedAtMs && remaining >= state.remaining)) return state;
  // An answer to a request sent before RPO took the window for over counts in the old window: it settles
  // what it was, and its count says nothing of the new one.
  if (state.rolledAtMs !== undefined && sentAtMs < state.rolledAtMs) return settleOne(state);
  const limit = Math.max(state.limit, remaining + 1);
  const rollAtMs = rollAtOf(state);
  // A higher count, or a request sent after the known window ended, is a new window.
  const reset =
    (remaining > state.remaining && sentAtMs > state.observedAtMs) || (rollAtMs !== undefined && sentAtMs >= rollAtMs);
  const count = reset ? remaining : Math.min(remaining, state.remaining);
  let windowStartMs = state.windowStartMs;
  let windowMs = state.windowMs;
  if (startProvisional(state) && !reset) {
    // The first answer since RPO took the window for over: a count as high as the grants since allow is the
    // fresh window, opened when that request arrived; a lower one shows a window opened earlier, unseen, so a
    // window learned from resets was too long.
    if (remaining >= state.limit - state.spent) windowStartMs = atMs;
    else if (!state.windowExact) windowMs = undefined;
  }
  if (reset) {
    // A window opens at the first call after the last one closed (the emulator's model, and a fixed window's
    // worst case): resets are seen at least one window apart, so the shortest gap bounds it from above.
    if (windowStartMs !== undefined && !state.windowExact)
      windowMs = Math.min(windowMs ?? Infinity, atMs - windowStartMs);
    windowStartMs = atMs;
  } else if (
    !state.windowExact &&
    windowMs !== undefined &&
    windowStartMs !== undefined &&
    atMs >= windowStartMs + windowMs &&
    count <= reserveOf(limit)
  ) {
    // The window was expected to have rolled over and has not: what was learned is too short.
    windowMs = undefined;
  }
  const settled = state.lastGrantMs === undefined || atMs - state.lastGrantMs >= SETTLE_MS;
  // What Azure counted since the last count seen is no longer in flight (an older answer settles nothing).
  const spent = settled ? 0 : Math.max(0, state.spent - (reset ? 1 : state.remaining - count));
  const low = count < lowWater(limit);
  return {
    limit,
    remaining: count,
    observedAtMs: atMs,
    spent,
    ...(state.lastGrantMs !== undefined ? { lastGrantMs: state.lastGrantMs } : {}),
    ...(!reset && state.rolledAtMs !== undefined ? { rolledAtMs: state.rolledAtMs } : {}),
    ...(windowStartMs !== undefined ? { windowStartMs } : {}),
    ...(windowMs !== undefined ? { windowMs } : {}),
    ...(state.windowExact && windowMs !== undefined ? { windowExact: true } : {}),
    spacingMs: low ? state.spacingMs : MIN_SPACING_MS,
    // A spacing decided stands until a new window opens.
    nextAllowedMs: reset ? 0 : state.nextAllowedMs,
  };
}

/**
 * An answer to one of the policy's operations came back without its count: answers do not report this
 * policy, so it is not paced (once a count has been seen, a missing one is a lost header, not a change).
 */
export function answeredWithoutCount(state: PolicyState | undefined): PolicyState {
  if (state !== undefined && state.limit > 0) return state;
  return { ...(state ?? NOT_SEEN), unreported: true };
}

/**
 * Since RPO took the window for over no answer has come back: the window's start is taken as the roll for now,
 * and as the first answer's time when it comes (a window opens when the first request arrives, after its grant).
 */
function startProvisional(state: PolicyState): boolean {
  return state.rolledAtMs !== undefined && state.observedAtMs <= state.rolledAtMs;
}

function rollAtOf(state: PolicyState): number | undefined {
  return state.windowMs !== undefined && state.windowStartMs !== undefined
    ? state.windowStartMs + state.windowMs
    : undefined;
}

/** One operation in flight was answered; nothing else is learned. */
function settleOne(state: PolicyState): PolicyState {
  return state.spent === 0 ? state : { ...state, spent: state.spent - 1 };
}

/**
 * What a Compute 429 teaches: the policy is exhausted until `retryAfterMs`, and its window when it says so.
 * A refusal in a window that has closed since (its request sent before RPO took the window for over, or its
 * window ending before the current one began) only settles itself.
 */
export function observeThrottle(
  state: PolicyState | undefined,
  atMs: number,
  retryAfterMs: number,
  window?: { startMs: number; endMs: number; allowed: number },
  sentAtMs: number = atMs,
): PolicyState {
  if (
    state !== undefined &&
    ((state.rolledAtMs !== undefined && sentAtMs < state.rolledAtMs) ||
      (window !== undefined && state.windowStartMs !== undefined && window.endMs <= state.windowStartMs))
  ) {
    return settleOne(state);
  }
  const seen = observePolicy(state, 0, atMs, sentAtMs);
  // Whatever was in flight met the same refusal: nothing is outstanding.
  const { rolledAtMs: _rolled, ...current } = seen;
  const base: PolicyState = { ...current, remaining: 0, observedAtMs: Math.max(seen.observedAtMs, atMs), spent: 0 };
  const exact = window !== undefined && window.endMs > window.startMs;
  return {
    ...base,
    limit: Math.max(base.limit, window?.allowed ?? 0),
    ...(exact ? { windowMs: window.endMs - window.startMs, windowStartMs: window.startMs, windowExact: true } : {}),
    nextAllowedMs: Math.max(base.nextAllowedMs, atMs + retryAfterMs),
  };
}

function lowWater(limit: number): number {
  return Math.max(reserveOf(limit) + 1, Math.ceil(limit * LOW_WATER_SHARE));
}

export interface PolicyReservation {
  /** Granted: the operations may start now. Otherwise nothing was granted: ask again at `retryAtMs`. */
  readonly granted: boolean;
  readonly retryAtMs: number;
  readonly state: PolicyState;
}

/**
 * Once the known window has ended, its count is spent history: a new window opens with the next request
 * (a fixed window opens at the first call after the last one closed), with the whole limit. Operations still
 * in flight stay counted until their answers come back. Without this, a count left low at the end of one
 * cycle is read hours later as the present one, and the spacing and probe times computed from a window long
 * past send into a window Azure has just opened and filled.
 */
function rollOver(state: PolicyState, nowMs: number): PolicyState {
  const rollAtMs = rollAtOf(state);
  if (state.limit === 0 || rollAtMs === undefined || nowMs < rollAtMs) return state;
  const { probeAtMs: _probe, ...rest } = state;
  return {
    ...rest,
    remaining: state.limit,
    windowStartMs: nowMs,
    rolledAtMs: nowMs,
    spacingMs: MIN_SPACING_MS,
  };
}

/**
 * Whether `count` operations counted by this policy may start now; if not, when to ask again (a wait is
 * never booked ahead: by then more answers have come back, and the question is asked of them).
 * - Not seen yet: one operation goes as a probe; the others wait for its count (slow start).
 * - Plenty left: now.
 * - Below the low-water mark: one after another, spaced so that the rest lasts a learned window (or, not yet
 *   learned, spacing that doubles).
 * - At the reserve: after the window is expected to roll over, one probe per wait; never into a count that
 *   Azure would refuse as far as RPO knows.
 */
export function reservePolicy(current: PolicyState | undefined, count: number, nowMs: number): PolicyReservation {
  const state = current ?? NOT_SEEN;
  const rolled = rollOver(state, nowMs);
  if (rolled === state) return decide(state, count, nowMs);
  // The new window opens with a request sent, not with a question asked: a held-back request changes nothing.
  const reservation = decide(rolled, count, nowMs);
  return reservation.granted ? reservation : { granted: false, retryAtMs: reservation.retryAtMs, state };
}

/**
 * The last count seen may not describe the present: nothing was answered for {@link SETTLE_MS}, or RPO took a
 * window learned from resets (not from a 429's body: not exact) for over and nothing was answered since.
 */
function countIsStale(state: PolicyState, nowMs: number): boolean {
  if (startProvisional(state)) return state.windowExact !== true;
  return nowMs - state.observedAtMs >= SETTLE_MS;
}

/** A request granted after the last answer is still out, and not so long ago that its answer is lost. */
function probeOut(state: PolicyState, nowMs: number): boolean {
  return (
    state.lastGrantMs !== undefined && state.lastGrantMs >= state.observedAtMs && nowMs - state.lastGrantMs < SETTLE_MS
  );
}

function decide(state: PolicyState, count: number, nowMs: number): PolicyReservation {
  const grant = (next: Partial<PolicyState>, base: PolicyState = state): PolicyReservation => ({
    granted: true,
    retryAtMs: nowMs,
    state: { ...base, ...next, spent: state.spent + count, lastGrantMs: nowMs },
  });
  const wait = (atMs: number, next: Partial<PolicyState> = {}): PolicyReservation => ({
    granted: false,
    retryAtMs: Math.max(atMs, nowMs + 1),
    state: { ...state, ...next },
  });
  if (count === 0 || state.unreported) return { granted: true, retryAtMs: nowMs, state };
  if (state.limit === 0) {
    if (state.lastGrantMs === undefined) return grant({ nextAllowedMs: nowMs + MIN_SPACING_MS });
    // The probe's answer never came (a request lost on the way): another probe. A policy is taken as not
    // reported only on evidence, an answer without its count (answeredWithoutCount): an answer merely slow
    // to be written down must not unleash every caller at once.
    if (nowMs - state.lastGrantMs >= SETTLE_MS) return grant({ nextAllowedMs: nowMs + MIN_SPACING_MS });
    return wait(Math.min(state.lastGrantMs + SETTLE_MS, Math.max(state.nextAllowedMs, nowMs + MIN_SPACING_MS)));
  }
  if (state.nextAllowedMs > nowMs) return wait(state.nextAllowedMs);
  const available = state.remaining - state.spent;
  const reserve = reserveOf(state.limit);
  // A stale count may describe a window that has closed and reopened unseen (its new count no higher than the
  // old one): one request goes, the others wait for an answer (TCP's restart after idle, RFC 5681 §4.1).
  if (available - count >= reserve && countIsStale(state, nowMs) && probeOut(state, nowMs)) {
    return wait(Math.min((state.lastGrantMs ?? nowMs) + SETTLE_MS, nowMs + MIN_SPACING_MS));
  }
  if (available - count >= lowWater(state.limit)) return grant({});
  const rollAtMs = rollAtOf(state);
  if (available - count >= reserve) {
    // Spread what is left over the rest of a window known exactly; else space out more each time (a window
    // learned from resets is only an upper bound: spreading over it crawls when it is far too long).
    const windowLeft = rollAtMs !== undefined && rollAtMs > nowMs ? rollAtMs - nowMs : undefined;
    const spread =
      windowLeft !== undefined
        ? Math.max(MIN_SPACING_MS, Math.ceil(windowLeft / Math.max(1, available - reserve)))
        : Infinity;
    const exact = state.windowExact === true && windowLeft !== undefined;
    return grant({
      nextAllowedMs: nowMs + (exact ? spread : Math.min(spread, state.spacingMs)) * count,
      spacingMs: exact ? state.spacingMs : Math.min(MAX_LOW_SPACING_MS, state.spacingMs * 2),
    });
  }
  // Exhausted as far as RPO knows: one probe when a window known exactly rolls over, or after a growing wait
  // (no later than a learned window's upper bound); its answer shows whether it did (a count going up) or not,
  // and a 429 states the window exactly: a policy costs at most that one.
  if (state.probeAtMs !== undefined && nowMs >= state.probeAtMs) {
    const { probeAtMs: _probed, ...rest } = state;
    return grant({ nextAllowedMs: nowMs + MIN_SPACING_MS }, rest);
  }
  if (state.probeAtMs !== undefined) return wait(state.probeAtMs);
  const probeAtMs =
    state.windowExact === true && rollAtMs !== undefined
      ? Math.max(rollAtMs, nowMs)
      : Math.max(nowMs, Math.min(rollAtMs ?? Infinity, nowMs + state.spacingMs));
  return wait(probeAtMs, { probeAtMs, spacingMs: Math.min(MAX_SPACING_MS, state.spacingMs * 2) });
}
