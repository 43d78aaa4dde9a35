import { expect, it } from 'vitest';
import { requestLog } from '../../local/compute/server';
import { DEMO_FLEET, startStack } from '../../local/stack';
import { policyRunInstanceId } from '../../lib/naming';
import {
  activeInstances,
  expectOnePointEach,
  createOutcomes,
  describeOutcome,
  drainRequestLog,
  pointPuts,
  policyBody,
  putPolicy,
  runOutput,
  runUntilFinished,
  statusCounts,
} from '../helpers/e2e';

/**
 * The host stopped in the middle of a cycle (sub-orchestrations running, activities and durable timers
 * pending) and a new host started on the same storage: the cycle completes from its history, with no
 * restore point sent twice and nothing Failed.
 */
it('a host stopped mid-cycle and restarted completes every VM of the slot once, without a duplicate or a failure', async () => {
  const stack = await startStack({ fleetFile: DEMO_FLEET, start: '2026-03-02T07:00:00Z' });
  try {
    await putPolicy(stack, policyBody('silver', { schedule: { everyHours: 2 } }));
    await drainRequestLog(stack);
    await stack.clock.set(Date.parse('2026-03-02T08:01:00Z'));
    await stack.host.triggerTimer('scheduleTick');
    const run = policyRunInstanceId('silver', '2026-03-02T08:00:00.000Z');
    // Into the cycle: some points are being created, others not yet sent.
    const midway = await stack.runUntil(
      () => Promise.resolve(pointPuts(requestLog(stack.emulator)).some((p) => p.status < 300)),
      {
        step: 5_000,
        limitMs: 3_600_000,
      },
    );
    expect(midway).toBe(true);
    const inFlight = await activeInstances(stack);
    expect(inFlight.length).toBeGreaterThan(1);

    await stack.host.stop();
    await stack.clock.advance(60_000);
    await stack.restartHost();

    const output = runOutput((await runUntilFinished(stack, [run])).get(run));
    const failed = (await createOutcomes(stack, [run])).filter((o) => o.status === 'Failed').map(describeOutcome);
    expect(failed).toEqual([]);
    expect(output.counts.Failed, JSON.stringify(output)).toBe(0);
    const log = await drainRequestLog(stack);
    expect(statusCounts(log)[409] ?? 0).toBe(0);
    const created = (await createOutcomes(stack, [run])).filter((o) => o.status === 'Succeeded');
    expect(created.length).toBe(output.created);
    expect(created.length).toBeGreaterThanOrEqual(10);
    await expectOnePointEach(
      stack,
      created.map((o) => o.vmId),
    );
    // One accepted PUT per point: a PUT Azure accepted before the stop was not sent again.
    const accepted = new Map<string, number>();
    for (const p of pointPuts(log))
      if (p.status < 300) accepted.set(p.collection, (accepted.get(p.collection) ?? 0) + 1);
    expect(Math.max(...accepted.values())).toBe(1);
  } finally {
    await stack.stop();
  }
}, 300_000);
