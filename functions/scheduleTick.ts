import { app, type InvocationContext, type Timer } from '@azure/functions';
import * as df from 'durable-functions';
import { appStores } from '../lib/azure/stores';
import { nowMs } from '../lib/clock';
import { ensureError } from '../lib/errors';
import { policyRunInstanceId } from '../lib/naming';
import { parsePolicy, type Policy } from '../lib/policy';
import { classifySlots } from '../lib/schedule';
import { STATE_PARTITIONS } from '../lib/tables/stateStore';
import { emptyCounts } from '../lib/tables/runStore';
import { ORCHESTRATIONS, type PolicyRunInput } from '../orchestrations/contracts';
import { instanceExists, startOnce } from './durableClient';
import { ensurePolicyFilesLoaded } from './policyFiles';

/**
 * Timer `scheduleTick` (every 5 minutes, DESIGN §4). For each enabled policy it claims the stretch of time
 * since the previous tick (a cursor in RpoState, moved with an ETag, so two racing ticks never claim the same
 * stretch), and of the slots in it (lib/schedule classifySlots): runs the newest one still inside its start
 * window as `policy-run:{policy}:{slotIso}` (never started twice), and records the others Missed, once each.
 * Rules: docs/scheduled-protection.md "Slots".
 */
export const SCHEDULE_TICK_CRON = '0 */5 * * * *';

interface ScheduleCursor {
  readonly lastEvaluatedMs: number;
}

export interface TickReport {
  readonly started: string[];
  readonly existing: string[];
  readonly missed: string[];
  readonly errors: string[];
}

export async function runScheduleTick(client: df.DurableClient, now: number): Promise<TickReport> {
  const report: TickReport = { started: [], existing: [], missed: [], errors: [] };
  try {
    await ensurePolicyFilesLoaded();
  } catch (error) {
    report.errors.push(`RPO_POLICY_FILES: ${ensureError(error).message}`);
  }
  const stores = await appStores<Policy>();
  for (const stored of await stores.policies.list()) {
    if (!stored.enabled) continue;
    let policy: Policy;
    try {
      policy = parsePolicy(stored.policy);
    } catch (error) {
      report.errors.push(
        `policy ${stored.policy.name} is no longer valid and was not run: ${ensureError(error).message}`,
      );
      continue;
    }
    const windowMs = policy.startWindowMinutes * 60_000;
    const from = await stores.state.update<ScheduleCursor, number | undefined>(
      STATE_PARTITIONS.schedule,
      policy.name,
      (cursor) => {
        const last = cursor?.lastEvaluatedMs ?? now - windowMs;
        return last >= now ? { next: undefined, result: undefined } : { next: { lastEvaluatedMs: now }, result: last };
      },
    );
    if (from === undefined) continue; // another tick already looked at this stretch
    const slots = classifySlots({
      schedule: policy.schedule,
      startWindowMinutes: policy.startWindowMinutes,
      lastEvaluatedMs: from,
      nowMs: now,
    });
    for (const slotIso of slots.due) {
      const instanceId = policyRunInstanceId(policy.name, slotIso);
      const input: PolicyRunInput = { policy, slotIso, trigger: 'timer' };
      const started = await startOnce(client, ORCHESTRATIONS.policyRun, instanceId, input);
      (started === 'started' ? report.started : report.existing).push(instanceId);
    }
    for (const slotIso of slots.missed) {
      const runId = policyRunInstanceId(policy.name, slotIso);
      if (await instanceExists(client, runId)) continue;
      await stores.runs.upsert({
        runId,
        kind: 'policyRun',
        state: 'Missed',
        trigger: 'timer',
        policy: policy.name,
        startedAt: slotIso,
        finishedAt: new Date(now).toISOString(),
        counts: { ...emptyCounts(), Missed: 1 },
        message: `slot ${slotIso} was not run within its ${policy.startWindowMinutes}-minute start window (the app was not running)`,
      });
      report.missed.push(runId);
    }
    if (slots.missedNotListed > 0 || slots.notExamined !== undefined) {
      report.errors.push(
        `policy ${policy.name}: ${slots.missedNotListed} older missed slots counted but not listed` +
          (slots.notExamined
            ? `; ${slots.notExamined.fromExclusive} to ${slots.notExamined.toInclusive} not examined`
            : ''),
      );
    }
  }
  return report;
}

app.timer('scheduleTick', {
  schedule: SCHEDULE_TICK_CRON,
  extraInputs: [df.input.durableClient()],
  handler: async (_timer: Timer, context: InvocationContext) => {
    const report = await runScheduleTick(df.getClient(context), nowMs());
    for (const id of report.started) context.log(`started ${id}`);
    for (const id of report.missed) context.warn(`missed ${id}`);
    for (const error of report.errors) context.error(error);
  },
});
