import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, ScaledClock } from '../../../local/clock';
import { startHost, type FunctionsHost } from '../../../local/host';
import { FIXTURE_APP, fixtureState } from './fixtureState';
import { makeTempApp, type TempApp } from './tempApp';

const REAL_ENV = 'FIXTURE_REAL_ENV';

describe('local host serving the fixture app over HTTP', () => {
  let host: FunctionsHost;
  let clock: ManualClock;
  const logLines: string[] = [];
  const previousRealEnv = process.env[REAL_ENV];

  beforeAll(async () => {
    process.env[REAL_ENV] = 'from the real environment';
    clock = new ManualClock('2026-03-01T12:00:00Z');
    host = await startHost({
      appDir: FIXTURE_APP,
      port: 0,
      clock,
      logger: { log: (level, message) => logLines.push(`${level} ${message}`) },
    });
  });

  afterAll(async () => {
    await host?.stop();
    if (previousRealEnv === undefined) delete process.env[REAL_ENV];
    else process.env[REAL_ENV] = previousRealEnv;
  });

  describe('HTTP triggers', () => {
    it('listens on 127.0.0.1 under the api route prefix', async () => {
      expect(host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const response = await host.invokeHttp('GET', '/api/hello/Ada');
      expect(response.status).toBe(200);
      expect(response.body).toBe('Hello, Ada');
    });

    it('serves an optional parameter with and without its segment', async () => {
      expect((await host.invokeHttp('GET', '/api/hello')).body).toBe('Hello, world');
      expect((await host.invokeHttp('GET', '/api/hello/')).body).toBe('Hello, world');
    });

    it('passes the request body to a POST handler', async () => {
      const response = await host.invokeHttp('POST', '/api/hello', 'Grace', { 'content-type': 'text/plain' });
      expect(response.body).toBe('Hello, Grace');
    });

    it('routes GET, PUT and DELETE on one {id:int} template to the function declaring that method', async () => {
      const got = await host.invokeHttp('GET', '/api/items/42');
      expect(got.json()).toEqual({ id: 42, via: 'getItem' });
      const put = await host.invokeHttp('PUT', '/api/items/7', { colour: 'blue' });
      expect(put.json()).toEqual({ id: 7, stored: { colour: 'blue' } });
      const deleted = await host.invokeHttp('DELETE', '/api/items/7');
      expect(deleted.status).toBe(204);
      expect(deleted.body).toBe('');
    });

    it('falls back to the unconstrained {name} route when {id:int} does not match', async () => {
      expect((await host.invokeHttp('GET', '/api/items/blue')).json()).toEqual({ name: 'blue', via: 'itemByName' });
      expect((await host.invokeHttp('GET', '/api/items/-3')).json()).toEqual({ id: -3, via: 'getItem' });
    });

    it('gives a catch-all parameter the rest of the path, decoded, slashes kept', async () => {
      expect((await host.invokeHttp('GET', '/api/files/a/b%20c/d.txt')).json()).toEqual({ path: 'a/b c/d.txt' });
      expect((await host.invokeHttp('GET', '/api/files')).json()).toEqual({ path: '' });
    });

    it('hands the handler method, query, headers and body, and returns status, headers and cookies', async () => {
      const response = await host.invokeHttp('PATCH', '/api/echo?x=1&y=two&y=three', 'payload', { 'x-fixture': 'f1' });
      expect(response.status).toBe(201);
      expect(response.headers.get('x-echo')).toBe('yes');
      expect(response.headers.get('set-cookie')).toBe('session=abc; Path=/; HttpOnly');
      expect(response.json()).toEqual({
        method: 'PATCH',
        query: { x: '1', y: 'two,three' },
        header: 'f1',
        body: 'payload',
      });
    });

    it('matches literal route segments case-insensitively', async () => {
      expect((await host.invokeHttp('GET', '/API/Hello/Bo')).body).toBe('Hello, Bo');
    });

    it('uses the function name as the route when none is given', async () => {
      expect((await host.invokeHttp('GET', '/api/defaultRoute')).body).toBe('default route');
    });

    it('answers 404 for an unknown route, a method the route does not take, and paths outside the prefix', async () => {
      expect((await host.invokeHttp('GET', '/api/nothing-here')).status).toBe(404);
      expect((await host.invokeHttp('GET', '/api/echo')).status).toBe(404);
      expect((await host.invokeHttp('GET', '/hello/Ada')).status).toBe(404);
    });

    it('answers 500, and keeps serving, when a function returns a cookie HTTP cannot carry', async () => {
      expect((await host.invokeHttp('GET', '/api/bad-header')).status).toBe(500);
      expect(logLines.some((l) => /^error GET \/api\/bad-header: cannot send the response/.test(l))).toBe(true);
      expect((await host.invokeHttp('GET', '/api/hello/still-up')).body).toBe('Hello, still-up');
    });

    it('answers 500 with the invocation id when a handler throws, and runs postInvocation with the error', async () => {
      const response = await host.invokeHttp('GET', '/api/boom');
      expect(response.status).toBe(500);
      const body = response.json<{ invocationId: string; functionName: string; error: string }>();
      expect(body.functionName).toBe('boom');
      expect(body.invocationId).toMatch(/^[0-9a-f-]{36}$/);
      expect(response.headers.get('x-ms-invocation-id')).toBe(body.invocationId);
      expect(body.error).not.toContain('boom requested'); // the error text stays in the log
      const logged = logLines.filter((l) => l.includes(`id=${body.invocationId}`));
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatch(/^error boom \(httpTrigger: GET \/api\/boom\) Failed in \d+ ms, .*boom requested/s);
      expect(fixtureState().hooks.slice(-2)).toEqual(['pre:boom', 'post:boom:error']);
    });
  });

  describe('hooks', () => {
    it('runs appStart once before any invocation', () => {
      const hooks = fixtureState().hooks;
      expect(hooks[0]).toBe('appStart');
      expect(hooks.filter((h) => h === 'appStart')).toHaveLength(1);
    });

    it('runs preInvocation, the log hook for the handler log, then postInvocation sharing hookData', async () => {
      const before = fixtureState().hooks.length;
      await host.invokeHttp('GET', '/api/hello/Hooks');
      expect(fixtureState().hooks.slice(before)).toEqual(['pre:hello', 'log:fixture-log hello Hooks', 'post:hello:ok']);
    });

    it('lets a preInvocation hook replace the function handler', async () => {
      const response = await host.invokeHttp('GET', '/api/wrapped');
      expect(response.body).toBe('inner');
      expect(response.headers.get('x-wrapped-by')).toBe('preInvocation');
    });
  });

  describe('app settings', () => {
    it('exposes local.settings.json Values as environment variables', async () => {
      const settings = (await host.invokeHttp('GET', '/api/settings')).json<{ greeting: string }>();
      expect(settings.greeting).toBe('Hello from local.settings.json');
    });

    it('never lets local.settings.json override a variable already set in the environment', async () => {
      const settings = (await host.invokeHttp('GET', '/api/settings')).json<{ realEnv: string }>();
      expect(settings.realEnv).toBe('from the real environment');
    });
  });

  describe('timer triggers', () => {
    it('runs a runOnStartup timer once at startup, not past due', () => {
      const runs = fixtureState().timerRuns.filter((r) => r.name === 'startupTick');
      expect(runs).toHaveLength(1);
      expect(runs[0]?.isPastDue).toBe(false);
      expect(runs[0]?.scheduleStatus?.next).toBe('2027-01-01T00:00:00.000Z');
    });

    it('invokes a timer through POST /admin/functions/{name} and answers 202', async () => {
      const before = fixtureState().timerRuns.length;
      const response = await host.invokeHttp('POST', '/admin/functions/tick', { input: '' });
      expect(response.status).toBe(202);
      const runs = fixtureState().timerRuns.slice(before);
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ name: 'tick', isPastDue: false });
    });

    it('answers 404 for an admin invoke of an unknown function', async () => {
      expect((await host.invokeHttp('POST', '/admin/functions/nope', {})).status).toBe(404);
    });

    it('fires the NCRONTAB schedule (from a %setting%) on the clock, every 10 seconds', async () => {
      const state = fixtureState();
      const start = clock.now();
      const before = state.timerRuns.length;
      await clock.advance('30s');
      const runs = state.timerRuns.slice(before).filter((r) => r.name === 'tick');
      expect(runs).toHaveLength(3);
      expect(runs.every((r) => !r.isPastDue)).toBe(true);
      // Each invocation sees the status saved by the previous one: Last = the previous occurrence.
      const occurrence = (n: number): string =>
        new Date(Math.floor(start / 10_000) * 10_000 + n * 10_000).toISOString();
      expect(runs[1]?.scheduleStatus?.last).toBe(occurrence(1));
      expect(runs[1]?.scheduleStatus?.next).toBe(occurrence(2));
      expect(runs[2]?.scheduleStatus?.last).toBe(occurrence(2));
    });

    it('marks the catch-up invocation past due when occurrences pass while the previous run is still going', async () => {
      const state = fixtureState();
      let release!: () => void;
      state.tickGate = new Promise<void>((resolve) => (release = resolve));
      const before = state.timerRuns.length;
      await clock.advance('10s'); // starts a run that waits on the gate
      await clock.advance('20s'); // two occurrences pass while it runs
      expect(state.timerRuns.length - before).toBe(1);
      state.tickGate = undefined;
      release();
      await clock.advance('1s');
      const runs = state.timerRuns.slice(before);
      expect(runs.map((r) => r.isPastDue)).toEqual([false, true]);
    });

    it('retries a failed timer invocation per its retry policy, on the clock, with the retry count', async () => {
      const state = fixtureState();
      state.flakyTickFailures = 2;
      const before = state.timerRuns.length;
      let done = false;
      const run = host.triggerTimer('flakyTick').finally(() => (done = true));
      for (let i = 0; i < 10 && !done; i++) await clock.advance('5s');
      await run;
      const runs = state.timerRuns.slice(before).filter((r) => r.name === 'flakyTick');
      expect(runs.map((r) => r.retryCount)).toEqual([0, 1, 2]);
    });

    it('rejects triggerTimer once the retries are used up', async () => {
      const state = fixtureState();
      state.flakyTickFailures = 5;
      let settled = false;
      const run = host.triggerTimer('flakyTick').finally(() => (settled = true));
      const outcome = expect(run).rejects.toThrow(/Function 'flakyTick' failed/);
      for (let i = 0; i < 10 && !settled; i++) await clock.advance('5s');
      await outcome;
      state.flakyTickFailures = 0;
    });

    it('resolves triggerTimer with the invocation id once the run finished', async () => {
      const result = await host.triggerTimer('TICK');
      expect(result.invocationId).toMatch(/^[0-9a-f-]{36}$/);
      expect(fixtureState().timerRuns.at(-1)).toMatchObject({ name: 'tick', isPastDue: false });
    });
  });

  describe('Event Grid webhook', () => {
    const webhook = '/runtime/webhooks/eventgrid?functionName=onEvent';

    it('answers the Event Grid schema validation handshake with the validation code', async () => {
      const response = await host.invokeHttp(
        'POST',
        webhook,
        [
          {
            id: '1',
            eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
            data: { validationCode: 'abc-123' },
          },
        ],
        { 'aeg-event-type': 'SubscriptionValidation' },
      );
      expect(response.status).toBe(200);
      expect(response.json()).toEqual({ validationResponse: 'abc-123' });
    });

    it('answers the CloudEvents validation event whose data is double-encoded', async () => {
      const response = await host.invokeHttp(
        'POST',
        webhook,
        { specversion: '1.0', id: '2', type: 'x', source: 's', data: JSON.stringify({ validationCode: 'ce-456' }) },
        { 'aeg-event-type': 'SubscriptionValidation' },
      );
      expect(response.json()).toEqual({ validationResponse: 'ce-456' });
    });

    it('answers the CloudEvents OPTIONS abuse-protection handshake with the allowed origin', async () => {
      const response = await host.invokeHttp('OPTIONS', webhook, undefined, {
        'WebHook-Request-Origin': 'eventgrid.azure.net',
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('webhook-allowed-origin')).toBe('eventgrid.azure.net');
    });

    it('rejects an OPTIONS handshake without WebHook-Request-Origin, naming the header', async () => {
      const response = await host.invokeHttp('OPTIONS', webhook);
      expect(response.status).toBe(400);
      expect(response.body).toContain('WebHook-Request-Origin');
    });

    it('invokes the function once per event of an Event Grid schema batch, in order', async () => {
      const state = fixtureState();
      const before = state.events.length;
      const response = await host.publishEventGrid('onEvent', [
        { id: 'e1', eventType: 'Test.One', subject: 's1', data: { n: 1 } },
        { id: 'e2', eventType: 'Test.Two', subject: 's2', data: { n: 2 } },
      ]);
      expect(response.status).toBe(202);
      const events = state.events.slice(before);
      expect(events.map((e) => e.id)).toEqual(['e1', 'e2']);
      expect(events[0]).toMatchObject({ eventType: 'Test.One', subject: 's1', data: { n: 1 }, dataVersion: '1.0' });
    });

    it('delivers CloudEvents schema events, single and batched', async () => {
      const state = fixtureState();
      const before = state.events.length;
      const single = await host.invokeHttp(
        'POST',
        webhook,
        { specversion: '1.0', id: 'c1', type: 'Test.Cloud', source: '/test', data: { ok: true } },
        { 'aeg-event-type': 'Notification', 'content-type': 'application/cloudevents+json' },
      );
      expect(single.status).toBe(202);
      const batch = await host.publishEventGrid(
        'onEvent',
        [
          { id: 'c2', type: 'Test.Cloud', source: '/test' },
          { id: 'c3', type: 'Test.Cloud', source: '/test' },
        ],
        'CloudEventSchemaV1_0',
      );
      expect(batch.status).toBe(202);
      const events = state.events.slice(before);
      expect(events.map((e) => e.id)).toEqual(['c1', 'c2', 'c3']);
      expect(events[1]).toMatchObject({ specversion: '1.0', type: 'Test.Cloud' });
    });

    it('answers 500 with the failed invocation id when the handler throws for an event', async () => {
      const response = await host.publishEventGrid('onEvent', [{ id: 'bad', eventType: 'T', subject: 'fail' }]);
      expect(response.status).toBe(500);
      expect(response.json<{ invocationId: string }>().invocationId).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('answers 202 to Unsubscribe, 400 to an unknown aeg-event-type and 404 for an unknown function', async () => {
      expect((await host.invokeHttp('POST', webhook, [], { 'aeg-event-type': 'Unsubscribe' })).status).toBe(202);
      const bad = await host.invokeHttp('POST', webhook, [], { 'aeg-event-type': 'Bogus' });
      expect(bad.status).toBe(400);
      expect(bad.body).toContain('aeg-event-type');
      const unknown = await host.invokeHttp('POST', '/runtime/webhooks/eventgrid?functionName=nope', [], {
        'aeg-event-type': 'Notification',
      });
      expect(unknown.status).toBe(404);
    });

    it('invokes an Event Grid function through admin invoke with the event as input', async () => {
      const state = fixtureState();
      const before = state.events.length;
      const input = JSON.stringify({ id: 'admin-1', eventType: 'Admin', subject: 'x', data: {} });
      expect((await host.invokeHttp('POST', '/admin/functions/onEvent', { input })).status).toBe(202);
      expect(state.events.slice(before).map((e) => e.id)).toEqual(['admin-1']);
    });
  });

  describe("Durable Functions through the app's own durable client", () => {
    it('starts an orchestration from an HTTP function with a durableClient input and answers 202 check-status', async () => {
      const response = await host.invokeHttp('POST', '/api/orchestrators/helloSequence');
      expect(response.status).toBe(202);
      const body = response.json<{ id: string; statusQueryGetUri: string; sendEventPostUri: string }>();
      expect(body.id).toMatch(/^[0-9a-f]{32}$/);
      expect(response.headers.get('location')).toBe(body.statusQueryGetUri);
      // The client built its URLs from the binding data the host supplied: they point at this host.
      expect(body.statusQueryGetUri.startsWith(`${host.url}/runtime/webhooks/durabletask/instances/${body.id}`)).toBe(
        true,
      );
      const status = await host.durable.waitForInstance(body.id, { timeoutMs: 10_000 });
      expect(status).toMatchObject({
        runtimeStatus: 'Completed',
        output: ['Hello Tokyo', 'Hello Seattle', 'Hello London'],
      });
    });

    it('uses the given instance id and serves its status through df.app.client.http', async () => {
      const started = await host.invokeHttp('POST', '/api/orchestrators/helloSequence/fixed-id-1');
      expect(started.json<{ id: string }>().id).toBe('fixed-id-1');
      await host.durable.waitForInstance('fixed-id-1', { timeoutMs: 10_000 });
      const status = await host.invokeHttp('GET', '/api/orchestrations/fixed-id-1');
      expect(status.json()).toMatchObject({
        name: 'helloSequence',
        instanceId: 'fixed-id-1',
        runtimeStatus: 'Completed',
      });
    });

    it('forwards both Durable HTTP API prefixes to the Durable engine', async () => {
      const webhook = await host.invokeHttp('GET', '/runtime/webhooks/durabletask/instances/fixed-id-1');
      expect(webhook.status).toBe(200);
      expect(webhook.json()).toMatchObject({ instanceId: 'fixed-id-1', runtimeStatus: 'Completed' });
      const rpc = await host.invokeHttp('GET', '/durabletask/instances/fixed-id-1');
      expect(rpc.json()).toMatchObject({ instanceId: 'fixed-id-1' });
      expect((await host.invokeHttp('GET', '/runtime/webhooks/durabletask/instances/unknown-id')).status).toBe(404);
    });
  });

  describe('shutdown', () => {
    it('runs the appTerminate hooks, which see the appStart hook data, and stops listening', async () => {
      const state = fixtureState();
      await host.stop();
      expect(state.hooks.at(-1)).toBe('appTerminate:sawAppStart');
      await expect(fetch(`${host.url}/api/hello`)).rejects.toThrow();
    });
  });
});

describe('local host on other app folders', () => {
  const apps: TempApp[] = [];
  afterAll(() => apps.forEach((a) => a.remove()));
  const temp = (files: Record<string, string | object>): TempApp => {
    const app = makeTempApp(files);
    apps.push(app);
    return app;
  };
  const helloApp = `const { app } = require('@azure/functions');
    app.get('hi', { route: 'hi/{name}', handler: (req) => ({ body: 'hi ' + req.params.name }) });`;

  it('serves HTTP routes under the routePrefix from host.json', async () => {
    const { dir } = temp({
      'package.json': { main: 'index.js' },
      'host.json': { version: '2.0', extensions: { http: { routePrefix: 'v1' } } },
      'index.js': helloApp,
    });
    const host = await startHost({ appDir: dir, port: 0, quiet: true, clock: new ManualClock() });
    try {
      expect((await host.invokeHttp('GET', '/v1/hi/there')).body).toBe('hi there');
      expect((await host.invokeHttp('GET', '/api/hi/there')).status).toBe(404);
    } finally {
      await host.stop();
    }
  });

  it('serves HTTP routes at the root when routePrefix is empty', async () => {
    const { dir } = temp({
      'package.json': { main: 'index.js' },
      'host.json': { version: '2.0', extensions: { http: { routePrefix: '' } } },
      'index.js': helloApp,
    });
    const host = await startHost({ appDir: dir, port: 0, quiet: true, clock: new ManualClock() });
    try {
      expect((await host.invokeHttp('GET', '/hi/root')).body).toBe('hi root');
    } finally {
      await host.stop();
    }
  });

  it('starts an app with no function files, says so, and answers 404', async () => {
    const { dir } = temp({ 'package.json': { main: 'dist/{functions,orchestrations}/**/*.js' } });
    const lines: string[] = [];
    const host = await startHost({
      appDir: dir,
      port: 0,
      clock: new ManualClock(),
      logger: { log: (level, message) => lines.push(`${level} ${message}`) },
    });
    try {
      expect(lines.join('\n')).toContain('starting with no functions');
      expect((await host.invokeHttp('GET', '/api/anything')).status).toBe(404);
      expect((await host.invokeHttp('GET', '/admin/host/status')).json()).toEqual({ state: 'Running' });
    } finally {
      await host.stop();
    }
  });

  it('keeps two apps hosted side by side in one process apart', async () => {
    const appFor = (word: string): TempApp =>
      temp({
        'package.json': { main: 'index.js' },
        'index.js': `const { app } = require('@azure/functions');
          app.get('word', { route: 'word', handler: () => ({ body: '${word}' }) });`,
      });
    const first = await startHost({ appDir: appFor('first').dir, port: 0, quiet: true, clock: new ManualClock() });
    const second = await startHost({ appDir: appFor('second').dir, port: 0, quiet: true, clock: new ManualClock() });
    try {
      expect((await first.invokeHttp('GET', '/api/word')).body).toBe('first');
      expect((await second.invokeHttp('GET', '/api/word')).body).toBe('second');
    } finally {
      await second.stop();
      await first.stop();
    }
  });

  it('runs on a clock scaled by RPO_CLOCK_SCALE from the app settings when no clock is given', async () => {
    const { dir } = temp({
      'package.json': { main: 'index.js' },
      'local.settings.json': { Values: { RPO_CLOCK_SCALE: '3600' } },
      'index.js': helloApp,
    });
    const host = await startHost({ appDir: dir, port: 0, quiet: true });
    try {
      expect(host.clock).toBeInstanceOf(ScaledClock);
      expect((host.clock as ScaledClock).scale).toBe(3600);
    } finally {
      await host.stop();
    }
  });

  it('runs a monitored timer once, past due, when its occurrence passed while the host was down', async () => {
    const { dir } = temp({
      'package.json': { main: 'index.js' },
      'index.js': `const { app } = require('@azure/functions');
        app.timer('everyFiveMinutes', {
          schedule: '0 */5 * * * *',
          handler: (timer) => { (globalThis.__rpoPastDueRuns ??= []).push(timer); },
        });`,
    });
    const runs: { isPastDue: boolean }[] = [];
    (globalThis as { __rpoPastDueRuns?: unknown[] }).__rpoPastDueRuns = runs;
    const first = await startHost({
      appDir: dir,
      port: 0,
      quiet: true,
      clock: new ManualClock('2026-05-01T10:01:00Z'),
    });
    await first.stop(); // down before 10:05
    expect(runs).toEqual([]);
    const clock = new ManualClock('2026-05-01T10:17:00Z');
    const second = await startHost({ appDir: dir, port: 0, quiet: true, clock });
    try {
      await clock.advance('1s');
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ isPastDue: true, scheduleStatus: { next: '2026-05-01T10:05:00.000Z' } });
      await clock.advance('3m');
      expect(runs.map((r) => r.isPastDue)).toEqual([true, false]);
    } finally {
      await second.stop();
    }
  });

  it('waits for a running activity before it stops, so nothing of the app runs on after the host', async () => {
    const { dir } = temp({
      'package.json': { main: 'index.js' },
      'index.js': `const df = require('durable-functions');
        df.app.orchestration('slowFlow', function* (context) { return yield context.df.callActivity('slowStep'); });
        df.app.activity('slowStep', {
          handler: async () => {
            globalThis.__rpoSlowStarted = true;
            await new Promise((resolve) => setTimeout(resolve, 1_500));
            globalThis.__rpoSlowDone = true;
            return 'done';
          },
        });`,
    });
    const slow = globalThis as { __rpoSlowStarted?: boolean; __rpoSlowDone?: boolean };
    const host = await startHost({ appDir: dir, port: 0, quiet: true, clock: new ManualClock() });
    const started = await host.invokeHttp('POST', '/runtime/webhooks/durabletask/orchestrators/slowFlow');
    expect(started.status, started.body).toBe(202);
    for (let i = 0; i < 200 && slow.__rpoSlowStarted !== true; i++) await new Promise((r) => setTimeout(r, 10));
    expect(slow.__rpoSlowStarted).toBe(true);
    await host.stop();
    expect(slow.__rpoSlowDone).toBe(true);
  });

  it('lets app code still running when the host stops go on reading the host clock, never the wall clock', async () => {
    const { dir } = temp({
      'package.json': { main: 'index.js' },
      'index.js': `const { app } = require('@azure/functions');
        app.http('late', {
          methods: ['POST'],
          authLevel: 'anonymous',
          handler: () => {
            // Work that outlives its invocation, as an activity cut off by a host stop does.
            globalThis.__rpoLateRead = new Promise((release) => { globalThis.__rpoRelease = release; })
              .then(() => globalThis[Symbol.for('rpo.clock')]?.now());
            return { status: 202 };
          },
        });`,
    });
    const clock = new ManualClock('2026-05-01T10:00:00Z');
    const host = await startHost({ appDir: dir, port: 0, quiet: true, clock });
    expect((await host.invokeHttp('POST', '/api/late')).status).toBe(202);
    await host.stop();
    const late = globalThis as { __rpoRelease?: () => void; __rpoLateRead?: Promise<number | undefined> };
    late.__rpoRelease?.();
    expect(await late.__rpoLateRead).toBe(Date.parse('2026-05-01T10:00:00Z'));
  });

  it('fails to start on a port in use and leaves the environment as it found it', async () => {
    const { dir } = temp({
      'package.json': { main: 'index.js' },
      'local.settings.json': { Values: { RPO_TEST_PORT_CLASH: 'set by the app' } },
      'index.js': helloApp,
    });
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as AddressInfo).port;
      await expect(startHost({ appDir: dir, port, quiet: true, clock: new ManualClock() })).rejects.toMatchObject({
        code: 'EADDRINUSE',
      });
      expect(process.env.RPO_TEST_PORT_CLASH).toBeUndefined();
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('refuses to start when a timer schedule is invalid, naming the function', async () => {
    const { dir } = temp({
      'package.json': { main: 'index.js' },
      'index.js': `const { app } = require('@azure/functions');
        app.timer('badTimer', { schedule: '*/5 * * * *', handler: () => undefined });`,
    });
    await expect(startHost({ appDir: dir, port: 0, quiet: true, clock: new ManualClock() })).rejects.toThrow(
      /Function 'badTimer' schedule: .* must be a 6-field NCRONTAB expression/,
    );
  });

  it('logs one line per invocation with function, trigger, duration and outcome', async () => {
    const { dir } = temp({ 'package.json': { main: 'index.js' }, 'index.js': helloApp });
    const lines: string[] = [];
    const host = await startHost({
      appDir: dir,
      port: 0,
      clock: new ManualClock(),
      logger: { log: (level, message) => lines.push(`${level} ${message}`) },
    });
    try {
      await host.invokeHttp('GET', '/api/hi/log');
      expect(lines.filter((l) => l.startsWith('info hi (httpTrigger: GET /api/hi/log) Succeeded in '))).toHaveLength(1);
    } finally {
      await host.stop();
    }
  });
});
