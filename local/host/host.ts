/**
 * The local Functions + Durable host: loads an app folder as Azure does, serves its triggers on one
 * HTTP server, runs its timers on one clock and hands Durable work to the engine in ./durable.
 */
import { randomUUID } from 'node:crypto';
import { clockFromEnvironment, type Clock } from '../clock';
import type { InvocationResult } from './core/invoke';
import { createDurableRuntime, type DurableRuntime } from './durable';
import { durableKind, loadFunctionsApp, type LoadedFunctionsApp } from './load/appLoader';
import { createConsoleLogger, type HostLogger } from './log';
import { route } from './router';
import { startServer, type RunningServer } from './server';
import { createDurableStore, timerStatusStore } from './storage';
import { EVENT_GRID_PATH, EventGridTriggers } from './triggers/eventGrid';
import { HttpTriggers } from './triggers/http';
import { TimerTriggers } from './triggers/timer';
import type { HostRequest, HostResponse } from './triggers/types';

export const DEFAULT_PORT = 7071;
export const DEFAULT_HOSTNAME = '127.0.0.1';

export interface StartHostOptions {
  /** The Functions app folder (holds package.json, host.json, local.settings.json). */
  appDir: string;
  /** Default 7071; 0 picks a free port. */
  port?: number;
  hostname?: string;
  /** Durable store: `memory` (default) or `azurite` (Table storage; see connectionString). */
  store?: 'memory' | 'azurite';
  /** Storage for `azurite`; default: the app's AzureWebJobsStorage (`UseDevelopmentStorage=true` = default ports). */
  connectionString?: string;
  /** Default: real time scaled by RPO_CLOCK_SCALE (read after local.settings.json is applied). */
  clock?: Clock;
  /** Environment for the app; wins over local.settings.json Values. Restored on stop. */
  env?: Record<string, string>;
  quiet?: boolean;
  logger?: HostLogger;
}

export interface HttpResult {
  status: number;
  headers: Headers;
  body: string;
  /** The body parsed as JSON. */
  json<T = unknown>(): T;
}

export type EventSchema = 'EventGridSchema' | 'CloudEventSchemaV1_0';

export interface FunctionsHost {
  url: string;
  port: number;
  clock: Clock;
  app: LoadedFunctionsApp;
  /** Sends a real HTTP request to the host (`path` like `/api/items/3`). */
  invokeHttp(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<HttpResult>;
  /** Runs a timer function now (isPastDue false); resolves when it finished, rejects if it failed. */
  triggerTimer(name: string): Promise<InvocationResult>;
  /** Delivers events through the Event Grid webhook (one batch); missing envelope fields are filled in. */
  publishEventGrid(functionName: string, events: unknown[], schema?: EventSchema): Promise<HttpResult>;
  durable: {
    waitForInstance(instanceId: string, options?: { timeoutMs?: number }): Promise<unknown>;
  };
  stop(): Promise<void>;
}

function needsDurable(app: LoadedFunctionsApp): boolean {
  return app.functions.some(
    (fn) =>
      durableKind(fn) !== 'other' ||
      Object.values(fn.metadata.bindings).some((b) => String(b.type).toLowerCase() === 'durableclient'),
  );
}

async function toHttpResult(response: Response): Promise<HttpResult> {
  const body = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body,
    json<T>() {
      return JSON.parse(body) as T;
    },
  };
}

function fillEnvelope(event: unknown, schema: EventSchema, now: number): unknown {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return event;
  const time = new Date(now).toISOString();
  if (schema === 'CloudEventSchemaV1_0') {
    return { specversion: '1.0', id: randomUUID(), source: '/rpo/local-host', time, ...event };
  }
  return { id: randomUUID(), subject: '', eventTime: time, dataVersion: '1.0', metadataVersion: '1', ...event };
}

/** Where an in-process app finds the host's clock: `Symbol.for('rpo.clock')` on globalThis (RPO's lib/clock reads it). */
export const APP_CLOCK_SYMBOL = Symbol.for('rpo.clock');

function registerAppClock(clock: Clock): () => void {
  const slot = globalThis as Record<symbol, unknown>;
  const previous = slot[APP_CLOCK_SYMBOL];
  slot[APP_CLOCK_SYMBOL] = clock;
  return () => {
    if (slot[APP_CLOCK_SYMBOL] === clock) slot[APP_CLOCK_SYMBOL] = previous;
  };
}

