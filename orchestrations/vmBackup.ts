import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import { isVmSideAppConsistencyFailure } from '../lib/consistencyPlan';
import { checkInterval, modeFamily } from '../lib/pacing/vmGate';
import { MAX_RESTORE_POINTS_PER_VM } from '../lib/retention';
import { createOutcome, type CreateRecord } from '../lib/backup/outcomes';
import type { Outcome } from '../lib/tables/outcomeStore';
import {
  ACTIVITIES,
  ORCHESTRATIONS,
  type AcquireVmResult,
  type ArmFailure,
  type CreateRestorePointResult,
  type GetRestorePointResult,
  type InspectVmResult,
  type PlannedBackup,
  type PointState,
  type SpendVmPutResult,
  type VmBackupInput,
  type VmBackupResult,
} from './contracts';
import { backoffMs, iso, nowMs, paced, pollDelayMs, STORAGE_RETRY, waitUntil } from './steps';
import { applyRetention } from './retentionStep';

/**
 * vmBackup: one restore point of one VM for one slot (DESIGN §4; docs/scheduled-protection.md):
 * exclusive hold of the VM → look at what Azure has → minimum interval and the 500 cap → the PUT, within the
 * VM's hourly budget and the subscription's pacing → wait for Succeeded on growing durable timers →
 * crash-consistent fallback when the guest failed an application-consistent point → retention → outcomes.
 */

/** How long a creation may take before RPO stops watching and records it Failed (Azure says "seconds"). */
const CREATION_WATCH_MS = 2 * 3_600_000;
/** A busy VM is asked again this often while the slot's window lasts. */
const BUSY_RECHECK_MS = 2 * 60_000;

/** Ends a backup early with its record (thrown inside the generator, caught below; never leaves it). */
class Stop extends Error {
  constructor(readonly record: Omit<CreateRecord, 'startedAt' | 'finishedAt' | 'attempts' | 'throttled'>) {
    super(record.errorMessage ?? record.status);
  }
}

