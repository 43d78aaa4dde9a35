import type { Outcome, OutcomeStatus } from '../tables/outcomeStore';
import type { BackupContext, PlannedBackup, VmTarget } from '../../orchestrations/contracts';

/**
 * The RpoOutcomes rows of one VM's backup (DESIGN §5, every field), built from what vmBackup saw. Pure, so
 * the orchestrator can build them during replay and the same rows come out every time.
 */
export interface CreateRecord {
  readonly status: OutcomeStatus;
  readonly plan?: PlannedBackup;
  readonly restorePointId?: string;
  readonly consistencyMode?: string;
  /** When Azure created the point (for the set's member skew); not a column of its own. */
  readonly timeCreated?: string;
  readonly fallback: boolean;
  readonly attempts: number;
  readonly throttled: number;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  /** Said on top of the plan's warnings (a fallback's first failure, waits for limits). */
  readonly notes?: readonly string[];
}

function base(context: BackupContext, target: VmTarget): Pick<Outcome, 'vmId' | 'trigger' | 'runId' | 'policy'> {
  return {
    vmId: target.vmId,
    trigger: context.trigger,
    runId: context.runId,
    ...(context.policy !== undefined ? { policy: context.policy } : {}),
  };
}

/** The create (or skip) row. A Skipped backup is operation `skip`; every other status is `create`. */
export function createOutcome(context: BackupContext, target: VmTarget, record: CreateRecord): Outcome {
  const warnings = [...(record.plan?.warnings ?? []), ...(record.notes ?? [])];
  return {
    ...base(context, target),
    operation: record.status === 'Skipped' ? 'skip' : 'create',
    status: record.status,
    restorePointId: record.restorePointId ?? `${target.collection.id}/restorePoints/${context.pointName}`,
    ...(record.consistencyMode !== undefined
      ? { consistencyMode: record.consistencyMode }
      : record.plan !== undefined
        ? { consistencyMode: record.plan.mode }
        : {}),
    fallback: record.fallback,
    excludedDisks: record.plan?.excludedDisks ?? [],
    warnings,
    attempts: record.attempts,
    throttled: record.throttled,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
    ...(record.errorCode !== undefined ? { errorCode: record.errorCode } : {}),
    ...(record.errorMessage !== undefined ? { errorMessage: record.errorMessage } : {}),
  };
}

export interface DeleteRecord {
  readonly restorePointId: string;
  readonly reason: string;
  readonly status: OutcomeStatus;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly errorCode?: string;
  readonly errorMessage?: string;
}

/** A retention delete. A SAS-blocked one is Skipped (retried next cycle), never Failed. */
export function deleteOutcome(context: BackupContext, target: VmTarget, record: DeleteRecord): Outcome {
  return {
    ...base(context, target),
    operation: 'delete',
    status: record.status,
    restorePointId: record.restorePointId,
    fallback: false,
    excludedDisks: [],
    warnings: [`retention: ${record.reason}`],
    attempts: 1,
    throttled: 0,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
    ...(record.errorCode !== undefined ? { errorCode: record.errorCode } : {}),
    ...(record.errorMessage !== undefined ? { errorMessage: record.errorMessage } : {}),
  };
}
