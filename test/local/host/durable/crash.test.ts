import { describe, expect, inject, it } from 'vitest';
import { ManualClock } from '../../../../local/clock';
import { createTableStore, type DurableStore } from '../../../../local/host/durable';
import { EventType, type HistoryEvent } from '../../../../local/host/durable/protocol';
import { eventually, rawHistory, startRuntime, uniqueHub } from './harness';

type Method = Exclude<keyof DurableStore, 'kind' | 'maxValueLength'>;

/**
 * A store that "loses power" at the first call `crashWhen` picks: that call and every later one fail,
 * as if the process died there. The data written before stays in the real store underneath.
 */
function crashingStore(
  inner: DurableStore,
  crashWhen: (method: Method, args: unknown[]) => boolean,
): DurableStore & { crashed(): boolean } {
  let dead = false;
  const wrap =
    (method: Method) =>
    async (...args: unknown[]): Promise<unknown> => {
      if (!dead && crashWhen(method, args)) dead = true;
      if (dead) throw new Error(`simulated crash in ${method}`);
      return (inner[method] as (...a: unknown[]) => Promise<unknown>).apply(inner, args);
    };
  return {
    crashed: () => dead,
    kind: inner.kind,
    maxValueLength: inner.maxValueLength,
    getInstance: wrap('getInstance') as DurableStore['getInstance'],
    putInstance: wrap('putInstance') as DurableStore['putInstance'],
    listInstances: wrap('listInstances') as DurableStore['listInstances'],
    readHistory: wrap('readHistory') as DurableStore['readHistory'],
    appendHistory: wrap('appendHistory') as DurableStore['appendHistory'],
    addMessages: wrap('addMessages') as DurableStore['addMessages'],
    readMessages: wrap('readMessages') as DurableStore['readMessages'],
    deleteMessages: wrap('deleteMessages') as DurableStore['deleteMessages'],
    purgeInstance: wrap('purgeInstance') as DurableStore['purgeInstance'],
    close: wrap('close') as DurableStore['close'],
  };
}

const events = (args: unknown[]): HistoryEvent[] => (args[3] ?? []) as HistoryEvent[];

async function crashThenRecover(crashWhen: (method: Method, args: unknown[]) => boolean): Promise<{
  inner: DurableStore;
  id: string;
  status: Record<string, unknown>;
}> {
  const hub = uniqueHub('Crash');
  const inner = await createTableStore(inject('azuriteConnectionString'), hub);
  const clock = new ManualClock('2026-08-01T00:00:00Z');
  const dying = crashingStore(inner, crashWhen);
  const first = await startRuntime(dying, { clock, hubName: hub });
  const id = await first.start('helloSequence');
  await eventually(() => Promise.resolve(dying.crashed()), 'the simulated crash');
  await first.runtime.stop();
  const second = await startRuntime(await createTableStore(inject('azuriteConnectionString'), hub), {
    clock,
    hubName: hub,
  });
  try {
    const status = await second.wait(id, 15_000);
    return { inner, id, status: status as unknown as Record<string, unknown> };
  } finally {
    await second.runtime.stop();
  }
}

describe('Durable engine checkpoint crashes (Azurite)', () => {
  const expected = ['Hello Tokyo', 'Hello Seattle', 'Hello London'];

  it('recovers when the process died after writing history but before the instance row', async () => {
    const { inner, id, status } = await crashThenRecover(
      (method, args) =>
        method === 'putInstance' && (args[0] as { runtimeStatus: string }).runtimeStatus === 'Completed',
    );
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: expected });
    expect((await inner.getInstance(id))?.runtimeStatus).toBe('Completed');
  });

  it('recovers when the process died after an activity result reached the inbox but before the episode committed', async () => {
    const { inner, id, status } = await crashThenRecover(
      (method, args) => method === 'appendHistory' && events(args).some((e) => e.EventType === EventType.TaskCompleted),
    );
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: expected });
    expect((await rawHistory(inner, id)).filter((e) => e.EventType === EventType.TaskCompleted)).toHaveLength(3);
  });

  it('drops redelivered results when the process died before deleting consumed inbox rows', async () => {
    let deletes = 0;
    const { inner, id, status } = await crashThenRecover((method) => method === 'deleteMessages' && ++deletes === 2);
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: expected });
    const history = await rawHistory(inner, id);
    expect(history.filter((e) => e.EventType === EventType.TaskCompleted)).toHaveLength(3);
    expect(history.filter((e) => e.EventType === EventType.ExecutionStarted)).toHaveLength(1);
  });
});
