import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../local/clock';
import { OperationTracker, type OperationRecord } from '../../../local/compute/lro';

function tracker(clock: ManualClock, fail = false): { tracker: OperationTracker; completed: string[] } {
  const completed: string[] = [];
  return {
    completed,
    tracker: new OperationTracker(clock, (operation) => {
      completed.push(operation.id);
      return fail ? { code: 'Boom', message: 'failed', status: 500 } : undefined;
    }),
  };
}

const fields = (completesAtMs: number): Omit<OperationRecord, 'id' | 'startMs' | 'status'> => ({
  subscriptionId: 's',
  location: 'westus',
  family: 'operations',
  apiVersion: '2025-04-01',
  completesAtMs,
  action: { kind: 'deleteDisk', key: 'k' },
});

describe('OperationTracker', () => {
  it('keeps an operation InProgress until the clock reaches its completion, then Succeeded with an end time', async () => {
    const clock = new ManualClock(0);
    const { tracker: ops, completed } = tracker(clock);
    const operation = ops.start(fields(60_000));
    await clock.advance('59s');
    expect(ops.get(operation.id)?.status).toBe('InProgress');
    await clock.advance('1s');
    expect(ops.get(operation.id)).toMatchObject({ status: 'Succeeded', endMs: 60_000 });
    expect(completed).toEqual([operation.id]);
  });

  it('records the error of a failing completion', async () => {
    const clock = new ManualClock(0);
    const { tracker: ops } = tracker(clock, true);
    const operation = ops.start(fields(1));
    await clock.advance('1s');
    expect(ops.get(operation.id)).toMatchObject({ status: 'Failed', error: { code: 'Boom', message: 'failed' } });
  });

  it('re-arms running operations loaded from a snapshot and completes overdue ones at once', async () => {
    const clock = new ManualClock(0);
    const { tracker: first } = tracker(clock);
    const overdue = first.start(fields(10));
    const later = first.start(fields(120_000));
    const records = structuredClone(first.records());
    first.stop();
    const { tracker: second } = tracker(clock);
    second.load(records);
    await clock.advance('1s');
    expect(second.get(overdue.id)?.status).toBe('Succeeded');
    expect(second.get(later.id)?.status).toBe('InProgress');
    await clock.advance('2m');
    expect(second.get(later.id)?.status).toBe('Succeeded');
  });

  it('forgets finished operations after the retention period', async () => {
    const clock = new ManualClock(0);
    const ops = new OperationTracker(clock, () => undefined, undefined, 60_000);
    const old = ops.start(fields(1));
    await clock.advance('2m');
    ops.start(fields(clock.now() + 1));
    expect(ops.get(old.id)).toBeUndefined();
  });
});

describe('OperationTracker scheduling', () => {
  it('completes any set of operations in completion-time order once the clock passes them, with one timer', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 100_000 }), { minLength: 1, maxLength: 40 }),
        async (delays) => {
          const clock = new ManualClock(0);
          const order: number[] = [];
          const ops = new OperationTracker(clock, (operation) => {
            order.push(operation.completesAtMs);
            return undefined;
          });
          const started = delays.map((d) => ops.start(fields(d)));
          await clock.advance(50_000);
          expect(started.every((o) => o.completesAtMs <= 50_000 === (o.status === 'Succeeded'))).toBe(true);
          await clock.advance(50_000);
          expect(started.every((o) => o.status === 'Succeeded')).toBe(true);
          expect(order).toEqual([...delays].sort((a, b) => a - b));
        },
      ),
      { numRuns: 30 },
    );
  });
});
