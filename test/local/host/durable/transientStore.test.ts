import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../local/clock';
import { createMemoryStore, type DurableStore } from '../../../../local/host/durable';
import { EventType } from '../../../../local/host/durable/protocol';
import { eventually, startRuntime } from './harness';

/**
 * A store whose `addMessages` fails once for the first batch that carries an event of `type`, as a
 * storage account answering one 503 would. A fake, because Azurite cannot be made to fail one call.
 */
function storeFailingOnce(inner: DurableStore, type: EventType): DurableStore & { failures: number } {
  const wrapper = Object.create(inner) as DurableStore & { failures: number };
  wrapper.failures = 0;
  wrapper.addMessages = async (messages) => {
    if (wrapper.failures === 0 && messages.some((m) => m.event.EventType === type)) {
      wrapper.failures++;
      throw new Error('simulated 503 Server Busy');
    }
    return inner.addMessages(messages);
  };
  return wrapper;
}

describe('Durable engine with a passing storage error', () => {
  it('retries recording an activity result until the orchestration completes', async () => {
    const store = storeFailingOnce(createMemoryStore(), EventType.TaskCompleted);
    const t = await startRuntime(store, { clock: new ManualClock('2026-08-01T00:00:00Z') });
    try {
      const id = await t.start('helloSequence');
      const status = await t.wait(id, 15_000);
      expect(status).toMatchObject({
        runtimeStatus: 'Completed',
        output: ['Hello Tokyo', 'Hello Seattle', 'Hello London'],
      });
      expect(store.failures).toBe(1);
      expect(t.logs.some((line) => /could not be recorded, retrying/.test(line))).toBe(true);
    } finally {
      await t.runtime.stop();
    }
  });

  it('retries recording a fired timer until the orchestration completes', async () => {
    const store = storeFailingOnce(createMemoryStore(), EventType.TimerFired);
    const t = await startRuntime(store, { clock: new ManualClock('2026-08-01T00:00:00Z') });
    try {
      const id = await t.start('timerOrch', 5);
      await eventually(async () => (await t.status(id)).runtimeStatus === 'Running', 'the timer to be created');
      await t.clock.advance('10m'); // the timer fires; recording it fails once and is retried in real time
      const status = await t.wait(id, 15_000);
      expect(status.runtimeStatus).toBe('Completed');
      expect(store.failures).toBe(1);
    } finally {
      await t.runtime.stop();
    }
  });
});
