import { appConfig, type AppConfig } from '../config';
import { openRpoStores, type RpoStores } from '../tables/stores';
import { tableStorageSettingsFromConfig } from '../tables/tableClients';
import type { PolicyDocument } from '../tables/policyStore';

/**
 * RPO's Table stores for this process, from the app settings (lib/config): opened once, tables created on
 * first use. Functions call {@link appStores}; tests and tools pass their own config.
 */
const opened = new Map<string, Promise<RpoStores<PolicyDocument>>>();

export function storesFor<P extends PolicyDocument = PolicyDocument>(config: AppConfig): Promise<RpoStores<P>> {
  const key = String(config.storage);
  let stores = opened.get(key);
  if (stores === undefined) {
    stores = openRpoStores(tableStorageSettingsFromConfig(config.storage));
    opened.set(key, stores);
    // A failed open (storage not up yet) must not be remembered.
    stores.catch(() => opened.delete(key));
  }
  return stores as unknown as Promise<RpoStores<P>>;
}

export function appStores<P extends PolicyDocument = PolicyDocument>(): Promise<RpoStores<P>> {
  return storesFor<P>(appConfig());
}
