/**
 * Test harness: the fixture app loaded through the real loader (real @azure/functions and
 * durable-functions), a durable runtime on a store, and a ManualClock.
 */
import path from 'node:path';
import { ManualClock } from '../../../../local/clock';
import { loadFunctionsApp, type LoadedFunctionsApp } from '../../../../local/host/load/appLoader';
import {
  createDurableRuntime,
  type DurableFunctionInvoker,
  type DurableRuntime,
  type DurableStore,
} from '../../../../local/host/durable';
import { EventType, type HistoryEvent } from '../../../../local/host/durable/protocol';

export const FIXTURE_APP = path.resolve(__dirname, '../../../fixtures/app');

export interface FixtureState {
  calls: Record<string, number>;
  effects: Record<string, number>;
  started: string[];
  gate: Promise<void> | undefined;
  inFlight: number;
  maxInFlight: number;
}

let loaded: Promise<LoadedFunctionsApp> | undefined;

/** Loads the fixture app once per test file (a fresh module registry each time vitest forks). */
export function fixtureApp(): Promise<LoadedFunctionsApp> {
  loaded ??= loadFunctionsApp(FIXTURE_APP, { quiet: true, env: { FIXTURE_HUB_NAME: 'FixtureHub' } });
  return loaded;
}

/** The fixture's durable state module (the instance the loaded app uses). */
export async function fixtureState(): Promise<FixtureState> {
  await fixtureApp();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(FIXTURE_APP, 'src/durableState.js')) as FixtureState;
}

let hubCounter = 0;
/** A task hub name unique to this process and call (table names: letters and digits). */
export function uniqueHub(prefix = 'T'): string {
  hubCounter++;
  return `${prefix}${process.pid}x${Date.now().toString(36)}x${hubCounter}`.replace(/[^A-Za-z0-9]/g, '');
}

/** The §6.3 status payload as the tests read it. */
export interface StatusPayload {
  name: string;
  instanceId: string;
  runtimeStatus: string;
  input: unknown;
  output: unknown;
  customStatus: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  historyEvents?: Array<Record<string, unknown>>;
}

export interface TestRuntime {
  runtime: DurableRuntime;
  clock: ManualClock;
  logs: string[];
  /** Calls the Durable HTTP API in process. */
  api(method: string, pathAndQuery: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  start(name: string, input?: unknown, instanceId?: string): Promise<string>;
  status(instanceId: string, query?: string): Promise<StatusPayload>;
  history(instanceId: string): Promise<Array<Record<string, unknown>>>;
  raise(instanceId: string, event: string, data: unknown): Promise<ApiResponse>;
  wait(instanceId: string, timeoutMs?: number): Promise<StatusPayload>;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON, read field by field in tests
  body: any;
}

export async function startRuntime(
  store: DurableStore,
  options: {
    clock?: ManualClock;
    hubName?: string;
    maxActivities?: number;
    maxOrchestrators?: number;
    wrapInvoker?: (invoker: DurableFunctionInvoker) => DurableFunctionInvoker;
  } = {},
): Promise<TestRuntime> {
  const app = await fixtureApp();
  const clock = options.clock ?? new ManualClock('2026-03-01T00:00:00Z');
  const logs: string[] = [];
  const runtime = createDurableRuntime({
    store,
    clock,
    invoker: options.wrapInvoker ? options.wrapInvoker(app.invoker) : app.invoker,
    hubName: options.hubName ?? 'TestHubName',
    baseUrl: () => 'http://127.0.0.1:7999',
    maxConcurrentActivityFunctions: options.maxActivities ?? 8,
    maxConcurrentOrchestratorFunctions: options.maxOrchestrators ?? 4,
    log: (level, message) => logs.push(`${level}: ${message}`),
  });
  await runtime.start();
  const api: TestRuntime['api'] = async (method, pathAndQuery, body, headers = {}) => {
    const response = await runtime.handleHttp({
      method,
      url: new URL(pathAndQuery, 'http://127.0.0.1:7999'),
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body),
    });
    if (!response) throw new Error(`no durable route for ${method} ${pathAndQuery}`);
    return {
      status: response.status,
      headers: response.headers,
      body: response.body ? JSON.parse(response.body) : undefined,
    };
  };
  return {
    runtime,
    clock,
    logs,
    api,
    async start(name, input, instanceId) {
      const response = await api(
        'POST',
        `/durabletask/orchestrators/${name}${instanceId ? `/${instanceId}` : ''}`,
        input === undefined ? undefined : JSON.stringify(input),
      );
      if (response.status !== 202)
        throw new Error(`start ${name}: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body.id as string;
    },
    async status(instanceId, query = '') {
      const response = await api('GET', `/durabletask/instances/${encodeURIComponent(instanceId)}${query}`);
      return response.body as StatusPayload;
    },
    async history(instanceId) {
      const response = await api(
        'GET',
        `/durabletask/instances/${encodeURIComponent(instanceId)}?showHistory=true&showHistoryOutput=true`,
      );
      return (response.body as StatusPayload).historyEvents ?? [];
    },
    raise: (instanceId, event, data) =>
      api('POST', `/durabletask/instances/${encodeURIComponent(instanceId)}/raiseEvent/${event}`, JSON.stringify(data)),
    wait: async (instanceId, timeoutMs = 20_000) =>
      (await runtime.waitForInstance(instanceId, { timeoutMs })) as StatusPayload,
  };
}

/** Lets in-process work (episodes, activities) settle without moving the manual clock. */
export async function settle(clock: ManualClock, rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await clock.advance(0);
}

/** Scheduling events of a raw history as `Type#id` (what the JS SDK's ids must agree with). */
export function schedulingShape(history: readonly HistoryEvent[]): string[] {
  return history.filter((e) => e.EventId >= 0).map((e) => `${EventType[e.EventType]}#${e.EventId}`);
}

const TERMINAL = new Set(['Completed', 'Failed', 'Terminated', 'Canceled']);

/** Real-time wait for a condition (stores on Azurite answer in milliseconds, not microtasks). */
export async function eventually<T>(
  probe: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Advances the manual clock by `step` until the instance finishes (retry and durable timers fire on the way). */
export async function runToEnd(
  t: TestRuntime,
  instanceId: string,
  step = '1s',
  maxSteps = 200,
): Promise<StatusPayload> {
  for (let i = 0; i < maxSteps; i++) {
    const status = await t.status(instanceId);
    if (TERMINAL.has(status.runtimeStatus)) return status;
    await new Promise((resolve) => setTimeout(resolve, 3));
    await t.clock.advance(step);
  }
  throw new Error(`instance ${instanceId} did not finish after ${maxSteps} steps of ${step}`);
}

/** The raw DTFx history of the instance's current execution, straight from the store. */
export async function rawHistory(store: DurableStore, instanceId: string): Promise<HistoryEvent[]> {
  const record = await store.getInstance(instanceId);
  if (!record) throw new Error(`no instance ${instanceId} in the store`);
  return store.readHistory(instanceId, record.executionId);
}
