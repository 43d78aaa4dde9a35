/**
 * The `@azure/functions-core` module, provided the way the Node worker does it (setupCoreModule.ts):
 * `Module.prototype.require` is wrapped so that requiring that one name returns our object. The
 * library resolves it lazily on its first `app.*` call and caches it for the life of the process, so
 * the object is a process-wide singleton that forwards to the registry of the app being loaded.
 */
import Module from 'node:module';
import { Disposable, HostSystemError, type FunctionRegistry } from './registry';
import type {
  FunctionCallback,
  FunctionMetadata,
  HookCallback,
  ProgrammingModel,
  RpcLogCategory,
  RpcLogLevel,
} from './rpcTypes';

const CORE_MODULE = '@azure/functions-core';

interface ShimState {
  installed: boolean;
  /** The registry that receives registrations: the app loading now, else the one loaded last. */
  current: FunctionRegistry | undefined;
  /** The library calls setProgrammingModel once per process, so the model is process-wide too. */
  programmingModel: ProgrammingModel | undefined;
  /** Where coreApi.log writes outside any invocation. */
  systemLog: (level: RpcLogLevel, category: RpcLogCategory, message: string) => void;
}

// Kept on globalThis so that two copies of this module (e.g. test runners) still share one shim.
const STATE_KEY = Symbol.for('rpo.local.host.functionsCoreShim');
const globalSlot = globalThis as unknown as Record<symbol, ShimState | undefined>;
const state: ShimState = (globalSlot[STATE_KEY] ??= {
  installed: false,
  current: undefined,
  programmingModel: undefined,
  systemLog: (level, category, message) => console.log(`[${category}] ${level}: ${message}`),
});

function currentRegistry(action: string): FunctionRegistry {
  if (!state.current) throw new HostSystemError(`${action}: no function app is being loaded by the local host`);
  return state.current;
}

export const coreApi = {
  version: '3.10.1-rpo-localhost',
  get hostVersion(): string {
    return '4.1040.0.0';
  },
  registerFunction(metadata: FunctionMetadata, callback: FunctionCallback): Disposable {
    return currentRegistry('registerFunction').registerFunction(metadata, callback);
  },
  registerHook(hookName: string, callback: HookCallback): Disposable {
    return currentRegistry('registerHook').registerHook(hookName, callback);
  },
  setProgrammingModel(programmingModel: ProgrammingModel): void {
    state.programmingModel = programmingModel;
    // Each app keeps the model of its own library copy, so apps hosted side by side stay apart.
    if (state.current) state.current.programmingModel = programmingModel;
  },
  getProgrammingModel(): ProgrammingModel | undefined {
    return state.programmingModel;
  },
  log(level: RpcLogLevel, category: RpcLogCategory, message: string): void {
    state.systemLog(level, category, message);
  },
  Disposable,
};

/** Installs the require hook (idempotent). Must run before the app's first `app.*` call. */
export function installCoreApi(): void {
  if (state.installed) return;
  const proto = Module.prototype as unknown as { require: (id: string) => unknown };
  proto.require = new Proxy(proto.require, {
    apply(target, thisArg, argArray: unknown[]): unknown {
      return argArray[0] === CORE_MODULE ? coreApi : Reflect.apply(target, thisArg, argArray);
    },
  });
  state.installed = true;
}

/**
 * Makes `registry` the one that receives registrations and hooks from now on. The app about to load
 * sets its own programming model (with a fresh copy of the library), so the previous one is dropped.
 */
export function activateRegistry(registry: FunctionRegistry): void {
  state.current = registry;
  state.programmingModel = undefined;
}

export function setSystemLog(log: ShimState['systemLog']): void {
  state.systemLog = log;
}
