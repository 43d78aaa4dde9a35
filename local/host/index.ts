/** Public API of the local Functions + Durable host (DESIGN §6). */
export { resolveStorageConnection } from './storage';
export {
  startHost,
  DEFAULT_PORT,
  DEFAULT_HOSTNAME,
  type StartHostOptions,
  type FunctionsHost,
  type HttpResult,
  type EventSchema,
} from './host';
export { loadFunctionsApp, durableKind, type LoadedFunctionsApp, type LoadFunctionsAppOptions } from './load/appLoader';
export type { InvocationResult } from './core/invoke';
export { InvocationError } from './core/invoke';
export type { RegisteredFunction } from './core/registry';
export { createConsoleLogger, type HostLogger, type HostLogLevel } from './log';
