/**
 * Loads a Functions app folder the way the Node worker does (startApp.ts): app settings into the
 * environment, the `@azure/functions-core` shim, the package.json `main` files in order, then the
 * appStart hooks; registrations are captured and indexing is locked.
 */
import { readFileSync, existsSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureError } from '../../../lib/errors';
import { activateRegistry, installCoreApi, setSystemLog } from '../core/coreApi';
import { fromTypedData, InvocationError, InvocationPipeline, type InvocationRequest } from '../core/invoke';
import { FunctionRegistry, type RegisteredFunction } from '../core/registry';
import type { RpcTypedData } from '../core/rpcTypes';
import type { DurableFunctionInvoker } from '../durable';
import { createConsoleLogger, fromRpcLevel, type HostLogger } from '../log';
import { globFiles, hasMagic } from './glob';
import {
  applyEnvironment,
  readHostSettings,
  readLocalSettings,
  type HostSettings,
  type LocalSettings,
} from './settings';

/** How long a stopping host waits for running invocations (the Functions host drains too, for longer). */
export const DRAIN_TIMEOUT_MS = 30_000;

export interface LoadFunctionsAppOptions {
  /** Environment variables for the app; they win over local.settings.json Values. */
  env?: Record<string, string>;
  logger?: HostLogger;
  quiet?: boolean;
}

export interface LoadedFunctionsApp {
  appDir: string;
  hostSettings: HostSettings;
  localSettings: LocalSettings;
  registry: FunctionRegistry;
  /** The files loaded from the package.json `main` glob, relative to appDir. */
  files: string[];
  functions: RegisteredFunction[];
  getFunction(name: string): RegisteredFunction | undefined;
  invoke(fn: RegisteredFunction, request: InvocationRequest): ReturnType<InvocationPipeline['invoke']>;
  /** Supplies data for input bindings of a type (e.g. `durableClient`). */
  setInputProvider: InvocationPipeline['setInputProvider'];
  /** The Durable engine's way into the app's orchestrations and activities. */
  invoker: DurableFunctionInvoker;
  /** Waits for running invocations (at most {@link DRAIN_TIMEOUT_MS}), runs the appTerminate hooks, restores the environment. */
  terminate(): Promise<void>;
}

/** The kind of Durable function a trigger type makes. */
export function durableKind(fn: RegisteredFunction): 'orchestration' | 'activity' | 'entity' | 'other' {
  switch (fn.trigger.type.toLowerCase()) {
    case 'orchestrationtrigger':
      return 'orchestration';
    case 'activitytrigger':
      return 'activity';
    case 'entitytrigger':
      return 'entity';
    default:
      return 'other';
  }
}

export async function loadFunctionsApp(
  appDirInput: string,
  options: LoadFunctionsAppOptions = {},
): Promise<LoadedFunctionsApp> {
  const appDir = path.resolve(appDirInput);
  const logger = options.logger ?? createConsoleLogger({ quiet: options.quiet ?? false });
  const packageFile = path.join(appDir, 'package.json');
  if (!existsSync(packageFile)) throw new Error(`${appDir} is not a Functions app folder: it has no package.json`);

  const localSettings = readLocalSettings(appDir);
  const restoreEnv = applyEnvironment(localSettings.values, options.env);
  try {
    const hostSettings = readHostSettings(appDir, process.env, (message) => logger.log('warn', message));
    const registry = new FunctionRegistry();
    installCoreApi();
    activateRegistry(registry);
    setSystemLog((level, category, message) => logger.log(fromRpcLevel(level), `[${category}] ${message}`));

    const files = entryPointFiles(appDir, packageFile, logger);
    forgetAppModules(appDir);
    const cachedBefore = new Set(Object.keys(requireCache()));
    try {
      for (const file of files) {
        registry.currentEntryPoint = path.join(appDir, file);
        try {
          await loadEntryPoint(appDir, registry.currentEntryPoint);
        } catch (thrown) {
          throw new Error(`Worker was unable to load entry point "${file}": ${ensureError(thrown).message}`, {
            cause: thrown,
          });
        }
      }
    } finally {
      registry.currentEntryPoint = undefined;
      rememberAppModules(appDir, cachedBefore);
    }
    applyFunctionsFilter(registry, hostSettings.functions);

    for (const hook of [...registry.hooks.appStart]) {
      await hook({
        hookData: registry.appLevelOnlyHookData,
        appHookData: registry.appHookData,
        functionAppDirectory: appDir,
      });
    }
    registry.lock();
    const capabilities = (await registry.programmingModel?.getCapabilities?.({})) ?? {};
    if (capabilities.HttpUri) {
      throw new Error('HTTP streaming (app.setup({ enableHttpStream: true })) is not supported by the local host');
    }

    const functions = registry.list();
    logger.log(
      'info',
      functions.length === 0
        ? `App ${appDir}: no functions registered (no entry file matched or none registered a function)`
        : `App ${appDir}: ${functions.length} function(s): ${functions.map((f) => `${f.name} [${f.trigger.type}]`).join(', ')}`,
    );

    const pipeline = new InvocationPipeline(registry, logger);
    const app: LoadedFunctionsApp = {
      appDir,
      hostSettings,
      localSettings,
      registry,
      files,
      functions,
      getFunction: (name) => registry.get(name),
      invoke: (fn, request) => pipeline.invoke(fn, request),
      setInputProvider: (type, provider) => pipeline.setInputProvider(type, provider),
      invoker: createDurableInvoker(registry, pipeline),
      async terminate() {
        const unfinished = await pipeline.drain(DRAIN_TIMEOUT_MS);
        if (unfinished > 0) logger.log('warn', `stopping with ${unfinished} invocation(s) still running`);
        try {
          for (const hook of [...registry.hooks.appTerminate]) {
            await hook({ hookData: registry.appLevelOnlyHookData, appHookData: registry.appHookData });
          }
        } finally {
          restoreEnv();
        }
      },
    };
    return app;
  } catch (error) {
    restoreEnv();
    throw error;
  }
}

