/** Which storage the host uses: the Durable store and the timer schedule status, in memory or on Azurite. */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { azuriteConnectionString, DEFAULT_AZURITE_PORTS } from '../azurite';
import { createMemoryStore, createTableStore, type DurableStore } from './durable';
import type { LoadedFunctionsApp } from './load/appLoader';
import { memoryTimerStatusStore, tableTimerStatusStore, type TimerStatusStore } from './triggers/timerStatus';

export interface StorageOptions {
  store?: 'memory' | 'azurite';
  connectionString?: string;
}

/** The storage account's connection string for `azurite`: the option, else the app's AzureWebJobsStorage. */
function connectionStringOf(options: StorageOptions): string {
  const setting = options.connectionString ?? process.env.AzureWebJobsStorage;
  if (!setting) throw new Error('store "azurite" needs connectionString or the AzureWebJobsStorage app setting');
  return resolveStorageConnection(setting);
}

export function createDurableStore(app: LoadedFunctionsApp, options: StorageOptions): Promise<DurableStore> {
  return options.store === 'azurite'
    ? createTableStore(connectionStringOf(options), app.hostSettings.hubName)
    : Promise.resolve(createMemoryStore());
}

/** Where monitored timers keep their schedule status: the app's storage with `azurite`, else this process. */
export async function timerStatusStore(
  app: LoadedFunctionsApp,
  options: StorageOptions,
): Promise<TimerStatusStore | undefined> {
  if (!app.functions.some((fn) => fn.trigger.type.toLowerCase() === 'timertrigger')) return undefined;
  // The worker's host id stands in for Azure's site name: the folder name plus a hash of its path.
  const hostId = `${path.basename(app.appDir).toLowerCase()}-${createHash('sha256').update(app.appDir).digest('hex').slice(0, 8)}`;
  if (options.store !== 'azurite') return memoryTimerStatusStore(hostId);
  return tableTimerStatusStore(connectionStringOf(options), hostId);
}

/** `UseDevelopmentStorage=true` means Azurite (or the old emulator) on its default loopback ports. */
export function resolveStorageConnection(value: string): string {
  return /^\s*UseDevelopmentStorage\s*=\s*true\s*;?\s*$/i.test(value)
    ? azuriteConnectionString(DEFAULT_AZURITE_PORTS)
    : value;
}
