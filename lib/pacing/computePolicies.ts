/**
 * Compute's own subscription-wide restore point policies (`PutRestorePointSubscriptionMaximum`, …) reported in
 * `x-ms-ratelimit-remaining-resource: Microsoft.Compute/<policy>;<remaining>`. Their limits and windows are not
 * documented (shared/docs/azure-api.md §6), so RPO learns them from what responses carry and slows down before a
 * count reaches zero: docs/pacing.md, "Compute policies". Pure: time is passed in.
 */
import { addOwed, liveOwed, payOwed, SETTLE_MS, totalOwed, type OwedGrants } from './owedGrants';

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
/** Below the low-water mark of a known window, grants are at least this far apart (an orchestrator asks again no sooner). */
export const MIN_SPREAD_MS = 1_000;
/**
 * Below the low-water mark of a window learned from resets (an upper bound only, so spreading over it can
 * crawl), what is left is spread over the rest of it, but never more than this apart.
 */
export const MAX_LOW_SPACING_MS = 10_000;
/** Azure's Retry-After for Compute throttles goes up to 20 minutes; a blind wait never exceeds it. */
export const MAX_SPACING_MS = 20 * 60_000;
export { SETTLE_MS };

export interface PolicyState {
  /** The largest `remaining + 1` ever seen: a lower bound of the policy's limit. 0: not seen yet (probing). */
  readonly limit: number;
  readonly remaining: number;
  readonly observedAtMs: number;
  /** When `remaining` was first seen (a later answer with the same count leaves it). */
  readonly lowSeenAtMs?: number;
  /**
   * Operations granted that the last count seen does not reflect yet (in flight, or about to be sent): what
   * the counts going down have not settled, and never more than `owed`.
   */
  readonly spent: number;
  /**
   * Operations granted whose answers have not come back, by when they were granted (lib/pacing/owedGrants:
   * owed no longer after SETTLE_MS). A count that goes down settles what Azure counted, but requests that
   * reach a window opened unseen bring higher counts that settle nothing; their answers still show they are
   * no longer in flight. (Absent in rows written before it: `spent` stands in.)
   */
  readonly owedGrants?: OwedGrants;
  /** When the last operation was granted. */
  readonly lastGrantMs?: number;
  /**
   * The latest send time of a request of this policy whose answer came back: the last grant is answered when
   * it is no earlier (told apart from the time of the last count, which a manual clock's step, or a coarse
   * one, makes equal to the grant's).
   */
  readonly lastAnsweredSentMs?: number;
  /** When the current window was seen to begin (a count going up), if ever: no earlier than it began. */
  readonly windowStartMs?: number;
  /**
   * A lower bound of when the current window began: the latest send time of a request counted in the window
   * before (`lastSentMs` then). Requests reach Azure in the order they are sent (one client, one connection
   * pool), so the window after the one a request was counted in begins after it was sent, however fast or
   * slow each answer comes back. From it to when the next window is seen lies at least one whole window.
   * (The send time of the request that showed the window is no bound: an earlier one, answered later, may
   * have opened it.)
   */
  readonly windowSentMs?: number;
  /**
   * The latest send time of a request whose count went down in the current window: the next window begins
   * after it. Only a count going down: one as low as before may come from the next window already.
   */
  readonly lastSentMs?: number;
  /** Learned window length: an upper bound from two observed resets, or exact from a 429's window. */
  readonly windowMs?: number;
  /**
   * A lower bound of the window: how long after a window was seen to begin a request was sent that it still
   * counted (a count going down). Kept across windows: the policy's window does not change.
   */
  readonly windowMinMs?: number;
  /** The window came from a 429's body: exact, not re-learned from resets. */
  readonly windowExact?: boolean;
  /** Exhausted: the one probe of this wait may go at this time. */
  readonly probeAtMs?: number;
  /**
   * When RPO last took the known window for over (its end passed): the count went back to the limit and
   * the new window opened with the next grant. Answers to requests sent before then belong to the old one.
   */
  readonly rolledAtMs?: number;
  /**
   * An answer to a request sent since the roll has come back. Not read from the times alone: an answer in
   * the same millisecond as the roll (a manual clock's step, or a coarse one) would leave the start of the
   * window provisional and the count stale, and hold every caller for a minute.
   */
  readonly rollAnswered?: boolean;
  /** The count last seen of the window before that roll: an answer above it is from a window after it. */
  readonly remainingAtRoll?: number;
  /** An answer to one of its operations came back without a count: answers do not report this policy. */
  readonly unreported?: boolean;
  readonly spacingMs: number;
  readonly nextAllowedMs: number;
  /** The gap the last grant set before the next (`nextAllowedMs` − its time). */
  readonly gapMs?: number;
  /** The latest time handed to a caller held back within the current window: the end of the line. */
  readonly lineEndMs?: number;
  /** Callers sent to the windows after the one that ends at `queuedFromMs` (see holdUntil). */
  readonly queued?: number;
  readonly queuedFromMs?: number;
}

