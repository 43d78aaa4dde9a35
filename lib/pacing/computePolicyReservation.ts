import {
  lowWater,
  MAX_LOW_SPACING_MS,
  MAX_SPACING_MS,
  MIN_SPACING_MS,
  MIN_SPREAD_MS,
  NOT_SEEN,
  owe,
  owedOf,
  reserveOf,
  rollAtOf,
  SETTLE_MS,
  startProvisional,
  type PolicyState,
} from './computePolicies';

/**
 * The reservation side of a Compute policy's pacing (lib/pacing/computePolicies folds what answers show):
 * whether operations may start now, and if not, when the caller asks again.
 */
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
  const { probeAtMs: _probe, rollAnswered: _answered, ...rest } = state;
  return {
    ...rest,
    remaining: state.limit,
    // Nothing in flight is reflected in a count not seen: all that is owed may still land in the new window.
    spent: owedOf(state, nowMs),
    windowStartMs: nowMs,
    // A request sent before the roll may have opened the new window: it began after the old one's last count.
    ...(state.lastSentMs !== undefined ? { windowSentMs: state.lastSentMs } : {}),
    rolledAtMs: nowMs,
    remainingAtRoll: state.remaining,
    spacingMs: MIN_SPACING_MS,
  };
}

/**
 * Whether `count` operations counted by this policy may start now; if not, when to ask again (a grant is
 * never booked ahead: by then more answers have come back, and the question is asked of them; only the time
 * of the question is, see holdUntil).
 * - Not seen yet: one operation goes as a probe; the others wait for its count (slow start).
 * - Plenty left: now.
 * - Below the low-water mark: one after another, spaced so that the rest lasts a learned window (or, not yet
 *   learned, {@link MIN_SPACING_MS} apart).
 * - At the reserve: after the window is expected to roll over, one probe per wait; never into a count that
 *   Azure would refuse as far as RPO knows.
 */
export function reservePolicy(current: PolicyState | undefined, count: number, nowMs: number): PolicyReservation {
  const state = unleak(current ?? NOT_SEEN, nowMs);
  const rolled = rollOver(state, nowMs);
  if (rolled === state) return decide(state, count, nowMs);
  // The new window opens with a request sent, not with a question asked: a held-back request changes nothing.
  const reservation = decide(rolled, count, nowMs);
  return reservation.granted ? reservation : { granted: false, retryAtMs: reservation.retryAtMs, state };
}

/** No more can be in flight than is owed: grants owed no longer (SETTLE_MS) are no longer spent either. */
function unleak(state: PolicyState, nowMs: number): PolicyState {
  const owed = owedOf(state, nowMs);
  return state.spent > owed ? { ...state, spent: owed } : state;
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
    state.lastGrantMs !== undefined &&
    (state.lastAnsweredSentMs ?? -Infinity) < state.lastGrantMs &&
    state.lastGrantMs >= state.observedAtMs &&
    nowMs - state.lastGrantMs < SETTLE_MS
  );
}

