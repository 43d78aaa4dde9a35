import {
  HOOK_NAMES,
  type FunctionCallback,
  type FunctionMetadata,
  type HookCallback,
  type HookName,
  type ProgrammingModel,
  type RpcBindingInfo,
} from './rpcTypes';

/** Mirrors the worker's `Disposable` (types-core): what registerFunction / registerHook return. */
export class Disposable {
  #callOnDispose: (() => unknown) | undefined;

  constructor(callOnDispose: () => unknown) {
    this.#callOnDispose = callOnDispose;
  }

  static from(...disposableLikes: { dispose: () => unknown }[]): Disposable {
    return new Disposable(() => {
      for (const d of disposableLikes) d.dispose();
    });
  }

  dispose(): void {
    const call = this.#callOnDispose;
    this.#callOnDispose = undefined;
    call?.();
  }
}

/** A binding as registered, with its (hash-generated) name made explicit. */
export type NamedBinding = RpcBindingInfo & { name: string; type: string };

export interface RegisteredFunction {
  name: string;
  metadata: FunctionMetadata;
  /** What the worker would send to the host: one JSON line per binding, including its name. */
  rawBindings: string[];
  callback: FunctionCallback;
  trigger: NamedBinding;
  /** The app file that was loading when the function registered (best guess, as the worker does). */
  scriptFile: string | undefined;
}

/** Error thrown for registration misuse, shaped like the worker's system errors. */
export class HostSystemError extends Error {
  readonly isAzureFunctionsSystemError = true;
}

/** Everything one app registered: functions by case-insensitive name, hooks by kind, shared hook data. */
export class FunctionRegistry {
  readonly functions = new Map<string, RegisteredFunction>();
  readonly hooks: Record<HookName, HookCallback[]> = {
    preInvocation: [],
    postInvocation: [],
    appStart: [],
    appTerminate: [],
    log: [],
  };
  /** Shared by every hook of the app (the worker's `appHookData`). */
  readonly appHookData: Record<string, unknown> = {};
  /** `hookData` of the app-level hooks: what appStart stores, appTerminate sees. */
  readonly appLevelOnlyHookData: Record<string, unknown> = {};
  currentEntryPoint: string | undefined;
  /** Set by the app's `@azure/functions` through setProgrammingModel. */
  programmingModel: ProgrammingModel | undefined;
  private locked = false;

  lock(): void {
    this.locked = true;
  }

  registerFunction(metadata: FunctionMetadata, callback: FunctionCallback): Disposable {
    if (this.locked) throw new HostSystemError('A function can only be registered during app startup.');
    if (!metadata || typeof metadata.name !== 'string' || metadata.name === '') {
      throw new HostSystemError('registerFunction: metadata.name must be a non-empty string');
    }
    const key = metadata.name.toLowerCase();
    if (this.functions.has(key)) {
      throw new HostSystemError(`Duplicate function name "${metadata.name}": function names must be unique in an app`);
    }
    const bindings = Object.entries(metadata.bindings ?? {}).map(([name, binding]) => ({
      ...binding,
      name,
      type: String(binding.type ?? ''),
    }));
    const trigger = bindings.find((b) => b.direction === 'in' && /trigger$/i.test(b.type));
    if (!trigger) throw new HostSystemError(`Function "${metadata.name}" has no trigger binding`);
    this.functions.set(key, {
      name: metadata.name,
      metadata,
      rawBindings: bindings.map((b) => JSON.stringify(b)),
      callback,
      trigger,
      scriptFile: this.currentEntryPoint,
    });
    return new Disposable(() => {
      if (this.locked) throw new HostSystemError('A function can only be disposed during app startup.');
      this.functions.delete(key);
    });
  }

  registerHook(hookName: string, callback: HookCallback): Disposable {
    if (!isHookName(hookName)) {
      const error = new RangeError(`Unrecognized hook "${hookName}"`) as RangeError & {
        isAzureFunctionsSystemError: boolean;
      };
      error.isAzureFunctionsSystemError = true;
      throw error;
    }
    if (typeof callback !== 'function') throw new HostSystemError(`Hook "${hookName}" needs a function callback`);
    const list = this.hooks[hookName];
    list.push(callback);
    return new Disposable(() => {
      const index = list.indexOf(callback);
      if (index >= 0) list.splice(index, 1);
    });
  }

  /** Case-insensitive, as the host and the Durable extension compare function names. */
  get(name: string): RegisteredFunction | undefined {
    return this.functions.get(name.toLowerCase());
  }

  list(): RegisteredFunction[] {
    return [...this.functions.values()];
  }
}

function isHookName(name: string): name is HookName {
  return (HOOK_NAMES as readonly string[]).includes(name);
}

/** Bindings of a function other than its trigger, by type (names are hashes: never look them up by name). */
export function bindingsOfType(fn: RegisteredFunction, type: string, direction: 'in' | 'out' = 'in'): NamedBinding[] {
  const wanted = type.toLowerCase();
  return Object.entries(fn.metadata.bindings)
    .filter(([, b]) => String(b.type ?? '').toLowerCase() === wanted && b.direction === direction)
    .map(([name, b]) => ({ ...b, name, type: String(b.type) }));
}