export async function startHost(options: StartHostOptions): Promise<FunctionsHost> {
  // Log lines carry the host clock's time, so scaled or manual time reads the same as the app sees it.
  let hostClock: Clock | undefined = options.clock;
  const logger =
    options.logger ?? createConsoleLogger({ quiet: options.quiet ?? false, now: () => (hostClock ?? Date).now() });
  // An app that reads the stack's clock (RPO's lib/clock) sees a test's manual clock too, from its first line.
  const unregisterClock = options.clock === undefined ? () => undefined : registerAppClock(options.clock);
  let app: LoadedFunctionsApp;
  try {
    app = await loadFunctionsApp(options.appDir, { env: options.env, logger });
  } catch (error) {
    unregisterClock();
    throw error;
  }
  // The clock stays registered after stop: the app runs in this process, and activities that were running
  // when the host stopped cannot be killed. Reading the wall clock, they wrote wall-clock times (months
  // ahead of a test's manual clock) into the pacing rows that the next host on the same storage then obeyed.
  const cleanups: (() => Promise<unknown>)[] = [() => app.terminate()];
  const cleanup = async (): Promise<void> => {
    for (const step of cleanups.reverse()) {
      try {
        await step();
      } catch (error) {
        logger.log('warn', `while stopping: ${(error as Error).message}`);
      }
    }
  };
  let serverUrl = '';
  try {
    const clock = options.clock ?? clockFromEnvironment();
    hostClock = clock;
    const http = new HttpTriggers(app);
    const timers = new TimerTriggers(app, clock, logger, await timerStatusStore(app, options));
    const eventGrid = new EventGridTriggers(app);

    let durable: DurableRuntime | undefined;
    if (needsDurable(app)) {
      const store = await createDurableStore(app, options);
      cleanups.push(() => store.close());
      const runtime = createDurableRuntime({
        store,
        clock,
        invoker: app.invoker,
        hubName: app.hostSettings.hubName,
        baseUrl: () => serverUrl,
        maxConcurrentActivityFunctions: app.hostSettings.maxConcurrentActivityFunctions,
        maxConcurrentOrchestratorFunctions: app.hostSettings.maxConcurrentOrchestratorFunctions,
        log: (level, message) => logger.log(level, `[durable] ${message}`),
      });
      app.setInputProvider('durableClient', () => ({ string: runtime.clientBindingData() }));
      durable = runtime;
    }

    const handler = (req: HostRequest): Promise<HostResponse> =>
      route(req, { app, http, timers, eventGrid, durable, logger });
    const server: RunningServer = await startServer(handler, {
      port: options.port ?? app.localSettings.localHttpPort ?? DEFAULT_PORT,
      hostname: options.hostname ?? DEFAULT_HOSTNAME,
      logger,
    });
    cleanups.push(() => server.close());
    serverUrl = server.url;
    const restoreHostname = setWebsiteHostname(new URL(server.url).host);
    cleanups.push(() => Promise.resolve(restoreHostname()));

    if (durable) {
      await durable.start();
      const runtime = durable;
      cleanups.push(() => runtime.stop());
    }
    await timers.start();
    cleanups.push(() => timers.stop());

    logger.log('info', `Host listening on ${server.url}`);
    for (const line of http.describe(server.url)) logger.log('info', `  ${line}`);

    let stopped: Promise<void> | undefined;
    const host: FunctionsHost = {
      url: server.url,
      port: server.port,
      clock,
      app,
      async invokeHttp(method, path, body, headers = {}) {
        const init: RequestInit = { method: method.toUpperCase(), headers: { ...headers } };
        if (body !== undefined) {
          if (typeof body === 'string' || body instanceof Uint8Array) {
            init.body = body;
          } else {
            init.body = JSON.stringify(body);
            init.headers = { 'content-type': 'application/json', ...headers };
          }
        }
        return toHttpResult(await fetch(new URL(path, server.url), init));
      },
      triggerTimer: (name) => timers.trigger(name),
      async publishEventGrid(functionName, events, schema = 'EventGridSchema') {
        const filled = events.map((e) => fillEnvelope(e, schema, clock.now()));
        const contentType =
          schema === 'CloudEventSchemaV1_0' ? 'application/cloudevents-batch+json; charset=utf-8' : 'application/json';
        const url = new URL(`${EVENT_GRID_PATH}?functionName=${encodeURIComponent(functionName)}`, server.url);
        return toHttpResult(
          await fetch(url, {
            method: 'POST',
            headers: { 'content-type': contentType, 'aeg-event-type': 'Notification' },
            body: JSON.stringify(filled),
          }),
        );
      },
      durable: {
        waitForInstance(instanceId, waitOptions) {
          if (!durable) return Promise.reject(new Error('this app has no Durable functions (or no Durable engine)'));
          return durable.waitForInstance(instanceId, waitOptions);
        },
      },
      stop() {
        stopped ??= (async () => {
          logger.log('info', 'Host stopping');
          await cleanup();
        })();
        return stopped;
      },
    };
    return host;
  } catch (error) {
    await cleanup();
    unregisterClock();
    throw error;
  }
}

/** The durable client falls back to WEBSITE_HOSTNAME when rpcBaseUrl is absent; point it at this host. */
function setWebsiteHostname(hostAndPort: string): () => void {
  const previous = process.env.WEBSITE_HOSTNAME;
  process.env.WEBSITE_HOSTNAME = hostAndPort;
  return () => {
    if (process.env.WEBSITE_HOSTNAME !== hostAndPort) return;
    if (previous === undefined) delete process.env.WEBSITE_HOSTNAME;
    else process.env.WEBSITE_HOSTNAME = previous;
  };
}