function decide(state: PolicyState, count: number, nowMs: number): PolicyReservation {
  const grant = (next: Partial<PolicyState>, base: PolicyState = state): PolicyReservation => {
    const granted: PolicyState = {
      ...base,
      ...next,
      spent: state.spent + count,
      owedGrants: owe(state, count, nowMs),
      lastGrantMs: nowMs,
    };
    return {
      granted: true,
      retryAtMs: nowMs,
      state: { ...granted, gapMs: Math.max(0, granted.nextAllowedMs - nowMs) },
    };
  };
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
  if (state.nextAllowedMs > nowMs) return holdUntil(state, state.nextAllowedMs, nowMs);
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
    // Spread what is left over the rest of the window. One learned from resets is only an upper bound of the
    // real one (whose end then comes sooner, with a fresh count): spreading over it is safe but crawls when it
    // is far too long, so no gap there exceeds MAX_LOW_SPACING_MS. No window yet: one every MIN_SPACING_MS,
    // each answer a look at whether a window has opened (the sooner one is seen, the sooner it is learned).
    const windowLeft = rollAtMs !== undefined && rollAtMs > nowMs ? rollAtMs - nowMs : undefined;
    let gap = MIN_SPACING_MS;
    if (windowLeft !== undefined) {
      const spread = Math.max(MIN_SPREAD_MS, Math.ceil(windowLeft / Math.max(1, available - reserve)));
      gap = state.windowExact === true ? spread : Math.min(spread, MAX_LOW_SPACING_MS);
    }
    return grant({ nextAllowedMs: spacedAfter(state.nextAllowedMs, gap, count, nowMs) });
  }
  // Exhausted as far as RPO knows: one probe when a window known exactly rolls over, or after a growing wait
  // (no later than a learned window's upper bound); its answer shows whether it did (a count going up) or not,
  // and a 429 states the window exactly: a policy costs at most that one.
  if (state.probeAtMs !== undefined && nowMs >= state.probeAtMs) {
    const { probeAtMs: _probed, ...rest } = state;
    return grant({ nextAllowedMs: nowMs + MIN_SPACING_MS }, rest);
  }
  if (state.probeAtMs !== undefined) return holdUntil(state, state.probeAtMs, nowMs);
  const probeAtMs =
    state.windowExact === true && rollAtMs !== undefined
      ? Math.max(rollAtMs, nowMs)
      : Math.max(nowMs, Math.min(rollAtMs ?? Infinity, nowMs + state.spacingMs));
  return holdUntil({ ...state, probeAtMs, spacingMs: Math.min(MAX_SPACING_MS, state.spacingMs * 2) }, probeAtMs, nowMs);
}

/**
 * When the grant after `count` granted now may go, `gap` apart each: on a schedule, not `gap` after this
 * grant. A caller comes back later than the time it was given (a durable timer fires late, the work of a
 * manual clock's step runs at its end): measured from each grant, every lateness would widen the gap, and
 * at 1.2 s apart on a clock of 1 s steps only one grant in 2 s went (the bench's windows gave 130 of 148).
 * A grant up to one gap late keeps the schedule; later than that, the schedule restarts from one gap ago, so
 * at most one more goes at once.
 */
function spacedAfter(nextAllowedMs: number, gap: number, count: number, nowMs: number): number {
  return Math.max(nextAllowedMs, nowMs - gap) + gap * count;
}

/**
 * When a caller that may not go before `earliestMs` asks again. Asked again all at the same instant, all
 * but one would be held again, each grant costing a question of every waiting VM; booked one by one, the
 * line would not see a window open. So callers line up one gap apart within the current window, and those
 * beyond it are sent to the windows after it, each taking as many as it allows, at its start. Only the time
 * of the next question is booked, never a grant: it is decided on the counts seen by then.
 */
function holdUntil(state: PolicyState, earliestMs: number, nowMs: number): PolicyReservation {
  const wait = (atMs: number, next: Partial<PolicyState>): PolicyReservation => ({
    granted: false,
    retryAtMs: Math.max(atMs, nowMs + 1),
    state: { ...state, ...next },
  });
  const gap = Math.min(MAX_LOW_SPACING_MS, Math.max(MIN_SPREAD_MS, state.gapMs ?? MIN_SPACING_MS));
  const rollAtMs = rollAtOf(state);
  const windowEndMs = rollAtMs !== undefined && rollAtMs > nowMs ? rollAtMs : undefined;
  // Without a window learned, the next grant is the one whose answer may show a window opening: the others
  // ask again once it is likely back.
  const lineEndMs = windowEndMs ?? earliestMs + MIN_SPACING_MS;
  const slot = Math.max(earliestMs, (state.lineEndMs ?? -Infinity) + gap);
  if (slot < lineEndMs) return wait(slot, { lineEndMs: slot });
  if (windowEndMs === undefined || state.windowMs === undefined) return wait(lineEndMs, {});
  const perWindow = Math.max(1, state.limit - reserveOf(state.limit));
  // Counted afresh for each window end: those sent beyond an earlier one come back at times of their own.
  const queued = state.queuedFromMs === windowEndMs ? (state.queued ?? 0) : 0;
  // A window learned from resets is only an upper bound: booked that far ahead, callers would come back late
  // once it turns out shorter. Its lower bound books them no later than their window.
  const stepMs = state.windowExact === true ? state.windowMs : Math.min(state.windowMs, state.windowMinMs ?? 0);
  return wait(windowEndMs + Math.floor(queued / perWindow) * stepMs, {
    queued: queued + 1,
    queuedFromMs: windowEndMs,
  });
}
