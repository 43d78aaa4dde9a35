import type { Policy } from './policy';
import { slotTimesBetween, type Schedule } from './schedule';
import type { Outcome } from './tables/outcomeStore';

/**
 * A VM's recovery point objective, judged from its outcomes (RpoOutcomes). Pure: the HTTP function lists the
 * VMs and the outcomes, this decides. States (docs/compliance.md):
 *
 * - `Protected`: its newest good restore point is younger than the RPO target and the last attempt worked;
 * - `AtRisk`: still within the target, but the last attempt did not work (or no first point yet);
 * - `Breached`: no good point within the target;
 * - `Unprotected`: in a policy's scope but selected by none, or refused by Azure's support matrix.
 *
 * RPO target = the longest gap between two slots of the schedule + the start window: the oldest the newest
 * point may be when every slot runs as late as it may.
 */
export type ComplianceState = 'Protected' | 'AtRisk' | 'Breached' | 'Unprotected';

const DAY_MS = 86_400_000;

/** The longest gap between consecutive slots, looked at over the 62 days around `nowMs`. */
export function longestGapMs(schedule: Schedule, nowMs: number): number {
  if ('everyHours' in schedule) return schedule.everyHours * 3_600_000;
  const slots = slotTimesBetween(schedule, nowMs - 31 * DAY_MS, nowMs + 31 * DAY_MS);
  let longest = 0;
  for (let i = 1; i < slots.length; i++) longest = Math.max(longest, (slots[i] as number) - (slots[i - 1] as number));
  return longest === 0 ? 62 * DAY_MS : longest;
}

export function rpoTargetMs(policy: Pick<Policy, 'schedule' | 'startWindowMinutes'>, nowMs: number): number {
  return longestGapMs(policy.schedule, nowMs) + policy.startWindowMinutes * 60_000;
}

/** Refusals that no retry fixes: the VM cannot be protected with restore points as it is. */
const NEVER_PROTECTABLE = new Set([
  'unmanagedDisks',
  'uniformScaleSet',
  'confidentialVm',
  'allDisksExcluded',
  'ephemeralOsDiskWithoutId',
  'instantAccessNeedsApplicationConsistent',
]);

export interface VmCompliance {
  readonly state: ComplianceState;
  readonly rpoTargetMinutes: number;
  readonly newestGoodPoint?: {
    readonly restorePointId: string;
    readonly createdAt: string;
    readonly ageMinutes: number;
  };
  readonly why?: { readonly code: string; readonly message: string };
}

const isAttempt = (o: Outcome) => o.operation === 'create' || o.operation === 'skip';

/** Judges one VM against one policy, from its outcomes newest first. */
export function judge(
  policy: Pick<Policy, 'schedule' | 'startWindowMinutes'>,
  outcomes: readonly Outcome[],
  nowMs: number,
): VmCompliance {
  const target = rpoTargetMs(policy, nowMs);
  const rpoTargetMinutes = Math.round(target / 60_000);
  const attempts = outcomes.filter(isAttempt);
  const good = attempts.find((o) => o.operation === 'create' && o.status === 'Succeeded');
  const last = attempts[0];
  const why =
    last !== undefined && last.status !== 'Succeeded'
      ? { code: last.errorCode ?? last.status, message: last.errorMessage ?? `the last attempt was ${last.status}` }
      : undefined;
  if (good === undefined) {
    if (last !== undefined && last.status === 'Skipped' && NEVER_PROTECTABLE.has(last.errorCode ?? '')) {
      return { state: 'Unprotected', rpoTargetMinutes, ...(why ? { why } : {}) };
    }
    if (last === undefined) {
      return {
        state: 'AtRisk',
        rpoTargetMinutes,
        why: { code: 'noRestorePointYet', message: 'no restore point has been attempted yet' },
      };
    }
    return { state: 'Breached', rpoTargetMinutes, ...(why ? { why } : {}) };
  }
  const createdAt = good.finishedAt ?? good.startedAt;
  const ageMs = Math.max(0, nowMs - Date.parse(createdAt));
  const newestGoodPoint = {
    restorePointId: good.restorePointId ?? '',
    createdAt,
    ageMinutes: Math.round(ageMs / 60_000),
  };
  if (ageMs > target) {
    return {
      state: 'Breached',
      rpoTargetMinutes,
      newestGoodPoint,
      why: why ?? {
        code: 'rpoExceeded',
        message: `the newest good restore point is older than the ${rpoTargetMinutes}-minute RPO target`,
      },
    };
  }
  return {
    state: why === undefined ? 'Protected' : 'AtRisk',
    rpoTargetMinutes,
    newestGoodPoint,
    ...(why ? { why } : {}),
  };
}

const RANK: Record<ComplianceState, number> = { Protected: 0, AtRisk: 1, Breached: 2, Unprotected: 3 };

/** Of a VM's judgements under several policies, the best: a VM one policy protects is protected. */
export function best<T extends { state: ComplianceState }>(judgements: readonly T[]): T | undefined {
  return [...judgements].sort((a, b) => RANK[a.state] - RANK[b.state])[0];
}
