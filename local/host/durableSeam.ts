/**
 * TEMPORARY copy of the types that local/host/durable/index.ts exports (the seam between the host and
 * the Durable engine). Replaced by imports from './durable' as soon as that module lands.
 */
import type { Clock } from '../clock';

export interface DurableFunctionInvoker {
  /** Invokes an orchestration with the orchestrator trigger JSON; resolves to the library's returnValue. */
  invokeOrchestrator(functionName: string, triggerJson: string): Promise<unknown>;
  /** Invokes an activity; `inputJson` is the JSON text of its input; resolves to the returnValue. */
  invokeActivity(functionName: string, inputJson: string | undefined): Promise<unknown>;
  kindOf(functionName: string): 'orchestration' | 'activity' | 'entity' | 'other' | undefined;
}

export type DurableStore = object;

export interface DurableRuntimeOptions {
  store: DurableStore;
  clock: Clock;
  invoker: DurableFunctionInvoker;
  hubName: string;
  baseUrl: () => string;
  maxConcurrentActivityFunctions: number;
  maxConcurrentOrchestratorFunctions: number;
  log: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;
}

export interface DurableRuntime {
  start(): Promise<void>;
  stop(): Promise<void>;
  clientBindingData(): string;
  handleHttp(req: {
    method: string;
    url: URL;
    headers: Record<string, string>;
    body: string;
  }): Promise<{ status: number; headers: Record<string, string>; body: string } | undefined>;
  waitForInstance(instanceId: string, options?: { timeoutMs?: number }): Promise<unknown>;
}

export interface DurableModule {
  createDurableRuntime(options: DurableRuntimeOptions): DurableRuntime;
  createMemoryStore(): DurableStore;
  createTableStore(connectionString: string, hubName: string): Promise<DurableStore>;
}