export type PolicyStates = Readonly<Record<string, PolicyState>>;

export const NOT_SEEN: PolicyState = {
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
  answer = true,
): PolicyState {
  const next = foldCount(state, remaining, atMs, sentAtMs);
  return answer ? answered(state, next, atMs, sentAtMs) : next;
}

/**
 * One of the policy's own operations was answered (its count may come on another operation's answer too, which
 * answers nothing of this policy's): one fewer is owed, and no more can be in flight than are owed.
 */
function answered(before: PolicyState | undefined, next: PolicyState, atMs: number, sentAtMs: number): PolicyState {
  const owedGrants = payOwed(owedGrantsOf(before, atMs), atMs);
  return {
    ...next,
    owedGrants,
    spent: Math.min(next.spent, totalOwed(owedGrants, atMs)),
    lastAnsweredSentMs: Math.max(before?.lastAnsweredSentMs ?? -Infinity, sentAtMs),
  };
}

/** What is owed at `nowMs` (a row written before owedGrants: what is spent, granted at the last grant). */
export function owedGrantsOf(state: PolicyState | undefined, nowMs: number): OwedGrants {
  if (state === undefined) return [];
  if (state.owedGrants !== undefined) return liveOwed(state.owedGrants, nowMs);
  return state.lastGrantMs === undefined ? [] : addOwed([], state.spent, state.lastGrantMs);
}

export function owedOf(state: PolicyState | undefined, nowMs: number): number {
  return totalOwed(owedGrantsOf(state, nowMs), nowMs);
}

/** `count` operations granted at `nowMs`. */
export function owe(state: PolicyState, count: number, nowMs: number): OwedGrants {
  return addOwed(owedGrantsOf(state, nowMs), count, nowMs);
}

