/**
 * The Durable part of the local host (issue #4): the engine, its stores and the Durable HTTP API,
 * behind the seam the worker side (local/host) uses.
 */
import type { Clock } from '../../clock';
import { DurableEngine, type DurableFunctionInvoker, type DurableLogLevel } from './engine';
import { DurableHttpApi, clientBindingData, statusPayload } from './httpApi';
import type { DurableStore } from './store';

export type { DurableFunctionInvoker } from './engine';
export type { DurableStore, InstanceRecord, InboxMessage } from './store';
export { createMemoryStore } from './store';
export { createTableStore } from './tableStore';

export interface DurableRuntimeOptions {
  store: DurableStore;
  clock: Clock;
  invoker: DurableFunctionInvoker;
  hubName: string;
  /** Origin the host listens on, e.g. `http://127.0.0.1:7071` (read at call time: the port may be chosen late). */
  baseUrl: () => string;
  maxConcurrentActivityFunctions: number;
  maxConcurrentOrchestratorFunctions: number;
  log: (level: DurableLogLevel, message: string) => void;
}

export interface DurableRuntime {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The `durableClient` input binding's data (JSON text). */
  clientBindingData(): string;
  /** Serves the Durable HTTP API; undefined when the path is not a Durable route. */
  handleHttp(req: {
    method: string;
    url: URL;
    headers: Record<string, string>;
    body: string;
  }): Promise<{ status: number; headers: Record<string, string>; body: string } | undefined>;
  /** Resolves with the status payload (§6.3) once the instance is Completed, Failed, Terminated or Canceled. */
  waitForInstance(instanceId: string, options?: { timeoutMs?: number }): Promise<unknown>;
}

export function createDurableRuntime(options: DurableRuntimeOptions): DurableRuntime {
  const engine = new DurableEngine(options);
  const api = new DurableHttpApi(engine, options.invoker, options.hubName, () => trimSlash(options.baseUrl()));
  return {
    start: () => engine.start(),
    stop: () => engine.stop(),
    clientBindingData: () => clientBindingData(options.hubName, trimSlash(options.baseUrl())),
    handleHttp: (req) => api.handle(req),
    waitForInstance: async (instanceId, waitOptions) =>
      statusPayload(await engine.waitForFinish(instanceId, waitOptions?.timeoutMs ?? 60_000)),
  };
}

function trimSlash(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}
