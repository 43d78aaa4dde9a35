import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import { vmBackupInstanceId } from '../lib/naming';
import { countResults } from '../lib/backup/summary';
import {
  ACTIVITIES,
  ORCHESTRATIONS,
  type VmBackupResult,
  type VmSetBackupInput,
  type VmSetBackupResult,
} from './contracts';
import { iso, nowMs, STORAGE_RETRY } from './steps';

/**
 * vmSetBackup: every member of an availability set or flexible scale set, at once (each VM is still its own
 * restore point: Azure protects a set one VM at a time), with the set's member skew, first to last creation
 * time, recorded on the set's run (RpoRuns, kind vmSetBackup).
 */
const vmSetBackup: OrchestrationHandler = function* (context: OrchestrationContext) {
  const { context: c, group } = context.df.getInput<VmSetBackupInput>();
  const startedAt = iso(nowMs(context));
  const results = (yield context.df.Task.all(
    group.members.map((target) =>
      context.df.callSubOrchestrator(
        ORCHESTRATIONS.vmBackup,
        { context: c, target },
        vmBackupInstanceId(target.vmId, c.pointName),
      ),
    ),
  )) as VmBackupResult[];
  const created = results.flatMap((r) =>
    r.status === 'Succeeded' && r.timeCreated !== undefined ? [Date.parse(r.timeCreated)] : [],
  );
  const skewSeconds =
    created.length >= 2 ? Math.round((Math.max(...created) - Math.min(...created)) / 1000) : undefined;
  const counts = countResults(results);
  yield context.df.callActivityWithRetry(ACTIVITIES.recordRun, STORAGE_RETRY, {
    run: {
      runId: context.df.instanceId,
      kind: 'vmSetBackup',
      state: counts.Failed > 0 ? (counts.Succeeded > 0 ? 'PartiallySucceeded' : 'Failed') : 'Succeeded',
      trigger: c.trigger,
      ...(c.policy !== undefined ? { policy: c.policy } : {}),
      startedAt,
      finishedAt: iso(nowMs(context)),
      total: results.length,
      counts,
      ...(skewSeconds !== undefined ? { skewSeconds } : {}),
      message:
        `set ${group.setId ?? '(none)'}: ${created.length} of ${results.length} members created` +
        (skewSeconds !== undefined ? `, member skew ${skewSeconds} s` : ''),
    },
  });
  const result: VmSetBackupResult = { results, ...(skewSeconds !== undefined ? { skewSeconds } : {}) };
  return result;
};

df.app.orchestration(ORCHESTRATIONS.vmSetBackup, vmSetBackup);
