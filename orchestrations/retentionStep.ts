import type * as df from 'durable-functions';
import type { OrchestrationContext } from 'durable-functions';
import { deleteOutcome } from '../lib/backup/outcomes';
import type { RetentionRules } from '../lib/retention';
import type { Outcome } from '../lib/tables/outcomeStore';
import {
  ACTIVITIES,
  type BackupContext,
  type DeleteRestorePointResult,
  type PlanRetentionResult,
  type VmTarget,
} from './contracts';
import { iso, nowMs, paced, STORAGE_RETRY } from './steps';

/** A SAS is out on the point's disks: Azure refuses the delete until it ends. Reported, retried next cycle. */
const SAS_BLOCKED = 'diskrestorepointusedbycustomer';

/** Deletes of one VM in one cycle; a backlog (a policy's count lowered from 400 to 10) drains over cycles. */
export const MAX_DELETES_PER_CYCLE = 100;

export interface RetentionStepResult {
  readonly outcomes: Outcome[];
  readonly waitedSeconds: number;
  readonly blocked?: string;
}

/**
 * Retention of one VM after (or, under the 500 cap, before) a create: list and plan (lib/retention), pace the
 * deletes on ARM's delete bucket, start them. A refused delete never fails the backup: it is an outcome row.
 */
export function* applyRetention(
  context: OrchestrationContext,
  c: BackupContext,
  target: VmTarget,
  retention: RetentionRules,
  creatingOne: boolean,
  startedAt: string,
): Generator<df.Task, RetentionStepResult, unknown> {
  let waitedSeconds = yield* paced(context, {
    subscriptionId: target.subscriptionId,
    reads: target.collectionIds.length + 1,
  });
  const plan = (yield context.df.callActivityWithRetry(ACTIVITIES.planRetention, STORAGE_RETRY, {
    target,
    ...(c.policy !== undefined ? { policy: c.policy } : {}),
    retention,
    creatingOne,
  })) as PlanRetentionResult;
  const outcomes: Outcome[] = [];
  // Oldest first, at most a pacing reservation's worth per cycle; the rest go next cycle.
  const deletes = plan.delete.slice(0, MAX_DELETES_PER_CYCLE);
  if (deletes.length > 0) {
    waitedSeconds += yield* paced(context, {
      subscriptionId: target.subscriptionId,
      deletes: deletes.length,
      compute: { deleteRestorePoint: deletes.length },
    });
  }
  for (const point of deletes) {
    const result = (yield context.df.callActivityWithRetry(ACTIVITIES.deleteRestorePoint, STORAGE_RETRY, {
      restorePointId: point.id,
    })) as DeleteRestorePointResult;
    const finishedAt = iso(nowMs(context));
    if (result.kind === 'failed') {
      const sas = result.failure.code.toLowerCase() === SAS_BLOCKED;
      outcomes.push(
        deleteOutcome(c, target, {
          restorePointId: point.id,
          reason: sas ? `${point.reason} (blocked by an active SAS: retried next cycle)` : point.reason,
          status: sas ? 'Skipped' : 'Failed',
          startedAt,
          finishedAt,
          errorCode: result.failure.code,
          errorMessage: result.failure.message,
        }),
      );
    } else {
      outcomes.push(
        deleteOutcome(c, target, {
          restorePointId: point.id,
          reason: point.reason,
          status: 'Succeeded',
          startedAt,
          finishedAt,
        }),
      );
    }
  }
  return { outcomes, waitedSeconds, ...(plan.blocked !== undefined ? { blocked: plan.blocked } : {}) };
}
