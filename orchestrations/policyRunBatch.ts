import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import { vmBackupInstanceId, vmSetBackupInstanceId } from '../lib/naming';
import { addTallies, tally, type RunTally } from '../lib/backup/summary';
import { laneBatches } from '../lib/backup/targets';
import {
  ACTIVITIES,
  ORCHESTRATIONS,
  type BackupContext,
  type PolicyRunBatchInput,
  type TargetGroup,
  type VmBackupResult,
  type VmSetBackupResult,
} from './contracts';
import { STORAGE_RETRY } from './steps';

/**
 * One lane of a policy run: its batches one after another (lane, lane + lanes, …), each read from RpoRunTargets,
 * with a vmSetBackup per set and a vmBackup per lone VM started at once. Returns only a tally, so policyRun's
 * history grows with the number of lanes.
 */
const policyRunBatch: OrchestrationHandler = function* (context: OrchestrationContext) {
  const { context: c, lane, lanes, batches } = context.df.getInput<PolicyRunBatchInput>();
  const tallies: RunTally[] = [];
  for (const batch of laneBatches(lane, lanes, batches)) {
    const groups = (yield context.df.callActivityWithRetry(ACTIVITIES.readTargetBatch, STORAGE_RETRY, {
      runId: c.runId,
      batch,
    })) as TargetGroup[];
    if (groups.length === 0) continue;
    const outputs = (yield context.df.Task.all(groups.map((group) => startGroup(context, c, batch, group)))) as (
      VmBackupResult | VmSetBackupResult
    )[];
    tallies.push(tally(outputs.flatMap((o) => ('results' in o ? o.results : [o]))));
  }
  return addTallies(tallies);
};

/** A set larger than a batch comes in parts over consecutive batches: each part is its own instance. */
function startGroup(context: OrchestrationContext, c: BackupContext, batch: number, group: TargetGroup): df.Task {
  if (group.setId === undefined) {
    const target = group.members[0];
    if (target === undefined) throw new Error(`batch ${batch} of ${c.runId} holds an empty group`);
    return context.df.callSubOrchestrator(
      ORCHESTRATIONS.vmBackup,
      { context: c, target },
      vmBackupInstanceId(target.vmId, c.pointName),
    );
  }
  const part = group.part ?? 0;
  const setKey = part === 0 ? group.setId : `${group.setId}#${part}`;
  return context.df.callSubOrchestrator(
    ORCHESTRATIONS.vmSetBackup,
    { context: c, group },
    vmSetBackupInstanceId(setKey, c.pointName),
  );
}

df.app.orchestration(ORCHESTRATIONS.policyRunBatch, policyRunBatch);
