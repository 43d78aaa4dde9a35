import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ManualClock } from '../../../../local/clock';
import { startHost, type FunctionsHost } from '../../../../local/host';
import { FIXTURE_APP, uniqueHub } from './harness';

const TERMINAL = new Set(['Completed', 'Failed', 'Terminated']);

function boot(store: 'memory' | 'azurite', hub: string, clock: ManualClock): Promise<FunctionsHost> {
  return startHost({
    appDir: FIXTURE_APP,
    port: 0,
    clock,
    quiet: true,
    store,
    ...(store === 'azurite' ? { connectionString: inject('azuriteConnectionString') } : {}),
    env: { FIXTURE_HUB_NAME: hub },
  });
}

/** Starts through the fixture's HTTP starter (the app's own durableClient) and returns the instance id. */
async function start(host: FunctionsHost, name: string, input?: unknown, instanceId?: string): Promise<string> {
  const response = await host.invokeHttp(
    'POST',
    `/api/orchestrators/${name}${instanceId ? `/${instanceId}` : ''}`,
    input,
  );
  expect(response.status).toBe(202);
  return response.json<{ id: string }>().id;
}

/** Reads the status through the app's df.app.client.http function, advancing the clock until the instance ends. */
async function finish(
  host: FunctionsHost,
  clock: ManualClock,
  id: string,
  step = '1m',
): Promise<Record<string, unknown>> {
  for (let i = 0; i < 300; i++) {
    const status = (await host.invokeHttp('GET', `/api/orchestrations/${id}`)).json<Record<string, unknown>>();
    if (TERMINAL.has(String(status.runtimeStatus))) return status;
    await new Promise((resolve) => setTimeout(resolve, 5));
    await clock.advance(step);
  }
  throw new Error(`instance ${id} did not finish`);
}

describe.each(['memory', 'azurite'] as const)(
  'Durable features over real HTTP through the fixture app (%s store)',
  (store) => {
    let host: FunctionsHost;
    let clock: ManualClock;

    beforeAll(async () => {
      clock = new ManualClock('2026-07-01T00:00:00Z');
      host = await boot(store, uniqueHub('E2e'), clock);
    });

    afterAll(async () => {
      await host.stop();
    });

    it('retries, fans out and runs sub-orchestrations started by the app’s own client', async () => {
      const fan = await start(host, 'fanRetry');
      const parent = await start(host, 'parentOrch');
      const retried = await start(host, 'subRetry');
      expect((await finish(host, clock, fan, '1s')).output).toEqual([
        'ok after 2 calls',
        'ok after 3 calls',
        'Hello fan',
        'Hello after',
      ]);
      expect((await finish(host, clock, parent)).output).toMatchObject({ byFixed: { greeting: 'Hello fixed id' } });
      expect((await finish(host, clock, retried, '1s')).output).toBe('child ok');
    });

    it('completes a race with an event raised over the Durable HTTP API and times out the other', async () => {
      const withEvent = await start(host, 'raceEvent');
      const withoutEvent = await start(host, 'raceEvent');
      const raised = await host.invokeHttp(
        'POST',
        `/runtime/webhooks/durabletask/instances/${withEvent}/raiseEvent/approve`,
        { by: 'bob' },
        { 'content-type': 'application/json' },
      );
      expect(raised.status).toBe(202);
      expect((await finish(host, clock, withEvent, '1m')).output).toEqual({
        event: { by: 'bob' },
        after: 'Hello winner',
      });
      expect((await finish(host, clock, withoutEvent, '10m')).output).toBe('timeout');
    });

    it('terminates and purges over the Durable HTTP API', async () => {
      const id = await start(host, 'approval', undefined, `e2e-terminate-${store}`);
      await host.invokeHttp('POST', `/durabletask/instances/${id}/terminate?reason=enough`);
      expect(await host.durable.waitForInstance(id, { timeoutMs: 10_000 })).toMatchObject({
        runtimeStatus: 'Terminated',
        output: 'enough',
      });
      const purged = await host.invokeHttp('DELETE', `/runtime/webhooks/durabletask/instances/${id}`);
      expect(purged.json()).toEqual({ instancesDeleted: 1 });
      expect((await host.invokeHttp('GET', `/durabletask/instances/${id}`)).status).toBe(404);
    });
  },
);

describe('Durable restart over real HTTP (Azurite)', () => {
  it('finishes restartFlow in a new host after the old one stopped with a sub-orchestration running', async () => {
    const hub = uniqueHub('E2eRst');
    const clock = new ManualClock('2026-07-01T00:00:00Z');
    const first = await boot('azurite', hub, clock);
    const id = await start(first, 'restartFlow', undefined, 'e2e-restart');
    // Past the parent's 60-minute timer: the child starts and waits on its own 30-minute timer.
    for (let i = 0; i < 200; i++) {
      const child = await first.invokeHttp('GET', `/durabletask/instances/?instanceIdPrefix=&runtimeStatus=Running`);
      const running = child.json<Array<{ name: string }>>().some((s) => s.name === 'restartChild');
      if (running) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
      await clock.advance('5m');
    }
    await first.stop();

    const second = await boot('azurite', hub, clock);
    try {
      let raised = false;
      for (let i = 0; i < 200; i++) {
        const status = (await second.invokeHttp('GET', `/durabletask/instances/${id}`)).json<Record<string, unknown>>();
        if (status.runtimeStatus === 'Completed') {
          expect(status.output).toEqual({
            first: `effect ${id}:first`,
            child: `child saw effect ${id}:child`,
            event: 'go!',
            last: `effect ${id}:last`,
          });
          return;
        }
        if (!raised) {
          const response = await second.invokeHttp(
            'POST',
            `/durabletask/instances/${id}/raiseEvent/go`,
            JSON.stringify('go!'),
            {
              'content-type': 'application/json',
            },
          );
          raised = response.status === 202;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
        await clock.advance('5m');
      }
      throw new Error('restartFlow did not complete in the second host');
    } finally {
      await second.stop();
    }
  });
});
