import { afterEach, describe, expect, inject, it } from 'vitest';
import { ManualClock } from '../../../../local/clock';
import { createMemoryStore, createTableStore, type DurableStore } from '../../../../local/host/durable';
import { EventType } from '../../../../local/host/durable/protocol';
import {
  eventually,
  fixtureState,
  rawHistory,
  runToEnd,
  schedulingShape,
  startRuntime,
  uniqueHub,
  type TestRuntime,
} from './harness';

const stores: Array<[string, () => Promise<DurableStore>]> = [
  ['memory store', () => Promise.resolve(createMemoryStore())],
  ['Azurite table store', () => createTableStore(inject('azuriteConnectionString'), uniqueHub('Eng'))],
];

describe.each(stores)('Durable engine with the real durable-functions package (%s)', (_name, makeStore) => {
  let t: TestRuntime | undefined;
  let store: DurableStore;

  async function boot(options: Parameters<typeof startRuntime>[1] = {}): Promise<TestRuntime> {
    store = await makeStore();
    t = await startRuntime(store, options);
    return t;
  }

  afterEach(async () => {
    await t?.runtime.stop();
    t = undefined;
  });

  it('runs activities one after another and returns their results', async () => {
    const rt = await boot();
    const id = await rt.start('helloSequence');
    const status = await rt.wait(id);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual(['Hello Tokyo', 'Hello Seattle', 'Hello London']);
    expect(schedulingShape(await rawHistory(store, id))).toEqual([
      'TaskScheduled#0',
      'TaskScheduled#1',
      'TaskScheduled#2',
      'ExecutionCompleted#3',
    ]);
  });

  it('hands each activity exactly the value the orchestrator passed', async () => {
    const rt = await boot();
    const id = await rt.start('echoInputs', { from: 'client' });
    const status = await rt.wait(id);
    expect(status.output).toEqual([
      { type: 'string', value: 'text' },
      { type: 'string', value: '{"looks":"like json"}' },
      { type: 'object', value: { nested: [1, 2] } },
      { type: 'number', value: 42 },
      { type: 'object', value: null },
      null,
      { from: 'client' },
    ]);
    const scheduled = (await rawHistory(store, id)).filter((e) => e.EventType === EventType.TaskScheduled);
    expect(scheduled[0]?.Input).toBe('"text"');
    expect(scheduled[2]?.Input).toBe('{"nested":[1,2]}');
  });

  it('fans out with Task.all and fans the results back in', async () => {
    const rt = await boot();
    const id = await rt.start('fanOutFanIn', 20);
    expect((await rt.wait(id)).output).toBe(420);
    const shape = schedulingShape(await rawHistory(store, id));
    expect(shape).toHaveLength(21);
    expect(shape.at(-1)).toBe('ExecutionCompleted#20');
  });

  it('retries an activity on the host side with a timer after every failure, the last one included', async () => {
    const rt = await boot();
    const id = await rt.start('retryExhaust');
    const status = await runToEnd(rt, id);
    expect(status.output).toBe("caught: Activity function 'alwaysFails' failed: boom");
    expect(schedulingShape(await rawHistory(store, id))).toEqual([
      'TaskScheduled#0',
      'TimerCreated#1',
      'TaskScheduled#2',
      'TimerCreated#3',
      'ExecutionCompleted#4',
    ]);
  });

  it('succeeds once a flaky activity passes within the allowed attempts', async () => {
    const rt = await boot();
    const id = await rt.start('retryFlaky', { failTimes: 2, attempts: 3 });
    expect((await runToEnd(rt, id)).output).toBe('ok after 3 calls');
  });

  it('spaces retries by the backoff coefficient, capped at the maximum interval', async () => {
    const rt = await boot();
    const id = await rt.start('retryBackoff');
    expect((await runToEnd(rt, id, '500ms')).output).toBe('ok after 4 calls');
    const history = await rawHistory(store, id);
    const delays: number[] = [];
    let episodeStart = 0;
    for (const event of history) {
      if (event.EventType === EventType.OrchestratorStarted) episodeStart = Date.parse(event.Timestamp);
      if (event.EventType === EventType.TimerCreated) delays.push(Date.parse(event.FireAt ?? '') - episodeStart);
    }
    expect(delays).toEqual([1000, 2000, 3000]);
  });

  it('keeps task ids aligned when retries interleave with a fan-out', async () => {
    const rt = await boot();
    const id = await rt.start('fanRetry');
    expect((await runToEnd(rt, id)).output).toEqual([
      'ok after 2 calls',
      'ok after 3 calls',
      'Hello fan',
      'Hello after',
    ]);
  });

  it('lets Task.all fault only after every task finished, and the orchestrator catch it', async () => {
    const rt = await boot();
    const id = await rt.start('whenAllFails');
    const status = await rt.wait(id);
    expect(status.output).toEqual(["Activity function 'alwaysFails' failed: boom", 'Hello after failure']);
    const history = await rawHistory(store, id);
    expect(history.filter((e) => e.EventType === EventType.TaskCompleted)).toHaveLength(2);
  });

  it('fails the instance with the orchestrator error when an activity failure is not caught', async () => {
    const rt = await boot();
    const failing = await rt.start('failing');
    const status = await rt.wait(failing);
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toMatch(
      /^Orchestrator function 'failing' failed: Activity function 'alwaysFails' failed: boom/,
    );
    const direct = await rt.start('throwsDirectly');
    expect((await rt.wait(direct)).output).toBe("Orchestrator function 'throwsDirectly' failed: orchestrator says no");
  });

  it('fires a durable timer only when the clock reaches it', async () => {
    const rt = await boot();
    const startedAt = rt.clock.now();
    const id = await rt.start('timerOrch', 90);
    await eventually(
      async () => (await rawHistory(store, id)).some((e) => e.EventType === EventType.TimerCreated),
      'the timer',
    );
    await rt.clock.advance('89m');
    expect((await rt.status(id)).runtimeStatus).toBe('Running');
    await rt.clock.advance('1m');
    const status = await rt.wait(id);
    expect(status.output).toBe(new Date(startedAt + 90 * 60_000).toISOString());
  });

  it('splits a 10-day timer into the extension’s chain of ≤3-day timers', async () => {
    const rt = await boot();
    const startedAt = rt.clock.now();
    const id = await rt.start('longTimer');
    // Move the clock exactly to each chunk's FireAt once the chunk exists (the next one is computed from "now").
    for (let chunk = 1; chunk <= 4; chunk++) {
      const timers = await eventually(async () => {
        const created = (await rawHistory(store, id)).filter((e) => e.EventType === EventType.TimerCreated);
        return created.length >= chunk && created;
      }, `timer chunk ${chunk}`);
      await rt.clock.set(Date.parse(timers[chunk - 1]?.FireAt ?? ''));
    }
    const status = await rt.wait(id);
    expect(status.output).toBe('240h');
    const fireAt = (await rawHistory(store, id))
      .filter((e) => e.EventType === EventType.TimerCreated)
      .map((e) => (Date.parse(e.FireAt ?? '') - startedAt) / 86_400_000);
    expect(fireAt).toEqual([3, 6, 9, 10]);
  });

  it('ends Task.any with the event and ignores the cancelled timer, which still took its id', async () => {
    const rt = await boot();
    const id = await rt.start('raceEvent');
    await eventually(
      async () => (await rawHistory(store, id)).some((e) => e.EventType === EventType.TimerCreated),
      'the race',
    );
    expect((await rt.raise(id, 'approve', { by: 'alice' })).status).toBe(202);
    const status = await rt.wait(id);
    expect(status.output).toEqual({ event: { by: 'alice' }, after: 'Hello winner' });
    expect(schedulingShape(await rawHistory(store, id))).toEqual([
      'TimerCreated#0',
      'TaskScheduled#1',
      'ExecutionCompleted#2',
    ]);
    await rt.clock.advance('2h');
    expect((await rt.status(id)).runtimeStatus).toBe('Completed');
  });

  it('ends Task.any with the timer when no event comes', async () => {
    const rt = await boot();
    const id = await rt.start('raceEvent');
    expect((await runToEnd(rt, id, '30m')).output).toBe('timeout');
  });

  it('shows the custom status while waiting and completes with the raised event', async () => {
    const rt = await boot();
    const id = await rt.start('approval');
    await eventually(async () => (await rt.status(id)).customStatus !== null, 'the custom status');
    const waiting = await rt.api('GET', `/runtime/webhooks/durabletask/instances/${id}`);
    expect(waiting.status).toBe(202);
    expect(waiting.body.customStatus).toEqual({ stage: 'waiting for approval' });
    await rt.raise(id, 'approve', 'yes');
    const status = await rt.wait(id);
    expect(status.output).toBe('yes');
    expect(status.customStatus).toEqual({ stage: 'approved' });
  });

  it('buffers events raised before the orchestrator waits for them', async () => {
    const rt = await boot();
    const id = await rt.start('twoEvents');
    await rt.raise(id, 'second', 2);
    await rt.raise(id, 'first', 1);
    expect((await rt.wait(id)).output).toEqual([1, 2]);
  });

  it('continues as new with a fresh history until the orchestrator returns', async () => {
    const rt = await boot();
    const id = await rt.start('counter', 0);
    const status = await rt.wait(id);
    expect(status.output).toBe('final n=3');
    expect(status.input).toBe(3);
    const history = await rawHistory(store, id);
    expect(history.find((e) => e.EventType === EventType.ExecutionStarted)?.Input).toBe('3');
  });

  it('runs sub-orchestrations under the default id {executionId}:{taskId} and under a fixed id', async () => {
    const rt = await boot();
    const id = await rt.start('parentOrch');
    const status = await rt.wait(id);
    expect(status.output).toEqual({
      byDefault: { greeting: 'Hello default id', parent: id },
      byFixed: { greeting: 'Hello fixed id', parent: id },
    });
    const parent = await store.getInstance(id);
    const child = await rt.status(`${parent?.executionId}:0`);
    expect(child.runtimeStatus).toBe('Completed');
    expect((await rt.status(`child-fixed-${id}`)).input).toBe('fixed id');
  });

  it('retries a failing sub-orchestration and reports a failed one to the parent', async () => {
    const rt = await boot();
    const retried = await rt.start('subRetry');
    expect((await runToEnd(rt, retried)).output).toBe('child ok');
    const failed = await rt.start('subFails');
    expect((await rt.wait(failed)).output).toMatch(/^child failed: Orchestrator function 'failing' failed: /);
  });

  it('terminates a running instance; later terminate and raiseEvent answer 410', async () => {
    const rt = await boot();
    const id = await rt.start('approval');
    await eventually(async () => (await rt.status(id)).runtimeStatus === 'Running', 'running');
    expect((await rt.api('POST', `/durabletask/instances/${id}/terminate?reason=operator%20said%20stop`)).status).toBe(
      202,
    );
    const status = await rt.wait(id);
    expect(status.runtimeStatus).toBe('Terminated');
    expect(status.output).toBe('operator said stop');
    expect((await rt.api('POST', `/durabletask/instances/${id}/terminate?reason=again`)).status).toBe(410);
    expect((await rt.raise(id, 'approve', 1)).status).toBe(410);
  });

  it('holds a timer that fires while suspended until the instance is resumed', async () => {
    const rt = await boot();
    const id = await rt.start('timerOrch', 10);
    await eventually(
      async () => (await rawHistory(store, id)).some((e) => e.EventType === EventType.TimerCreated),
      'the timer',
    );
    expect((await rt.api('POST', `/durabletask/instances/${id}/suspend?reason=hold`)).status).toBe(202);
    await eventually(async () => (await rt.status(id)).runtimeStatus === 'Suspended', 'suspended');
    await rt.clock.advance('1h');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await rt.status(id)).runtimeStatus).toBe('Suspended');
    expect((await rt.api('POST', `/durabletask/instances/${id}/resume?reason=go`)).status).toBe(202);
    expect((await rt.wait(id)).runtimeStatus).toBe('Completed');
    // The fired timer waited in the inbox and was delivered in the episode that resumed the instance.
    const types = (await rawHistory(store, id)).map((e) => e.EventType);
    const lastEpisode = types.lastIndexOf(EventType.OrchestratorStarted);
    expect(types.indexOf(EventType.TimerFired)).toBeGreaterThan(lastEpisode);
    expect(types.indexOf(EventType.ExecutionResumed)).toBeGreaterThan(lastEpisode);
    expect(types.indexOf(EventType.ExecutionSuspended)).toBeLessThan(lastEpisode);
  });

  it('purges a finished instance and its history', async () => {
    const rt = await boot();
    const id = await rt.start('helloSequence');
    await rt.wait(id);
    const purged = await rt.api('DELETE', `/durabletask/instances/${id}`);
    expect(purged).toMatchObject({ status: 200, body: { instancesDeleted: 1 } });
    expect((await rt.api('GET', `/durabletask/instances/${id}`)).status).toBe(404);
    expect((await rt.api('DELETE', `/durabletask/instances/${id}`)).status).toBe(404);
    expect(await store.readHistory(id, 'any')).toEqual([]);
  });

  it('fails orchestrations that use callHttp or entities with a "not supported by the local host" error', async () => {
    const rt = await boot();
    const http = await rt.start('usesCallHttp');
    expect((await rt.wait(http)).output).toBe(
      "Orchestrator function 'usesCallHttp' failed: callHttp (durable HTTP) is not supported by the local host",
    );
    const entity = await rt.start('usesEntity');
    expect((await rt.wait(entity)).output).toMatch(
      /callEntity \(Durable entities\) is not supported by the local host/,
    );
    const route = await rt.api('POST', '/durabletask/entities/counterEntity/k?op=add', '1');
    expect(route.status).toBe(501);
  });

  it('keeps values within what the store can hold, failing the task clearly when one is too large', async () => {
    const rt = await boot();
    const id = await rt.start('bigResult', 40_000);
    const output = (await rt.wait(id)).output;
    if (store.maxValueLength === undefined) {
      expect(output).toBe(40_000);
    } else {
      expect(output).toMatch(
        /^Activity function 'bigString' failed: its result is 40002 characters of JSON, more than the 30000/,
      );
      const big = await rt.api('POST', '/durabletask/orchestrators/bigResult', JSON.stringify('y'.repeat(40_000)));
      expect(big.status).toBe(400);
      expect(big.body.message).toMatch(/large-message blobs are not supported by the local host/);
    }
  });

  it('runs at most maxConcurrentActivityFunctions activities at once', async () => {
    const state = await fixtureState();
    state.maxInFlight = 0;
    const rt = await boot({ maxActivities: 3 });
    const id = await rt.start('concurrency', 24);
    expect((await rt.wait(id)).output).toBe(24);
    expect(state.maxInFlight).toBe(3);
  });

  it('runs at most maxConcurrentOrchestratorFunctions episodes, and one per instance', async () => {
    let global = 0;
    let maxGlobal = 0;
    const perInstance = new Map<string, number>();
    let maxPerInstance = 0;
    const rt = await boot({
      maxOrchestrators: 2,
      wrapInvoker: (inner) => ({
        kindOf: (name) => inner.kindOf(name),
        invokeActivity: (name, input) => inner.invokeActivity(name, input),
        invokeOrchestrator: async (name, triggerJson) => {
          const instanceId = (JSON.parse(triggerJson) as { instanceId: string }).instanceId;
          global++;
          perInstance.set(instanceId, (perInstance.get(instanceId) ?? 0) + 1);
          maxGlobal = Math.max(maxGlobal, global);
          maxPerInstance = Math.max(maxPerInstance, perInstance.get(instanceId) ?? 0);
          // Until the limit has been reached once, hold an episode (≤ 1 s) for another to run beside it:
          // a loaded Azurite may deliver the six starts one by one, which would never test the limit.
          for (const until = Date.now() + 1_000; maxGlobal < 2 && Date.now() < until;) {
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
          await new Promise((resolve) => setTimeout(resolve, 2));
          try {
            return await inner.invokeOrchestrator(name, triggerJson);
          } finally {
            global--;
            perInstance.set(instanceId, (perInstance.get(instanceId) ?? 1) - 1);
          }
        },
      }),
    });
    const ids = await Promise.all(Array.from({ length: 6 }, () => rt.start('fanOutFanIn', 5)));
    for (const id of ids) expect((await rt.wait(id)).output).toBe(30);
    expect(maxGlobal).toBe(2);
    expect(maxPerInstance).toBe(1);
  });
});

describe('Durable engine clock', () => {
  it('fires durable timers through the injected clock only', async () => {
    const clock = new ManualClock('2030-01-01T00:00:00Z');
    const rt = await startRuntime(createMemoryStore(), { clock });
    try {
      const id = await rt.start('timerOrch', 60 * 24 * 30);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect((await rt.status(id)).runtimeStatus).toBe('Running');
      await clock.advance('30d');
      expect((await rt.wait(id)).output).toBe('2030-01-31T00:00:00.000Z');
    } finally {
      await rt.runtime.stop();
    }
  });
});
