import { describe, expect, inject, it } from 'vitest';
import { ManualClock } from '../../../local/clock';
import { startHost, type FunctionsHost } from '../../../local/host';
import { FIXTURE_APP } from './fixtureState';
import { makeTempApp } from './tempApp';

const START = '2026-04-01T08:00:00Z';

function startOnAzurite(hub: string, clock: ManualClock): Promise<FunctionsHost> {
  return startHost({
    appDir: FIXTURE_APP,
    port: 0,
    clock,
    quiet: true,
    store: 'azurite',
    connectionString: inject('azuriteConnectionString'),
    env: { FIXTURE_HUB_NAME: hub },
  });
}

async function waitForStatus(host: FunctionsHost, id: string, wanted: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    const response = await host.invokeHttp('GET', `/runtime/webhooks/durabletask/instances/${id}`);
    if (response.status === 200 || response.status === 202) {
      const status = response.json<Record<string, unknown>>();
      if (status.runtimeStatus === wanted) return status;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`instance ${id} never reached ${wanted}`);
}

describe('local host with the Azurite table store', () => {
  it('keeps an orchestration waiting for an event across a host restart and completes it in the new host', async () => {
    const hub = `HostRestart${Date.now().toString(36)}`;
    const first = await startOnAzurite(hub, new ManualClock(START));
    let id: string;
    try {
      const started = await first.invokeHttp('POST', '/api/orchestrators/approval');
      expect(started.status).toBe(202);
      id = started.json<{ id: string }>().id;
      const waiting = await waitForStatus(first, id, 'Running');
      expect(waiting.customStatus).toEqual({ stage: 'waiting for approval' });
    } finally {
      await first.stop();
    }

    const second = await startOnAzurite(hub, new ManualClock(START));
    try {
      const raised = await second.invokeHttp(
        'POST',
        `/runtime/webhooks/durabletask/instances/${id}/raiseEvent/approve`,
        { by: 'alice' },
      );
      expect(raised.status).toBe(202);
      const done = await second.durable.waitForInstance(id, { timeoutMs: 15_000 });
      expect(done).toMatchObject({ runtimeStatus: 'Completed', output: { by: 'alice' } });
    } finally {
      await second.stop();
    }
  });

  it('re-arms a pending durable timer after a restart and fires it on the new host clock', async () => {
    const hub = `HostTimer${Date.now().toString(36)}`;
    const first = await startOnAzurite(hub, new ManualClock(START));
    let id: string;
    try {
      id = (await first.invokeHttp('POST', '/api/orchestrators/timerOrch', 30)).json<{ id: string }>().id;
      await waitForStatus(first, id, 'Running');
    } finally {
      await first.stop();
    }
    const clock = new ManualClock(START);
    const second = await startOnAzurite(hub, clock);
    try {
      await clock.advance('31m');
      const done = (await second.durable.waitForInstance(id, { timeoutMs: 15_000 })) as { output: string };
      expect(done).toMatchObject({ runtimeStatus: 'Completed' });
      // The orchestrator resumes at its episode's time: once the 30-minute timer is due, within the advance.
      const resumedAt = Date.parse(done.output);
      expect(resumedAt).toBeGreaterThanOrEqual(Date.parse('2026-04-01T08:30:00Z'));
      expect(resumedAt).toBeLessThanOrEqual(Date.parse('2026-04-01T08:31:00Z'));
    } finally {
      await second.stop();
    }
  });
  it('keeps timer schedule status in the storage account, so a new process sees the missed occurrence', async () => {
    const app = makeTempApp({
      'package.json': { main: 'index.js' },
      'index.js': `const { app } = require('@azure/functions');
        app.timer('hourly', {
          schedule: '0 0 * * * *',
          handler: (timer) => { (globalThis.__rpoAzuriteTimerRuns ??= []).push(timer); },
        });`,
    });
    const runs: { isPastDue: boolean }[] = [];
    (globalThis as { __rpoAzuriteTimerRuns?: unknown[] }).__rpoAzuriteTimerRuns = runs;
    const start = (clock: ManualClock): Promise<FunctionsHost> =>
      startHost({
        appDir: app.dir,
        port: 0,
        clock,
        quiet: true,
        store: 'azurite',
        connectionString: inject('azuriteConnectionString'),
      });
    try {
      await (await start(new ManualClock('2026-06-01T09:30:00Z'))).stop();
      const clock = new ManualClock('2026-06-01T11:30:00Z');
      const second = await start(clock);
      try {
        await clock.advance('1s');
        expect(runs).toHaveLength(1);
        expect(runs[0]).toMatchObject({ isPastDue: true, scheduleStatus: { next: '2026-06-01T10:00:00.000Z' } });
      } finally {
        await second.stop();
      }
    } finally {
      app.remove();
    }
  });
});
