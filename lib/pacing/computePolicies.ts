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
/** The count RPO never spends: concurrent callers may each have read the same remaining count. */
export const RESERVE = 2;
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
    if (windowStartMs !== undefined) windowMs = Math.max(windowMs ?? 0, atMs - windowStartMs);
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
  return Math.max(RESERVE + 1, Math.ceil(limit * LOW_WATER_SHARE));
}

export interface PolicyReservation {
  readonly startAtMs: number;
  readonly state: PolicyState;
}

/**
 * When `count` operations counted by this policy may start. Plenty left: now. Below the low-water mark: one
 * after another, spaced so that the rest lasts a learned window (or, not yet learned, spacing that doubles).
 * At the reserve: after the window is expected to roll over, never into a count Azure would refuse.
 */
export function reservePolicy(state: PolicyState | undefined, count: number, nowMs: number): PolicyReservation {
  if (state === undefined || count === 0) {
    return { startAtMs: nowMs, state: state ?? observePolicy(undefined, Number.MAX_SAFE_INTEGER - 1, nowMs) };
  }
  const available = state.remaining - state.spent;
  const earliest = Math.max(nowMs, state.nextAllowedMs);
  if (available - count >= lowWater(state.limit)) {
    return { startAtMs: earliest, state: { ...state, spent: state.spent + count } };
  }
  if (available - count >= RESERVE) {
    const spacing =
      state.windowMs !== undefined
        ? Math.max(MIN_SPACING_MS, Math.ceil(state.windowMs / Math.max(1, available - RESERVE)))
        : state.spacingMs;
    return {
      startAtMs: earliest,
      state: {
        ...state,
        spent: state.spent + count,
        nextAllowedMs: earliest + spacing * count,
        spacingMs: state.windowMs !== undefined ? spacing : Math.min(MAX_SPACING_MS, state.spacingMs * 2),
      },
    };
  }
  // Exhausted as far as RPO knows: wait for the window to roll, then start again from a fresh count.
  const rollAt =
    state.windowMs !== undefined && state.windowStartMs !== undefined
      ? state.windowStartMs + state.windowMs
      : earliest + state.spacingMs;
  const startAtMs = Math.max(earliest, rollAt);
  const nextWindowStart = state.windowMs !== undefined ? startAtMs : state.windowStartMs;
  return {
    startAtMs,
    state: {
      ...state,
      remaining: state.limit - 1,
      spent: count,
      observedAtMs: startAtMs,
      ...(nextWindowStart !== undefined ? { windowStartMs: nextWindowStart } : {}),
      spacingMs: Math.min(MAX_SPACING_MS, state.spacingMs * 2),
      nextAllowedMs: startAtMs,
    },
  };
}
