import { TableClient, type TableServiceClientOptions } from '@azure/data-tables';
import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import type { StorageConfig } from '../config';
import { ValidationError } from '../validation';

/** Table names (DESIGN §3 and §5). Tests pass their own names to stay apart. */
export const TABLE_NAMES = {
  policies: 'RpoPolicies',
  outcomes: 'RpoOutcomes',
  runs: 'RpoRuns',
  state: 'RpoState',
  targets: 'RpoRunTargets',
} as const;
export type TableRole = keyof typeof TABLE_NAMES;

/**
 * Where the tables live: a connection string (`UseDevelopmentStorage=true` = Azurite on 127.0.0.1:10002), or
 * identity-based (Functions' `AzureWebJobsStorage__tableServiceUri` / `__accountName` + a token credential).
 */
export type TableStorageSettings =
  | { readonly kind: 'connectionString'; readonly connectionString: string }
  | { readonly kind: 'identity'; readonly tableServiceUri: string; readonly credential: TokenCredential };

/** Azure table names: 3-63 letters and digits, starting with a letter. */
const TABLE_NAME = /^[A-Za-z][A-Za-z0-9]{2,62}$/;

function settingsError(field: string, rule: string, message: string): ValidationError {
  return new ValidationError('storage settings', [{ field, rule, message }]);
}

/** Table settings from the parsed app config (`loadConfig().storage`): lib/config is the one reader of the storage settings. */
export function tableStorageSettingsFromConfig(
  storage: StorageConfig,
  makeCredential: (clientId: string | undefined) => TokenCredential = defaultCredential,
): TableStorageSettings {
  if (storage.kind === 'identity') {
    return { kind: 'identity', tableServiceUri: storage.tableEndpoint, credential: makeCredential(storage.clientId) };
  }
  return { kind: 'connectionString', connectionString: storage.connectionString };
}

function defaultCredential(clientId: string | undefined): TokenCredential {
  return clientId === undefined ? new DefaultAzureCredential() : new ManagedIdentityCredential({ clientId });
}

/** True for `http://` endpoints (Azurite): the SDK refuses to send credentials over http unless told. */
function isInsecureEndpoint(connectionString: string): boolean {
  if (/usedevelopmentstorage=true/i.test(connectionString)) return true;
  const endpoint = /(?:^|;)\s*TableEndpoint=([^;]*)/i.exec(connectionString)?.[1];
  if (endpoint !== undefined) return endpoint.trim().toLowerCase().startsWith('http://');
  return /(?:^|;)\s*DefaultEndpointsProtocol=http\s*(?:;|$)/i.test(connectionString);
}

/** A TableClient for one table; does not create it (see {@link ensureTable}). */
export function createTableClient(settings: TableStorageSettings, tableName: string): TableClient {
  if (!TABLE_NAME.test(tableName)) {
    throw settingsError(
      'tableName',
      'table-name',
      `must be 3-63 letters and digits starting with a letter, got ${JSON.stringify(tableName)}`,
    );
  }
  if (settings.kind === 'connectionString') {
    const options: TableServiceClientOptions = isInsecureEndpoint(settings.connectionString)
      ? { allowInsecureConnection: true }
      : {};
    return TableClient.fromConnectionString(settings.connectionString, tableName, options);
  }
  const insecure = settings.tableServiceUri.toLowerCase().startsWith('http://');
  return new TableClient(settings.tableServiceUri, tableName, settings.credential, {
    allowInsecureConnection: insecure,
  });
}

/** Creates the table if it is missing; an existing table (409 TableAlreadyExists) is fine. */
export async function ensureTable(client: TableClient): Promise<void> {
  try {
    await client.createTable();
  } catch (error) {
    if (statusOf(error) !== 409) throw error;
  }
}

/** Opens (and creates if needed) RPO's tables. */
export async function openRpoTables(
  settings: TableStorageSettings,
  names: Partial<Record<TableRole, string>> = {},
): Promise<Record<TableRole, TableClient>> {
  const clients = Object.fromEntries(
    (Object.keys(TABLE_NAMES) as TableRole[]).map((role) => [
      role,
      createTableClient(settings, names[role] ?? TABLE_NAMES[role]),
    ]),
  ) as Record<TableRole, TableClient>;
  await Promise.all(Object.values(clients).map(ensureTable));
  return clients;
}

/** HTTP status of a RestError-like value, if any. */
export function statusOf(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'statusCode' in error) {
    const status = (error as { statusCode?: unknown }).statusCode;
    return typeof status === 'number' ? status : undefined;
  }
  return undefined;
}