const vmBackup: OrchestrationHandler = function* (context: OrchestrationContext) {
  const { context: c, target } = context.df.getInput<VmBackupInput>();
  const startedAt = iso(nowMs(context));
  const deadlineMs = Date.parse(c.deadlineIso);
  const holder = context.df.instanceId;
  let attempts = 0;
  let throttled = 0;
  let waitedSeconds = 0;
  const outcomes: Outcome[] = [];
  const notes: string[] = [];

  const finish = function* (record: Omit<CreateRecord, 'startedAt' | 'finishedAt' | 'attempts' | 'throttled'>) {
    const full: CreateRecord = {
      ...record,
      notes: [...(record.notes ?? []), ...notes],
      attempts,
      throttled,
      startedAt,
      finishedAt: iso(nowMs(context)),
    };
    outcomes.unshift(createOutcome(c, target, full));
    yield context.df.callActivityWithRetry(ACTIVITIES.writeOutcomes, STORAGE_RETRY, { outcomes });
    const result: VmBackupResult = {
      vmId: target.vmId,
      vmName: target.vmName,
      status: record.status,
      ...(record.restorePointId !== undefined ? { restorePointId: record.restorePointId } : {}),
      ...(record.consistencyMode !== undefined ? { consistencyMode: record.consistencyMode } : {}),
      ...(record.timeCreated !== undefined ? { timeCreated: record.timeCreated } : {}),
      fallback: record.fallback,
      ...(record.errorCode !== undefined ? { reasonCode: record.errorCode } : {}),
      attempts,
      throttled,
      waitedSeconds,
    };
    return result;
  };

  const plan = target.plan;
  if (plan.kind === 'refused') {
    return yield* finish({ status: 'Skipped', fallback: false, errorCode: plan.code, errorMessage: plan.reason });
  }

  // 1. One creation per VM at a time, whichever trigger asked.
  for (;;) {
    const lease = (yield context.df.callActivityWithRetry(ACTIVITIES.acquireVm, STORAGE_RETRY, {
      vmId: target.vmId,
      holder,
      purpose: `${c.pointName} (${c.trigger})`,
      untilIso: iso(deadlineMs + CREATION_WATCH_MS),
    })) as AcquireVmResult;
    if (lease.kind === 'granted') break;
    const now = nowMs(context);
    if (now >= deadlineMs) {
      return yield* finish({
        status: 'Skipped',
        plan,
        fallback: false,
        errorCode: 'vmBusy',
        errorMessage: `another restore point of this VM was being created (${lease.purpose ?? lease.holder}) until the slot's start window closed`,
      });
    }
    waitedSeconds += yield* waitUntil(context, Math.min(Date.parse(lease.untilIso), now + BUSY_RECHECK_MS, deadlineMs));
  }

  let record: Omit<CreateRecord, 'startedAt' | 'finishedAt' | 'attempts' | 'throttled'>;
  try {
    record = yield* protect(plan);
  } catch (error) {
    // An activity that kept failing after the runtime's retries (storage down, a bug): this VM's backup is
    // Failed with the reason, and the other VMs of the run go on.
    record =
      error instanceof Stop
        ? error.record
        : {
            status: 'Failed',
            plan,
            fallback: false,
            errorCode: 'RpoInternalError',
            errorMessage: error instanceof Error ? error.message : String(error),
          };
  } finally {
    yield context.df.callActivityWithRetry(ACTIVITIES.releaseVm, STORAGE_RETRY, { vmId: target.vmId, holder });
  }
  return yield* finish(record);

  /** Steps 2-6, holding the VM. Throws Stop to end early with a record. */
  function* protect(
    first: PlannedBackup,
  ): Generator<df.Task, Omit<CreateRecord, 'startedAt' | 'finishedAt' | 'attempts' | 'throttled'>, unknown> {
    // Reads of this backup (inspection, two looks at the new point) and its writes (collection, point).
    waitedSeconds += yield* paced(context, {
      subscriptionId: target.subscriptionId,
      reads: target.collectionIds.length + 3,
      writes: target.collection.exists ? 1 : 2,
      // The point's own Compute count is asked for just before its PUT (below): a grant taken here would be
      // spent only after the inspection and the collection, while other VMs' grants go out.
      compute: {
        getRestorePoint: 3,
        ...(target.collection.exists ? {} : { createCollection: 1 }),
      },
    });
    const inspected = yield* inspect();
    let point = inspected.existing;
    if (point !== undefined && point.provisioningState === 'Failed') {
      throw new Stop({
        status: 'Failed',
        plan: first,
        fallback: false,
        restorePointId: point.id,
        errorCode: 'restorePointFailed',
        errorMessage: `${c.pointName} exists and failed`,
      });
    }
    if (point === undefined) {
      yield* checkLimits(first, inspected);
      point = yield* create(first, inspected.collectionExists);
    }
    let done = yield* watch(point);
    let used = first;
    let fallback = false;
    if (done.point.provisioningState !== 'Succeeded') {
      const failure = done.error ?? { code: 'RestorePointFailed', message: 'the restore point ended in state Failed' };
      const fallbackPlan = target.fallbackPlan;
      const canFallBack =
        c.fallbackToCrashConsistent &&
        first.mode === 'ApplicationConsistent' &&
        fallbackPlan?.kind === 'planned' &&
        isVmSideAppConsistencyFailure(failure);
      if (!canFallBack) {
        throw new Stop({
          status: 'Failed',
          plan: first,
          fallback: false,
          restorePointId: done.point.id,
          errorCode: failure.code,
          errorMessage: failure.message,
        });
      }
      notes.push(
        `application-consistent restore point failed in the VM (${failure.code}: ${failure.message}); took a crash-consistent one instead`,
      );
      // The failed point holds the slot's name: remove it, then create the crash-consistent point under it.
      yield* removeFailed(done.point.id);
      const crash = fallbackPlan;
      point = yield* create(crash, true);
      done = yield* watch(point);
      used = crash;
      fallback = true;
      if (done.point.provisioningState !== 'Succeeded') {
        const second = done.error ?? {
          code: 'RestorePointFailed',
          message: 'the crash-consistent restore point failed too',
        };
        throw new Stop({
          status: 'Failed',
          plan: crash,
          fallback: true,
          restorePointId: done.point.id,
          errorCode: second.code,
          errorMessage: second.message,
        });
      }
    }
    if (c.retention !== undefined) {
      const deletes = yield* applyRetention(context, c, target, c.retention, false, startedAt);
      outcomes.push(...deletes.outcomes);
      waitedSeconds += deletes.waitedSeconds;
    }
    return {
      status: 'Succeeded',
      plan: used,
      fallback,
      restorePointId: done.point.id,
      ...(done.point.consistencyMode !== undefined ? { consistencyMode: done.point.consistencyMode } : {}),
      ...(done.point.timeCreated !== undefined ? { timeCreated: done.point.timeCreated } : {}),
    };
  }

  /** Handles an ARM failure of a step: waits and returns true to try again, or stops the backup. */
  function* onFailure(failure: ArmFailure, tries: number, what: string): Generator<df.Task, true, unknown> {
    const now = nowMs(context);
    if (failure.kind === 'throttled') {
      throttled += 1;
      const until = now + (failure.retryAfterSeconds ?? 60) * 1000;
      if (until <= deadlineMs + CREATION_WATCH_MS) {
        notes.push(`throttled (${failure.code}) while ${what}: waited ${failure.retryAfterSeconds ?? 60} s`);
        waitedSeconds += yield* waitUntil(context, until);
        return true;
      }
    } else if (failure.kind === 'transient' && tries < 6) {
      const until = now + Math.max(backoffMs(tries), (failure.retryAfterSeconds ?? 0) * 1000);
      if (until <= deadlineMs + CREATION_WATCH_MS) {
        waitedSeconds += yield* waitUntil(context, until);
        return true;
      }
    }
    throw new Stop({
      status: 'Failed',
      plan: target.plan as PlannedBackup,
      fallback: false,
      errorCode: failure.code,
      errorMessage: `${what}: ${failure.message}`,
    });
  }

  function* inspect(): Generator<df.Task, InspectVmResult, unknown> {
    for (let tries = 1; ; tries++) {
      const result = (yield context.df.callActivityWithRetry(ACTIVITIES.inspectVm, STORAGE_RETRY, {
        target,
        pointName: c.pointName,
      })) as InspectVmResult;
      if (result.error === undefined) return result;
      yield* onFailure(result.error, tries, 'listing the VM restore points');
    }
  }

  /** The minimum interval (3 h app / 1 h crash) and the 500 cap, before anything is sent. */
  function* checkLimits(planned: PlannedBackup, inspected: InspectVmResult): Generator<df.Task, void, unknown> {
    const newest = inspected.newest[modeFamily(planned.mode)];
    const interval = checkInterval(planned.mode, newest === undefined ? undefined : Date.parse(newest), nowMs(context));
    if (interval.kind === 'tooSoon') {
      if (interval.clearAtMs > deadlineMs) {
        throw new Stop({
          status: 'Skipped',
          plan: planned,
          fallback: false,
          errorCode: 'minimumInterval',
          errorMessage: `the VM's previous ${planned.mode} restore point (${iso(interval.previousMs)}) is too recent: Azure allows the next at ${iso(interval.clearAtMs)}, after this slot's start window`,
        });
      }
      notes.push(`waited for the minimum interval after ${iso(interval.previousMs)}`);
      waitedSeconds += yield* waitUntil(context, interval.clearAtMs);
    }
    if (inspected.pointCount + 1 > MAX_RESTORE_POINTS_PER_VM) {
      const room = yield* applyRetention(context, c, target, c.retention ?? {}, true, startedAt);
      outcomes.push(...room.outcomes);
      waitedSeconds += room.waitedSeconds;
      if (room.blocked !== undefined) {
        throw new Stop({
          status: 'Skipped',
          plan: planned,
          fallback: false,
          errorCode: 'restorePointCap',
          errorMessage: room.blocked,
        });
      }
    }
  }

  /**
   * The PUT: within the VM's hourly budget. A retry, like the activity run again after a crash, looks for the
   * point by its name first (lib/pacing/vmGate rule 4).
   */
  function* create(planned: PlannedBackup, collectionExists: boolean): Generator<df.Task, PointState, unknown> {
    let ensureCollection = !collectionExists;
    for (let tries = 1; ; tries++) {
      const budget = (yield context.df.callActivityWithRetry(ACTIVITIES.spendVmPut, STORAGE_RETRY, {
        vmId: target.vmId,
        mode: planned.mode,
      })) as SpendVmPutResult;
      if (budget.kind === 'exhausted') {
        const retryAt = Date.parse(budget.retryAtIso);
        if (retryAt > deadlineMs + CREATION_WATCH_MS) {
          throw new Stop({
            status: 'Skipped',
            plan: planned,
            fallback: false,
            errorCode: 'putBudget',
            errorMessage: `the VM's 3 restore point PUTs of the last hour are spent; the next is allowed at ${budget.retryAtIso}`,
          });
        }
        notes.push(`waited for the VM's hourly PUT budget until ${budget.retryAtIso}`);
        waitedSeconds += yield* waitUntil(context, retryAt);
        continue;
      }
      // A retry reserves its ARM calls again; the first PUT's were reserved with the backup's.
      waitedSeconds += yield* paced(context, {
        subscriptionId: target.subscriptionId,
        ...(tries > 1 ? { reads: 1, writes: 1 } : {}),
        compute: { createRestorePoint: 1 },
      });
      attempts += 1;
      const result = (yield context.df.callActivityWithRetry(ACTIVITIES.createRestorePoint, STORAGE_RETRY, {
        target,
        pointName: c.pointName,
        plan: planned,
        ensureCollection,
      })) as CreateRestorePointResult;
      if (result.kind !== 'failed') return result.point;
      ensureCollection = ensureCollection && result.failure.code !== 'OperationNotAllowed';
      yield* onFailure(result.failure, tries, 'creating the restore point');
    }
  }

  /** Looks at the new point on growing durable timers until it is Succeeded or Failed. */
  function* watch(
    point: PointState,
  ): Generator<df.Task, { point: PointState; error?: { code: string; message: string } }, unknown> {
    const until = nowMs(context) + CREATION_WATCH_MS;
    let current = point;
    for (let poll = 0, tries = 1; ; poll++) {
      if (current.provisioningState === 'Succeeded' || current.provisioningState === 'Failed')
        return { point: current };
      if (nowMs(context) > until) {
        throw new Stop({
          status: 'Failed',
          plan: target.plan as PlannedBackup,
          fallback: false,
          restorePointId: current.id,
          errorCode: 'creationTimedOut',
          errorMessage: `still ${current.provisioningState} after ${CREATION_WATCH_MS / 60_000} minutes`,
        });
      }
      yield* waitUntil(context, nowMs(context) + pollDelayMs(poll));
      if (poll >= 2)
        waitedSeconds += yield* paced(context, {
          subscriptionId: target.subscriptionId,
          reads: 1,
          compute: { getRestorePoint: 1 },
        });
      const got = (yield context.df.callActivityWithRetry(ACTIVITIES.getRestorePoint, STORAGE_RETRY, {
        restorePointId: current.id,
      })) as GetRestorePointResult;
      if (got.kind === 'failed') {
        yield* onFailure(got.failure, tries++, 'reading the restore point');
        continue;
      }
      if (got.point.provisioningState === 'Failed')
        return { point: got.point, ...(got.error ? { error: got.error } : {}) };
      current = got.point;
    }
  }

  function* removeFailed(restorePointId: string): Generator<df.Task, void, unknown> {
    waitedSeconds += yield* paced(context, {
      subscriptionId: target.subscriptionId,
      deletes: 1,
      reads: 2,
      compute: { deleteRestorePoint: 1 },
    });
    yield context.df.callActivityWithRetry(ACTIVITIES.deleteRestorePoint, STORAGE_RETRY, { restorePointId });
    for (let poll = 0; poll < 12; poll++) {
      yield* waitUntil(context, nowMs(context) + pollDelayMs(poll));
      const got = (yield context.df.callActivityWithRetry(ACTIVITIES.getRestorePoint, STORAGE_RETRY, {
        restorePointId,
      })) as GetRestorePointResult;
      if (got.kind === 'failed' && got.failure.kind === 'notFound') return;
    }
    throw new Stop({
      status: 'Failed',
      plan: target.plan as PlannedBackup,
      fallback: true,
      restorePointId,
      errorCode: 'fallbackBlocked',
      errorMessage:
        'the failed application-consistent point could not be deleted to make way for the crash-consistent one',
    });
  }
};

df.app.orchestration(ORCHESTRATIONS.vmBackup, vmBackup);
