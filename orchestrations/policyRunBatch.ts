import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import { vmBackupInstanceId, vmSetBackupInstanceId } from '../lib/naming';
import { tally, type RunTally } from '../lib/backup/summary';
import {
  ACTIVITIES,
  ORCHESTRATIONS,
  type PolicyRunBatchInput,
  type TargetGroup,
  type VmBackupResult,
  type VmSetBackupResult,
} from './contracts';
import { STORAGE_RETRY } from './steps';

/**
 * One batch of a policy run: reads its targets from RpoRunTargets and starts a vmSetBackup per set and a
 * vmBackup per lone VM. Returns only a tally, so policyRun's history grows with the number of batches.
 */
const policyRunBatch: OrchestrationHandler = function* (context: OrchestrationContext) {
  const { context: c, batch } = context.df.getInput<PolicyRunBatchInput>();
  const groups = (yield context.df.callActivityWithRetry(ACTIVITIES.readTargetBatch, STORAGE_RETRY, {
    runId: c.runId,
    batch,
  })) as TargetGroup[];
  const setParts = new Map<string, number>();
  const tasks = groups.map((group) => {
    if (group.setId === undefined) {
      const target = group.members[0];
      if (target === undefined) throw new Error(`batch ${batch} of ${c.runId} holds an empty group`);
      return context.df.callSubOrchestrator(
        ORCHESTRATIONS.vmBackup,
        { context: c, target },
        vmBackupInstanceId(target.vmId, c.pointName),
      );
    }
    // A set larger than a batch comes in parts: each part is its own instance.
    const part = setParts.get(group.setId.toLowerCase()) ?? 0;
    setParts.set(group.setId.toLowerCase(), part + 1);
    const setKey = part === 0 ? group.setId : `${group.setId}#${part}`;
    return context.df.callSubOrchestrator(
      ORCHESTRATIONS.vmSetBackup,
      { context: c, group },
      vmSetBackupInstanceId(setKey, c.pointName),
    );
  });
  const outputs = (yield context.df.Task.all(tasks)) as (VmBackupResult | VmSetBackupResult)[];
  const results = outputs.flatMap((o) => ('results' in o ? o.results : [o]));
  const summary: RunTally = tally(results);
  return summary;
};

df.app.orchestration(ORCHESTRATIONS.policyRunBatch, policyRunBatch);
