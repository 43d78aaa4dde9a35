import { describe, expect, inject, it } from 'vitest';
import { ManualClock } from '../../../../local/clock';
import { createTableStore } from '../../../../local/host/durable';
import { EventType, type HistoryEvent } from '../../../../local/host/durable/protocol';
import { eventually, fixtureState, rawHistory, startRuntime, uniqueHub, type TestRuntime } from './harness';

type StopPoint = 'activity scheduled' | 'timer pending' | 'sub-orchestration running' | 'event awaited';

const expectedOutput = (id: string): unknown => ({
  first: `effect ${id}:first`,
  child: `child saw effect ${id}:child`,
  event: 'go!',
  last: `effect ${id}:last`,
});

const has = (history: readonly HistoryEvent[], type: EventType, count = 1): boolean =>
  history.filter((e) => e.EventType === type).length >= count;

/** Drives restartFlow on `t` until `stop` holds (or to the end when undefined), raising 'go' if allowed. */
async function drive(
  t: TestRuntime,
  id: string,
  options: { raise: boolean; until?: () => Promise<boolean> },
): Promise<void> {
  let raised = false;
  for (let step = 0; step < 400; step++) {
    if (options.until && (await options.until())) return;
    const status = await t.status(id);
    if (!options.until && status.runtimeStatus === 'Completed') return;
    if (options.raise && !raised && has(await historyOf(t, id), EventType.SubOrchestrationInstanceCompleted)) {
      expect((await t.raise(id, 'go', 'go!')).status).toBe(202);
      raised = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
    await t.clock.advance('5m');
  }
  throw new Error(`restartFlow ${id} did not get there`);
}

const stores = new Map<TestRuntime, Awaited<ReturnType<typeof createTableStore>>>();
async function historyOf(t: TestRuntime, id: string): Promise<HistoryEvent[]> {
  const store = stores.get(t);
  return store ? rawHistory(store, id) : [];
}

async function boot(hub: string, clock: ManualClock): Promise<TestRuntime> {
  const store = await createTableStore(inject('azuriteConnectionString'), hub);
  const t = await startRuntime(store, { clock, hubName: hub });
  stores.set(t, store);
  return t;
}

describe('Durable engine restart survival (Azurite)', () => {
  it('completes restartFlow uninterrupted with the expected output', async () => {
    const clock = new ManualClock('2026-04-01T00:00:00Z');
    const t = await boot(uniqueHub('Rst'), clock);
    try {
      const id = await t.start('restartFlow', undefined, 'uninterrupted');
      await drive(t, id, { raise: true });
      expect((await t.wait(id)).output).toEqual(expectedOutput(id));
    } finally {
      await t.runtime.stop();
    }
  });

  it.each<StopPoint>(['activity scheduled', 'timer pending', 'sub-orchestration running', 'event awaited'])(
    'resumes an instance stopped at "%s" on a new runtime over the same tables, with the same output',
    async (point) => {
      const state = await fixtureState();
      const hub = uniqueHub('Rst');
      const clock = new ManualClock('2026-04-01T00:00:00Z');
      const id = `restart-${point.split(' ')[0] ?? 'x'}`;
      let releaseGate: () => void = () => undefined;

      const first = await boot(hub, clock);
      let childId: string | undefined;
      const findChild = async (): Promise<string | undefined> => {
        const created = (await historyOf(first, id)).find(
          (e) => e.EventType === EventType.SubOrchestrationInstanceCreated,
        );
        childId = created?.InstanceId ?? childId;
        return childId;
      };
      if (point === 'activity scheduled') {
        state.gate = new Promise<void>((resolve) => (releaseGate = resolve));
      }
      await first.start('restartFlow', undefined, id);
      const reached: Record<StopPoint, () => Promise<boolean>> = {
        'activity scheduled': () => Promise.resolve(state.started.includes(`${id}:first`)),
        'timer pending': async () => has(await historyOf(first, id), EventType.TimerCreated),
        'sub-orchestration running': async () => {
          const child = await findChild();
          return child !== undefined && has(await historyOf(first, child), EventType.TimerCreated);
        },
        'event awaited': async () => has(await historyOf(first, id), EventType.SubOrchestrationInstanceCompleted),
      };
      if (point === 'activity scheduled') {
        await eventually(reached[point], 'the gated activity to start');
      } else {
        await drive(first, id, { raise: false, until: reached[point] });
      }
      await first.runtime.stop();
      state.gate = undefined;
      expect((await historyOf(first, id)).length).toBeGreaterThan(0);

      const second = await boot(hub, clock);
      try {
        releaseGate(); // the first runtime's activity finishes late: its result is dropped, the effect stays
        await drive(second, id, { raise: true });
        const status = await second.wait(id);
        expect(status.runtimeStatus).toBe('Completed');
        expect(status.output).toEqual(expectedOutput(id));
        for (const key of ['first', 'child', 'last']) {
          expect(state.effects[`${id}:${key}`] ?? 0).toBeGreaterThanOrEqual(1);
        }
      } finally {
        await second.runtime.stop();
      }
    },
  );
});