function foldCount(state: PolicyState | undefined, remaining: number, atMs: number, sentAtMs: number): PolicyState {
  if (state === undefined || state.limit === 0) {
    return {
      limit: remaining + 1,
      remaining,
      observedAtMs: atMs,
      lastSentMs: sentAtMs,
      spent: Math.max(0, (state?.spent ?? 0) - 1),
      ...(state?.lastGrantMs !== undefined ? { lastGrantMs: state.lastGrantMs } : {}),
      ...(state?.lastAnsweredSentMs !== undefined ? { lastAnsweredSentMs: state.lastAnsweredSentMs } : {}),
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
    (remaining > state.remaining && sentAtMs > (state.lowSeenAtMs ?? state.observedAtMs)) ||
    (rollAtMs !== undefined && sentAtMs >= rollAtMs);
  const count = reset ? remaining : Math.min(remaining, state.remaining);
  let windowStartMs = state.windowStartMs;
  let windowSentMs = state.windowSentMs;
  let windowMs = state.windowMs;
  if (startProvisional(state) && !reset) {
    // The first answer since RPO took the window for over. A count as high as the grants since allow is the
    // fresh window, opened when that request arrived. One above what the old window had left (and sent after
    // that was seen) is a window opened before the roll by requests sent before it: it ends before the end
    // taken from the roll. Anything lower shows that the old window has not ended: the learned window was
    // wrong, and the roll's time is no window's start.
    if (remaining >= state.limit - state.spent) windowStartMs = atMs;
    else if (remaining <= (state.remainingAtRoll ?? Infinity) && !state.windowExact) {
      windowMs = undefined;
      windowStartMs = undefined;
      windowSentMs = undefined;
    }
  }
  if (reset) {
    // A window opens at the first call after the last one closed (the emulator's model, and a fixed window's
    // worst case): the window seen before began after `windowSentMs`, this one no later than now, so their gap
    // bounds the window from above.
    if (windowSentMs !== undefined && !state.windowExact)
      windowMs = Math.min(windowMs ?? Infinity, atMs - windowSentMs);
    windowStartMs = atMs;
    windowSentMs = state.lastSentMs;
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
  const windowMinMs =
    !reset && count < state.remaining && windowStartMs !== undefined && sentAtMs > windowStartMs
      ? Math.max(state.windowMinMs ?? 0, sentAtMs - windowStartMs)
      : state.windowMinMs;
  const settled = state.lastGrantMs === undefined || atMs - state.lastGrantMs >= SETTLE_MS;
  // What Azure counted since the last count seen is no longer in flight (an older answer settles nothing):
  // the drop of the count, or in a new window all it counted so far (the answers of its first requests may
  // still be on their way, and they will settle nothing: their counts are higher).
  const counted = reset ? Math.max(1, limit - remaining) : state.remaining - count;
  const spent = settled ? 0 : Math.max(0, state.spent - counted);
  const low = count < lowWater(limit);
  const lastSentMs =
    reset || count < state.remaining ? Math.max(state.lastSentMs ?? -Infinity, sentAtMs) : state.lastSentMs;
  return {
    limit,
    remaining: count,
    observedAtMs: atMs,
    lowSeenAtMs: reset || count < state.remaining ? atMs : (state.lowSeenAtMs ?? state.observedAtMs),
    spent,
    ...(state.lastGrantMs !== undefined ? { lastGrantMs: state.lastGrantMs } : {}),
    ...(state.lastAnsweredSentMs !== undefined ? { lastAnsweredSentMs: state.lastAnsweredSentMs } : {}),
    ...(!reset && state.rolledAtMs !== undefined ? { rolledAtMs: state.rolledAtMs, rollAnswered: true } : {}),
    ...(!reset && state.remainingAtRoll !== undefined ? { remainingAtRoll: state.remainingAtRoll } : {}),
    ...(windowStartMs !== undefined ? { windowStartMs } : {}),
    ...(windowSentMs !== undefined ? { windowSentMs } : {}),
    ...(lastSentMs !== undefined ? { lastSentMs } : {}),
    ...(windowMinMs !== undefined ? { windowMinMs } : {}),
    ...(windowMs !== undefined ? { windowMs } : {}),
    ...(state.windowExact && windowMs !== undefined ? { windowExact: true } : {}),
    spacingMs: low ? state.spacingMs : MIN_SPACING_MS,
    // A spacing decided stands until a new window opens.
    nextAllowedMs: reset ? 0 : state.nextAllowedMs,
  };
}

/**
 * An answer to one of the policy's operations came back without its count. Once a count has been seen, a
 * missing one is a lost header (or an answer Azure does not count on, e.g. a 404): not a change, yet the
 * answer is no longer in flight. Before, a successful answer without it shows that answers do not report
 * this policy: it is not paced.
 */
export function answeredWithoutCount(
  state: PolicyState | undefined,
  atMs: number,
  success = true,
  sentAtMs = atMs,
): PolicyState {
  if (state !== undefined && state.limit > 0) return answered(state, state, atMs, sentAtMs);
  return success ? { ...(state ?? NOT_SEEN), unreported: true } : (state ?? NOT_SEEN);
}

/**
 * Since RPO took the window for over no answer has come back: the window's start is taken as the roll for now,
 * and as the first answer's time when it comes (a window opens when the first request arrives, after its grant).
 */
export function startProvisional(state: PolicyState): boolean {
  return state.rolledAtMs !== undefined && state.rollAnswered !== true && state.observedAtMs <= state.rolledAtMs;
}

export function rollAtOf(state: PolicyState): number | undefined {
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
    return answered(state, settleOne(state), atMs, sentAtMs);
  }
  const seen = observePolicy(state, 0, atMs, sentAtMs);
  // Whatever was in flight met the same refusal: nothing is outstanding.
  const { rolledAtMs: _rolled, remainingAtRoll: _left, rollAnswered: _answered, ...current } = seen;
  const base: PolicyState = {
    ...current,
    remaining: 0,
    observedAtMs: Math.max(seen.observedAtMs, atMs),
    spent: 0,
    owedGrants: [],
  };
  const exact = window !== undefined && window.endMs > window.startMs;
  return {
    ...base,
    limit: Math.max(base.limit, window?.allowed ?? 0),
    ...(exact
      ? {
          windowMs: window.endMs - window.startMs,
          windowStartMs: window.startMs,
          windowSentMs: window.startMs,
          windowExact: true,
        }
      : {}),
    nextAllowedMs: Math.max(base.nextAllowedMs, atMs + retryAfterMs),
  };
}

export function lowWater(limit: number): number {
  return Math.max(reserveOf(limit) + 1, Math.ceil(limit * LOW_WATER_SHARE));
}
