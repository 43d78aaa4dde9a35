/**
 * What a Compute policy has granted and not yet seen answered, by when it was granted (docs/pacing.md,
 * "Compute policies"). A grant whose answer does not come back within {@link SETTLE_MS} has been answered
 * unseen or lost: it is owed no longer. A single counter, paid back only by answers, leaked every grant whose
 * answer never paid it (a reservation larger than what was sent, an observation never written): at 1,000 VMs
 * the reads' policy ended owing more than its limit, and each window let one probe through. Pure.
 */

/** `[bucket start, grants in it]`, oldest first. */
export type OwedGrants = readonly (readonly [atMs: number, count: number])[];

/**
 * How long an answer can take to come back: an operation granted longer ago than this has been answered, so
 * a count seen later reflects it; and a policy whose first operation brought no count by then is not
 * reported on these answers (it is not paced). Re-exported by computePolicies.
 */
export const SETTLE_MS = 60_000;
/** Grants within this much time share one entry: a row holds at most SETTLE_MS / OWED_BUCKET_MS + 1. */
export const OWED_BUCKET_MS = 5_000;

/** The entries that may still be answered at `nowMs` (a bucket lives as long as its latest possible grant). */
export function liveOwed(owed: OwedGrants, nowMs: number): OwedGrants {
  const live = owed.filter(([atMs]) => atMs + OWED_BUCKET_MS + SETTLE_MS > nowMs);
  return live.length === owed.length ? owed : live;
}

export function totalOwed(owed: OwedGrants, nowMs: number): number {
  return liveOwed(owed, nowMs).reduce((sum, [, count]) => sum + count, 0);
}

/** `count` more granted at `nowMs`. */
export function addOwed(owed: OwedGrants, count: number, nowMs: number): OwedGrants {
  if (count <= 0) return liveOwed(owed, nowMs);
  const bucketMs = Math.floor(nowMs / OWED_BUCKET_MS) * OWED_BUCKET_MS;
  const live = liveOwed(owed, nowMs);
  const last = live[live.length - 1];
  if (last !== undefined && last[0] === bucketMs) return [...live.slice(0, -1), [bucketMs, last[1] + count]];
  // Grants are made in time order; one from an earlier bucket (a clock step back) joins the newest entry.
  if (last !== undefined && last[0] > bucketMs) return [...live.slice(0, -1), [last[0], last[1] + count]];
  return [...live, [bucketMs, count]];
}

/** One answer came back at `atMs`: it pays back the oldest grant still owed. */
export function payOwed(owed: OwedGrants, atMs: number): OwedGrants {
  const live = liveOwed(owed, atMs);
  const first = live[0];
  if (first === undefined) return live;
  return first[1] > 1 ? [[first[0], first[1] - 1], ...live.slice(1)] : live.slice(1);
}
