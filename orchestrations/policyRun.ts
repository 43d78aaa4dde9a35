import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import { policyRestorePointName } from '../lib/naming';
import { addTallies, type RunTally } from '../lib/backup/summary';
import type { RunRecord, RunState } from '../lib/tables/runStore';
import {
  ACTIVITIES,
  BATCH_LANES,
  ORCHESTRATIONS,
  type BackupContext,
  type PolicyRunInput,
  type PolicyRunResult,
  type ResolveTargetsResult,
} from './contracts';
import { iso, nowMs, STORAGE_RETRY } from './steps';

/**
 * policyRun: one slot of one policy (instance id `policy-run:{policy}:{slotIso}`, DESIGN §4). Resolves the
 * targets (paged ARM listings, stored in batches outside the history), fans them out over at most BATCH_LANES
 * policyRunBatch lanes (each takes its batches one after another),
 * and records one RpoRuns entity with the counts by status.
 */
const policyRun: OrchestrationHandler = function* (context: OrchestrationContext) {
  const { policy, slotIso, trigger } = context.df.getInput<PolicyRunInput>();
  const runId = context.df.instanceId;
  const startedAt = iso(nowMs(context));
  const backup: BackupContext = {
    runId,
    trigger,
    policy: policy.name,
    pointName: policyRestorePointName(policy.name, slotIso),
    slotIso,
    deadlineIso: iso(Date.parse(slotIso) + policy.startWindowMinutes * 60_000),
    fallbackToCrashConsistent: policy.fallbackToCrashConsistent,
    retention: policy.retention,
  };
  const record = (state: RunState, extra: Partial<RunRecord> = {}): df.Task =>
    context.df.callActivityWithRetry(ACTIVITIES.recordRun, STORAGE_RETRY, {
      run: {
        runId,
        kind: 'policyRun',
        state,
        trigger,
        policy: policy.name,
        startedAt,
        counts: { Succeeded: 0, Failed: 0, Skipped: 0, Missed: 0 },
        ...extra,
      },
    });

  yield record('Running', { message: `slot ${slotIso}` });
  context.df.setCustomStatus({ stage: 'resolving targets' });
  const resolved = (yield context.df.callActivityWithRetry(ACTIVITIES.resolveTargets, STORAGE_RETRY, {
    runId,
    policy,
  })) as ResolveTargetsResult;
  context.df.setCustomStatus({ stage: 'backing up', total: resolved.total, batches: resolved.batches });

  // Task.all of nothing is not a task the replay can complete: a policy that selects nothing skips it.
  const lanes = Math.min(BATCH_LANES, resolved.batches);
  const tallies =
    lanes === 0
      ? []
      : ((yield context.df.Task.all(
          Array.from({ length: lanes }, (_, lane) =>
            context.df.callSubOrchestrator(
              ORCHESTRATIONS.policyRunBatch,
              { context: backup, lane, lanes, batches: resolved.batches },
              `${runId}:lane:${lane}`,
            ),
          ),
        )) as RunTally[]);
  const total = addTallies(tallies);
  const listingFailed = resolved.listingErrors.length > 0;
  const state: RunState =
    total.counts.Failed > 0 || listingFailed
      ? total.counts.Succeeded > 0
        ? 'PartiallySucceeded'
        : 'Failed'
      : 'Succeeded';
  const problems = resolved.listingErrors.map((e) => `${e.scope}: ${e.code} ${e.message}`);
  yield record(state, {
    finishedAt: iso(nowMs(context)),
    total: total.total,
    counts: total.counts,
    message: [
      `slot ${slotIso}: ${total.created} created (${total.fallbacks} by fallback), ${total.counts.Skipped} skipped, ${total.counts.Failed} failed, ${total.throttled} throttled`,
      ...problems,
    ].join('; '),
  });
  yield context.df.callActivityWithRetry(ACTIVITIES.dropTargets, STORAGE_RETRY, { runId });
  const result: PolicyRunResult = { runId, ...total };
  return result;
};

df.app.orchestration(ORCHESTRATIONS.policyRun, policyRun);
