import { createRequire } from 'node:module';
import path from 'node:path';
import type * as functions from '@azure/functions';
import { afterEach, describe, expect, it } from 'vitest';
import { loadFunctionsApp, type LoadedFunctionsApp } from '../../../../local/host';
import type { HostLogger } from '../../../../local/host/log';
import { makeTempApp, type TempApp } from '../tempApp';

const durableApp = `
const { app } = require('@azure/functions');
const df = require('durable-functions');
df.app.orchestration('helloOrch', function* (context) {
  return yield context.df.callActivity('sayHello', context.df.getInput());
});
df.app.activity('sayHello', { handler: (name) => 'Hello ' + name });
df.app.activity('failing', { handler: () => { throw new Error('activity broke'); } });
app.http('plain', { handler: () => ({ body: 'ok' }) });
`;

function recordingLogger(): HostLogger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, log: (level, message) => lines.push(`${level}: ${message}`) };
}

describe('loadFunctionsApp', () => {
  const apps: TempApp[] = [];
  const loaded: LoadedFunctionsApp[] = [];
  const temp = (files: Record<string, string | object>): TempApp => {
    const app = makeTempApp(files);
    apps.push(app);
    return app;
  };
  const load = async (dir: string, options: Parameters<typeof loadFunctionsApp>[1] = {}) => {
    const app = await loadFunctionsApp(dir, { quiet: true, ...options });
    loaded.push(app);
    return app;
  };

  afterEach(async () => {
    for (const app of loaded.splice(0)) await app.terminate();
    for (const app of apps.splice(0)) app.remove();
  });

  it('captures every registration with its bindings, looked up case-insensitively', async () => {
    const { dir } = temp({ 'package.json': { main: 'src/*.js' }, 'src/index.js': durableApp });
    const app = await load(dir);
    expect(app.files).toEqual(['src/index.js']);
    expect(app.functions.map((f) => f.name)).toEqual(['helloOrch', 'sayHello', 'failing', 'plain']);
    const plain = app.getFunction('PLAIN');
    expect(plain?.trigger.type).toBe('httpTrigger');
    expect(plain?.rawBindings.map((b) => JSON.parse(b) as { type: string }).map((b) => b.type)).toEqual([
      'httpTrigger',
      'http',
    ]);
  });

  it('registers the functions again when the same app folder is loaded a second time', async () => {
    const { dir } = temp({
      'package.json': { main: 'src/*.js' },
      'src/index.js': "require('./shared'); require('@azure/functions').app.http('again', { handler: () => ({}) });",
      'src/shared.js': 'module.exports = {};',
    });
    const first = await load(dir);
    await first.terminate();
    loaded.splice(loaded.indexOf(first), 1);
    const second = await load(dir);
    expect(first.functions.map((f) => f.name)).toEqual(['again']);
    expect(second.functions.map((f) => f.name)).toEqual(['again']);
    expect(second.files).toEqual(['src/index.js', 'src/shared.js']);
  });

  it('invokes orchestrations and activities for the Durable engine through the library', async () => {
    const { dir } = temp({ 'package.json': { main: 'src/*.js' }, 'src/index.js': durableApp });
    const logger = recordingLogger();
    const { invoker } = await load(dir, { logger });
    expect(invoker.kindOf('HelloOrch')).toBe('orchestration');
    expect(invoker.kindOf('sayhello')).toBe('activity');
    expect(invoker.kindOf('plain')).toBe('other');
    expect(invoker.kindOf('missing')).toBeUndefined();

    const now = '2026-01-01T00:00:00.000Z';
    const trigger = {
      history: [
        { EventType: 12, EventId: -1, IsPlayed: false, Timestamp: now },
        {
          EventType: 0,
          EventId: -1,
          IsPlayed: false,
          Timestamp: now,
          Name: 'helloOrch',
          Input: '"Tokyo"',
          OrchestrationInstance: { InstanceId: 'i1', ExecutionId: 'e1' },
        },
      ],
      input: 'Tokyo',
      instanceId: 'i1',
      isReplaying: false,
      parentInstanceId: null,
      upperSchemaVersion: 1,
      upperSchemaVersionNew: 3,
    };
    const state = await invoker.invokeOrchestrator('helloOrch', JSON.stringify(trigger));
    expect(state).toMatchObject({
      isDone: false,
      actions: [[{ functionName: 'sayHello', actionType: 0, input: '"Tokyo"' }]],
    });
    expect(await invoker.invokeActivity('sayHello', '"Tokyo"')).toBe('Hello Tokyo');
    await expect(invoker.invokeActivity('failing', undefined)).rejects.toThrow('activity broke');
    expect(logger.lines.some((l) => /^error: failing \(activityTrigger: activity\) Failed in/.test(l))).toBe(true);
    await expect(invoker.invokeActivity('plain', undefined)).rejects.toThrow(/is not an activity function/);
  });

  it('loads ES module entry points with import()', async () => {
    const { dir } = temp({
      'package.json': { type: 'module', main: 'src/*.js' },
      'src/index.js': "import { app } from '@azure/functions';\napp.http('esm', { handler: () => ({ body: 'esm' }) });",
    });
    const app = await load(dir);
    expect(app.functions.map((f) => f.name)).toEqual(['esm']);
  });

  it('loads an app whose main matches no file and says so', async () => {
    const { dir } = temp({ 'package.json': { main: 'dist/{functions,orchestrations}/**/*.js' } });
    const logger = recordingLogger();
    const app = await load(dir, { logger });
    expect(app.functions).toEqual([]);
    expect(logger.lines.join('\n')).toMatch(/No file matches package\.json main .*starting with no functions/);
  });

  it('fails with the entry point named when an app file throws while loading', async () => {
    const { dir } = temp({ 'package.json': { main: 'src/*.js' }, 'src/bad.js': 'throw new Error("bad module");' });
    await expect(loadFunctionsApp(dir, { quiet: true })).rejects.toThrow(
      /unable to load entry point "src\/bad\.js": bad module/,
    );
  });

  it('rejects a second function with the same name, whatever its case', async () => {
    const { dir } = temp({
      'package.json': { main: 'src/*.js' },
      'src/a.js': `const { app } = require('@azure/functions');
        app.http('same', { handler: () => ({}) });
        app.http('SAME', { handler: () => ({}) });`,
    });
    await expect(loadFunctionsApp(dir, { quiet: true })).rejects.toThrow(/Duplicate function name "SAME"/);
  });

  it('refuses registrations after startup and unknown hook names, as the worker does', async () => {
    const { dir } = temp({ 'package.json': { main: 'src/*.js' }, 'src/index.js': durableApp });
    await load(dir);
    const appRequire = createRequire(path.join(dir, 'package.json'));
    const { app } = appRequire('@azure/functions') as typeof functions;
    expect(() => app.http('late', { handler: () => ({}) })).toThrow(
      'A function can only be registered during app startup.',
    );
    const core = appRequire('@azure/functions-core') as { registerHook(name: string, cb: () => void): unknown };
    let error: unknown;
    try {
      core.registerHook('bogus', () => undefined);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(RangeError);
    expect((error as { isAzureFunctionsSystemError?: boolean }).isAzureFunctionsSystemError).toBe(true);
  });

  it('refuses an app that enables HTTP streaming, which the local host does not support', async () => {
    const { dir } = temp({
      'package.json': { main: 'index.js' },
      'index.js': `const { app } = require('@azure/functions');
        app.setup({ enableHttpStream: true });
        app.http('s', { handler: () => ({}) });`,
    });
    await expect(loadFunctionsApp(dir, { quiet: true })).rejects.toThrow(
      'HTTP streaming (app.setup({ enableHttpStream: true })) is not supported by the local host',
    );
  });

  it('reads host.json: route prefix, %Setting% hub name, concurrency limits', async () => {
    const { dir } = temp({
      'package.json': { main: 'src/*.js' },
      'host.json': {
        version: '2.0',
        extensions: {
          http: { routePrefix: '/v1/' },
          durableTask: {
            hubName: '%MY_HUB%',
            maxConcurrentActivityFunctions: 3,
            maxConcurrentOrchestratorFunctions: 2,
          },
        },
      },
      'local.settings.json': { IsEncrypted: false, Values: { MY_HUB: 'SettingsHub' } },
    });
    const app = await load(dir);
    expect(app.hostSettings).toMatchObject({
      routePrefix: 'v1',
      hubName: 'SettingsHub',
      maxConcurrentActivityFunctions: 3,
      maxConcurrentOrchestratorFunctions: 2,
    });
  });

  it('defaults the hub name to TestHubName and the route prefix to api', async () => {
    const { dir } = temp({ 'package.json': { main: 'src/*.js' } });
    const app = await load(dir);
    expect(app.hostSettings.hubName).toBe('TestHubName');
    expect(app.hostSettings.routePrefix).toBe('api');
  });

  it('falls back to TestHubName, with a warning, when the hub name setting is not set', async () => {
    const { dir } = temp({
      'package.json': { main: 'src/*.js' },
      'host.json': { extensions: { durableTask: { hubName: '%RPO_TEST_UNSET_HUB%' } } },
    });
    const logger = recordingLogger();
    const app = await load(dir, { logger });
    expect(app.hostSettings.hubName).toBe('TestHubName');
    expect(logger.lines).toContain(
      'warn: host.json extensions.durableTask.hubName: app setting "RPO_TEST_UNSET_HUB" referenced as %RPO_TEST_UNSET_HUB% is not set: using the hub name TestHubName',
    );
  });

  it('rejects a bad host.json value with an error naming the field and the rule', async () => {
    const { dir } = temp({
      'package.json': { main: 'src/*.js' },
      'host.json': { extensions: { durableTask: { maxConcurrentActivityFunctions: 0 } } },
    });
    await expect(loadFunctionsApp(dir, { quiet: true })).rejects.toThrow(
      'host.json extensions.durableTask.maxConcurrentActivityFunctions must be an integer ≥ 1, got 0',
    );
  });

  it('lets the env option win over local.settings.json and restores the environment on terminate', async () => {
    const { dir } = temp({
      'package.json': { main: 'src/*.js' },
      'local.settings.json': { Values: { RPO_TEST_A: 'from settings', RPO_TEST_B: 'from settings' } },
    });
    const app = await loadFunctionsApp(dir, { quiet: true, env: { RPO_TEST_A: 'from env option' } });
    expect(process.env.RPO_TEST_A).toBe('from env option');
    expect(process.env.RPO_TEST_B).toBe('from settings');
    await app.terminate();
    expect(process.env.RPO_TEST_A).toBeUndefined();
    expect(process.env.RPO_TEST_B).toBeUndefined();
  });
});
