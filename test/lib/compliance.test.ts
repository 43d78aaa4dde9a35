import { describe, expect, it } from 'vitest';
import { best, judge, longestGapMs, rpoTargetMs } from '../../lib/compliance';
import type { Outcome } from '../../lib/tables/outcomeStore';

const HOUR = 3_600_000;
const NOW = Date.parse('2026-03-02T12:00:00Z');
const policy = { schedule: { everyHours: 4 }, startWindowMinutes: 60 };
const vmId = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm';

function outcome(hoursAgo: number, status: Outcome['status'], extra: Partial<Outcome> = {}): Outcome {
  const at = new Date(NOW - hoursAgo * HOUR).toISOString();
  return {
    vmId,
    operation: status === 'Skipped' ? 'skip' : 'create',
    status,
    trigger: 'timer',
    runId: `run-${hoursAgo}`,
    startedAt: at,
    finishedAt: at,
    restorePointId: `${vmId}/p${hoursAgo}`,
    ...extra,
  };
}

describe('compliance', () => {
  it('sets the RPO target to the longest gap between slots plus the start window', () => {
    expect(rpoTargetMs(policy, NOW)).toBe(5 * HOUR);
    // 06:00 and 18:00 only on weekdays: the weekend gap is the longest.
    const weekdays = { cron: '0 0 6,18 * * Mon-Fri', timeZone: 'UTC' };
    expect(longestGapMs(weekdays, NOW)).toBe(60 * HOUR);
  });

  it('calls a VM Protected while its newest good point is within the target and the last attempt worked', () => {
    expect(judge(policy, [outcome(2, 'Succeeded')], NOW)).toMatchObject({
      state: 'Protected',
      rpoTargetMinutes: 300,
      newestGoodPoint: { ageMinutes: 120 },
    });
  });

  it('calls it AtRisk when the last attempt failed but the newest good point is still within the target', () => {
    const judged = judge(policy, [outcome(1, 'Failed', { errorCode: 'InternalError' }), outcome(3, 'Succeeded')], NOW);
    expect(judged).toMatchObject({ state: 'AtRisk', why: { code: 'InternalError' } });
  });

  it('calls it Breached when creation keeps failing past the target, and says the last error', () => {
    const judged = judge(
      policy,
      [outcome(1, 'Failed', { errorCode: 'VMRestorePointClientError' }), outcome(5, 'Failed'), outcome(9, 'Succeeded')],
      NOW,
    );
    expect(judged).toMatchObject({ state: 'Breached', why: { code: 'VMRestorePointClientError' } });
    expect(judge(policy, [outcome(1, 'Failed', { errorCode: 'X' })], NOW).state).toBe('Breached');
  });

  it('calls a VM that Azure refuses for good Unprotected, and one never tried AtRisk', () => {
    expect(judge(policy, [outcome(1, 'Skipped', { errorCode: 'uniformScaleSet' })], NOW).state).toBe('Unprotected');
    expect(judge(policy, [outcome(1, 'Skipped', { errorCode: 'vmNotRunning' })], NOW).state).toBe('Breached');
    expect(judge(policy, [], NOW)).toMatchObject({ state: 'AtRisk', why: { code: 'noRestorePointYet' } });
  });

  it('reports a VM under the policy that protects it best', () => {
    expect(
      best([
        { state: 'Breached' as const, p: 1 },
        { state: 'Protected' as const, p: 2 },
      ])?.p,
    ).toBe(2);
  });
});