function entryPointFiles(appDir: string, packageFile: string, logger: HostLogger): string[] {
  const pkg = JSON.parse(readFileSync(packageFile, 'utf8')) as { main?: unknown };
  if (pkg.main === undefined) {
    logger.log('warn', `${packageFile} has no "main": no function files to load`);
    return [];
  }
  if (typeof pkg.main !== 'string' || pkg.main === '') throw new Error(`${packageFile} "main" must be a string`);
  const files = globFiles(appDir, pkg.main);
  if (files.length === 0) {
    logger.log(
      'warn',
      hasMagic(pkg.main)
        ? `No file matches package.json main "${pkg.main}" in ${appDir} (not built yet?): starting with no functions`
        : `package.json main "${pkg.main}" does not exist in ${appDir}: starting with no functions`,
    );
  }
  return files;
}

const LIBRARIES = [`${path.sep}@azure${path.sep}functions${path.sep}`, `${path.sep}durable-functions${path.sep}`].map(
  (lib) => `${path.sep}node_modules${lib}`,
);

function requireCache(): Record<string, unknown> {
  return (Module as unknown as { _cache: Record<string, unknown> })._cache;
}

/** Modules each app folder brought into the require cache when it was last loaded. */
const appModules = new Map<string, string[]>();

/**
 * Drops the app's own modules from the require cache so that loading the app again re-registers,
 * and the Functions libraries too: `@azure/functions` keeps process-wide state (the setup lock, the
 * programming model flag) that must start fresh for every app, as it does in a new worker process.
 * Only modules the app itself loaded go: the host's own modules may live in the same folder tree.
 */
function forgetAppModules(appDir: string): void {
  const cache = requireCache();
  for (const key of appModules.get(appDir) ?? []) Reflect.deleteProperty(cache, key);
  for (const key of Object.keys(cache)) {
    if (LIBRARIES.some((lib) => key.includes(lib))) Reflect.deleteProperty(cache, key);
  }
}

/** Records the app-folder modules that appeared in the require cache while the app loaded. */
function rememberAppModules(appDir: string, before: Set<string>): void {
  const prefix = appDir + path.sep;
  const added = Object.keys(requireCache()).filter(
    (key) =>
      !before.has(key) && key.startsWith(prefix) && !key.slice(prefix.length).split(path.sep).includes('node_modules'),
  );
  appModules.set(appDir, added);
}

async function loadEntryPoint(appDir: string, file: string): Promise<void> {
  if (file.endsWith('.mjs') || (file.endsWith('.js') && packageType(appDir) === 'module')) {
    await import(pathToFileURL(file).href);
  } else {
    createRequire(path.join(appDir, 'package.json'))(file);
  }
}

function packageType(appDir: string): string | undefined {
  const pkg = JSON.parse(readFileSync(path.join(appDir, 'package.json'), 'utf8')) as { type?: string };
  return pkg.type;
}

function applyFunctionsFilter(registry: FunctionRegistry, names: string[] | undefined): void {
  if (!names) return;
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  for (const key of [...registry.functions.keys()]) if (!wanted.has(key)) registry.functions.delete(key);
}

function createDurableInvoker(registry: FunctionRegistry, pipeline: InvocationPipeline): DurableFunctionInvoker {
  const find = (name: string, kind: 'orchestration' | 'activity'): RegisteredFunction => {
    const fn = registry.get(name);
    if (!fn || durableKind(fn) !== kind) {
      throw new Error(`The function '${name}' doesn't exist, is disabled, or is not an ${kind} function.`);
    }
    return fn;
  };
  const run = async (fn: RegisteredFunction, data: RpcTypedData | undefined, reason: string): Promise<unknown> => {
    try {
      const result = await pipeline.invoke(fn, {
        inputData: data === undefined ? [] : [{ name: fn.trigger.name, data }],
        reason,
      });
      return fromTypedData(result.response.returnValue);
    } catch (error) {
      // The engine reads the handler's own error (e.g. the orchestrator's $OutOfProcData$ message).
      throw error instanceof InvocationError ? error.original : error;
    }
  };
  return {
    invokeOrchestrator: async (name, triggerJson) =>
      run(find(name, 'orchestration'), { string: triggerJson }, 'orchestrator episode'),
    invokeActivity: async (name, inputJson) =>
      run(find(name, 'activity'), inputJson === undefined ? undefined : { string: inputJson }, 'activity'),
    kindOf: (name) => {
      const fn = registry.get(name);
      return fn ? durableKind(fn) : undefined;
    },
  };
}
