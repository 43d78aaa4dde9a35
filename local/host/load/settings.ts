/** host.json and local.settings.json, read the way the Functions host and Core Tools read them. */
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';

export interface HostSettings {
  /** `extensions.http.routePrefix` (default `api`; empty = routes at the root). */
  routePrefix: string;
  /** `extensions.durableTask.hubName`, `%Setting%` resolved (default `TestHubName`). */
  hubName: string;
  maxConcurrentActivityFunctions: number;
  maxConcurrentOrchestratorFunctions: number;
  /** host.json `functions`: when present, only these functions are enabled. */
  functions: string[] | undefined;
}

export interface LocalSettings {
  values: Record<string, string>;
  /** `Host.LocalHttpPort`, if set. */
  localHttpPort: number | undefined;
}

function readJson(file: string): unknown {
  const text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${file}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objectAt(root: Record<string, unknown>, key: string, where: string): Record<string, unknown> {
  const value = root[key];
  if (value === undefined) return {};
  if (!isRecord(value)) throw new Error(`${where}.${key} must be an object`);
  return value;
}

function positiveInt(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new Error(`host.json ${field} must be an integer ≥ 1, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Resolves `%Name%` app-setting references (as the host does for binding and extension settings). */
export function resolveSettingReferences(text: string, env: NodeJS.ProcessEnv, field: string): string {
  return text.replace(/%([^%]+)%/g, (_, name: string) => {
    const value = env[name];
    if (value === undefined) throw new Error(`${field}: app setting "${name}" referenced as %${name}% is not set`);
    return value;
  });
}

export const DEFAULT_HUB_NAME = 'TestHubName';

export function readHostSettings(
  appDir: string,
  env: NodeJS.ProcessEnv = process.env,
  warn: (message: string) => void = () => undefined,
): HostSettings {
  const file = path.join(appDir, 'host.json');
  const json = existsSync(file) ? readJson(file) : {};
  if (!isRecord(json)) throw new Error(`${file}: must hold a JSON object`);
  const extensions = objectAt(json, 'extensions', 'host.json');
  const http = objectAt(extensions, 'http', 'host.json extensions');
  const durable = objectAt(extensions, 'durableTask', 'host.json extensions');

  const prefix = http.routePrefix ?? 'api';
  if (typeof prefix !== 'string') throw new Error('host.json extensions.http.routePrefix must be a string');
  const hub = durable.hubName ?? DEFAULT_HUB_NAME;
  if (typeof hub !== 'string' || hub === '') {
    throw new Error('host.json extensions.durableTask.hubName must be a non-empty string');
  }
  const functions = json.functions;
  if (functions !== undefined && (!Array.isArray(functions) || !functions.every((f) => typeof f === 'string'))) {
    throw new Error('host.json functions must be an array of function names');
  }
  const defaultConcurrency = 10 * Math.max(1, cpus().length);
  return {
    routePrefix: prefix.replace(/^\/+|\/+$/g, ''),
    hubName: resolveHubName(hub, env, warn),
    maxConcurrentActivityFunctions: positiveInt(
      durable.maxConcurrentActivityFunctions,
      'extensions.durableTask.maxConcurrentActivityFunctions',
      defaultConcurrency,
    ),
    maxConcurrentOrchestratorFunctions: positiveInt(
      durable.maxConcurrentOrchestratorFunctions,
      'extensions.durableTask.maxConcurrentOrchestratorFunctions',
      defaultConcurrency,
    ),
    functions,
  };
}

/** An unset `%Setting%` hub name falls back to the local default hub, as the Durable extension does. */
function resolveHubName(hub: string, env: NodeJS.ProcessEnv, warn: (message: string) => void): string {
  try {
    return resolveSettingReferences(hub, env, 'host.json extensions.durableTask.hubName');
  } catch (error) {
    warn(`${(error as Error).message}: using the hub name ${DEFAULT_HUB_NAME}`);
    return DEFAULT_HUB_NAME;
  }
}

export function readLocalSettings(appDir: string): LocalSettings {
  const file = path.join(appDir, 'local.settings.json');
  if (!existsSync(file)) return { values: {}, localHttpPort: undefined };
  const json = readJson(file);
  if (!isRecord(json)) throw new Error(`${file}: must hold a JSON object`);
  const rawValues = objectAt(json, 'Values', 'local.settings.json');
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(rawValues)) {
    if (typeof value === 'string') values[key] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') values[key] = String(value);
    else if (value !== null) throw new Error(`local.settings.json Values.${key} must be a string`);
  }
  const hostSection = objectAt(json, 'Host', 'local.settings.json');
  const port = hostSection.LocalHttpPort;
  if (port !== undefined && (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535)) {
    throw new Error('local.settings.json Host.LocalHttpPort must be an integer port (0-65535)');
  }
  return { values, localHttpPort: port };
}

/**
 * Applies app settings to process.env as Core Tools does: `Values` never override a variable that
 * is already set; `overrides` (the caller's explicit env) always win. Returns an undo function.
 */
export function applyEnvironment(values: Record<string, string>, overrides: Record<string, string> = {}): () => void {
  const previous = new Map<string, string | undefined>();
  const set = (key: string, value: string): void => {
    if (!previous.has(key)) previous.set(key, process.env[key]);
    process.env[key] = value;
  };
  for (const [key, value] of Object.entries(overrides)) set(key, value);
  for (const [key, value] of Object.entries(values)) {
    if (process.env[key] === undefined) set(key, value);
  }
  return () => {
    for (const [key, value] of previous) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}
