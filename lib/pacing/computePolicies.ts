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
/** Azure's Retry-After for Compute throttles goes up to 20 minutes; a blind wait never exceeds it. */
export const MAX_SPACING_MS = 20 * 60_000;

export interface PolicyState {
  /** The largest `remaining + 1` ever seen: a lower bound of the policy's limit. */
  readonly limit: number;
  readonly remaining: number;
  readonly observedAtMs: number;
  /** Operations reserved since the last observation. */
  readonly spent: number;
  /** When the current window was seen to begin (a count going up), if ever. */
  readonly windowStartMs?: number;
  /** Learned window length: between two observed resets, or from a 429's window. */
  readonly windowMs?: number;
  readonly spacingMs: number;
  readonly nextAllowedMs: number;
}

export type PolicyStates = Readonly<Record<string, PolicyState>>;

/** Folds one response's count into the state of its policy. */
export function observePolicy(state: PolicyState | undefined, remaining: number, atMs: number): PolicyState {
  if (state === undefined) {
    return {
      limit: remaining + 1,
      remaining,
      observedAtMs: atMs,
      spent: 0,
      spacingMs: MIN_SPACING_MS,
      nextAllowedMs: 0,
    };
  }
  if (atMs < state.observedAtMs) return state; // an older response arriving late says nothing new
  const reset = remaining > state.remaining;
  let windowStartMs = state.windowStartMs;
  let windowMs = state.windowMs;
  if (reset) {
    // Resets are seen at least one window apart (later, when nothing was sent): the shortest gap is the best bound.
    if (windowStartMs !== undefined) windowMs = Math.min(windowMs ?? Infinity, atMs - windowStartMs);
    windowStartMs = atMs;
  }
  const limit = Math.max(state.limit, remaining + 1);
  const low = remaining < lowWater(limit);
  return {
    limit,
    remaining,
    observedAtMs: atMs,
    spent: 0,
    ...(windowStartMs !== undefined ? { windowStartMs } : {}),
    ...(windowMs !== undefined ? { windowMs } : {}),
    spacingMs: low ? state.spacingMs : MIN_SPACING_MS,
    nextAllowedMs: low ? state.nextAllowedMs : 0,
  };
}

/** What a Compute 429 teaches: the policy is exhausted until `retryAfterMs`, and its window when it says so. */
export function observeThrottle(
  state: PolicyState | undefined,
  atMs: number,
  retryAfterMs: number,
  window?: { startMs: number; endMs: number; allowed: number },
): PolicyState {
  const base = observePolicy(state, 0, atMs);
  const windowMs =
    window !== undefined && window.endMs > window.startMs ? window.endMs - window.startMs : base.windowMs;
  return {
    ...base,
    limit: Math.max(base.limit, window?.allowed ?? 0),
    ...(windowMs !== undefined ? { windowMs } : {}),
    nextAllowedMs: Math.max(base.nextAllowedMs, atMs + retryAfterMs),
  };
}

function lowWater(limit: number): number {
  return Math.max(reserveOf(limit) + 1, Math.ceil(limit * LOW_WATER_SHARE));
}

export interface PolicyReservation {
  readonly startAtMs: number;
  /** Undefined while nothing has been observed of the policy: there is nothing to pace by yet. */
  readonly state: PolicyState | undefined;
}

/**
 * When `count` operations counted by this policy may start. Plenty left: now. Below the low-water mark: one
 * after another, spaced so that the rest lasts a learned window (or, not yet learned, spacing that doubles).
 * At the reserve: after the window is expected to roll over, never into a count Azure would refuse.
 */
export function reservePolicy(state: PolicyState | undefined, count: number, nowMs: number): PolicyReservation {
  if (state === undefined || count === 0) return { startAtMs: nowMs, state };
  const available = state.remaining - state.spent;
  const earliest = Math.max(nowMs, state.nextAllowedMs);
  if (available - count >= lowWater(state.limit)) {
    return { startAtMs: earliest, state: { ...state, spent: state.spent + count } };
  }
  const reserve = reserveOf(state.limit);
  if (available - count >= reserve) {
    // Spread what is left over the rest of the window (when known), else space out more each time.
    const windowLeft =
      state.windowMs !== undefined && state.windowStartMs !== undefined
        ? Math.max(0, state.windowStartMs + state.windowMs - earliest)
        : undefined;
    const spacing =
      windowLeft !== undefined
        ? Math.max(MIN_SPACING_MS, Math.ceil(windowLeft / Math.max(1, available - reserve)))
        : state.spacingMs;
    return {
      startAtMs: earliest,
      state: {
        ...state,
        spent: state.spent + count,
        nextAllowedMs: earliest + spacing * count,
        spacingMs: windowLeft !== undefined ? state.spacingMs : Math.min(MAX_SPACING_MS, state.spacingMs * 2),
      },
    };
  }
  // Exhausted as far as RPO knows: wait until the window should have rolled over (learned), or a growing wait.
  const rollAt =
    state.windowMs !== undefined && state.windowStartMs !== undefined
      ? state.windowStartMs + state.windowMs
      : earliest + state.spacingMs;
  const startAtMs = Math.max(earliest, rollAt);
  // One probe per wait: its answer shows whether the window rolled over (a count going up) or not.
  return {
    startAtMs,
    state: {
      ...state,
      spent: state.spent + count,
      spacingMs: Math.min(MAX_SPACING_MS, state.spacingMs * 2),
      nextAllowedMs: startAtMs + 1,
    },
  };
}
