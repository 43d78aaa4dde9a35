import * as df from 'durable-functions';
import type { OrchestrationContext } from 'durable-functions';
import { ACTIVITIES, type ReserveArmInput, type ReserveArmResult } from './contracts';

/** Building blocks the orchestrators share. Deterministic: time is context.df.currentUtcDateTime. */

/** Activities that only touch Table storage or ARM once are retried by the runtime on an unexpected error. */
export const STORAGE_RETRY = (() => {
  const options = new df.RetryOptions(5_000, 6);
  options.backoffCoefficient = 2;
  options.maxRetryIntervalInMilliseconds = 120_000;
  return options;
})();

export function nowMs(context: OrchestrationContext): number {
  return context.df.currentUtcDateTime.getTime();
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Waits on a durable timer until `untilMs` (nothing when that is past); returns the seconds waited. */
export function* waitUntil(context: OrchestrationContext, untilMs: number): Generator<df.Task, number, unknown> {
  const from = nowMs(context);
  if (untilMs <= from + 500) return 0;
  yield context.df.createTimer(new Date(untilMs));
  return Math.round((nowMs(context) - from) / 1000);
}

/**
 * Reserves ARM calls for a subscription (lib/pacing) and waits until they may start. A Compute policy that
 * holds them back names a time to ask again (its state will have moved by then); every wait is a durable timer.
 */
export function* paced(context: OrchestrationContext, request: ReserveArmInput): Generator<df.Task, number, unknown> {
  let waited = 0;
  for (;;) {
    const reservation = (yield context.df.callActivityWithRetry(
      ACTIVITIES.reserveArm,
      STORAGE_RETRY,
      request,
    )) as ReserveArmResult;
    const startAtMs = Date.parse(reservation.startAtIso);
    if (reservation.recheck !== true) return waited + (yield* waitUntil(context, startAtMs));
    // At least a second: asking again at once would find the same answer.
    waited += yield* waitUntil(context, Math.max(startAtMs, nowMs(context) + 1_000));
  }
}

/** Exponential backoff for transient failures: 15 s, 30 s, 60 s, … at most 10 minutes. */
export function backoffMs(attempt: number): number {
  return Math.min(600_000, 15_000 * 2 ** Math.max(0, attempt - 1));
}

/** Polling a restore point being created: 10 s, 20 s, 40 s, … at most 5 minutes between looks. */
export function pollDelayMs(poll: number): number {
  return Math.min(300_000, 10_000 * 2 ** poll);
}
