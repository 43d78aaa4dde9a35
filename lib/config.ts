/**
 * App settings (DESIGN §6 "Configuration"), parsed once into a frozen AppConfig. Every problem is reported
 * at once, each naming the setting and the rule; values are never echoed (they may be secrets).
 * Operator notes: docs/configuration.md.
 */
import { inspect } from 'node:util';
import { redactSecrets } from './redact';
import { ValidationError, type ValidationIssue } from './validation';

export const DEFAULT_ARM_ENDPOINT = 'https://management.azure.com';
/** Azurite's default table endpoint, what `UseDevelopmentStorage=true` means. */
export const DEVELOPMENT_TABLE_ENDPOINT = 'http://127.0.0.1:10002/devstoreaccount1';

export type StorageConfig =
  | {
      /** A connection string with a key or a SAS. `connectionString` is non-enumerable and redacted in JSON. */
      readonly kind: 'connectionString';
      readonly connectionString: string;
      readonly accountName: string | undefined;
      readonly tableEndpoint: string;
      /** JSON of the config with the connection string redacted. */
      toString(): string;
    }
  | {
      /** `UseDevelopmentStorage=true`: Azurite on its default ports. */
      readonly kind: 'development';
      readonly connectionString: string;
      readonly accountName: 'devstoreaccount1';
      readonly tableEndpoint: string;
      toString(): string;
    }
  | {
      /** Identity-based connection (`AzureWebJobsStorage__accountName` / `__tableServiceUri`): no secret at all. */
      readonly kind: 'identity';
      readonly accountName: string | undefined;
      readonly tableEndpoint: string;
      /** `AzureWebJobsStorage__clientId`: a user-assigned identity for storage only. */
      readonly clientId: string | undefined;
      toString(): string;
    };

export interface AppConfig {
  readonly storage: StorageConfig;
  /** Base URL of Azure Resource Manager, no trailing slash. */
  readonly armEndpoint: string;
  /** Policy files or globs, in the order given; empty when unset. */
  readonly policyFiles: readonly string[];
  /** Event Grid topic for outcome events; undefined disables them. */
  readonly eventsTopicEndpoint: string | undefined;
  /** User-assigned managed identity; undefined means the system-assigned identity. */
  readonly managedIdentityClientId: string | undefined;
  /** How much faster than real time the local clock runs (1 in Azure). */
  readonly clockScale: number;
  /** Local only: the epoch-ms instant from which scaled time runs (`RPO_CLOCK_ORIGIN`), so every process agrees. */
  readonly clockOriginMs: number | undefined;
  /** Local only: a PEM file of extra CAs to trust for `RPO_ARM_ENDPOINT` (the Compute emulator's CA). */
  readonly armCaFile: string | undefined;
  /** Durable task hub name (host.json `hubName: %RPO_TASK_HUB%`). */
  readonly taskHub: string | undefined;
}

type Env = Readonly<Record<string, string | undefined>>;

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** Durable Functions (Azure Storage provider): 3-45 characters, letters and digits, starting with a letter. */
const TASK_HUB = /^[A-Za-z][A-Za-z0-9]{2,44}$/;
/** Storage account names: 3-24 lower-case letters and digits. */
const STORAGE_ACCOUNT = /^[a-z0-9]{3,24}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Parses app settings. Throws a ValidationError listing every bad setting; never includes a setting's value. */
export function loadConfig(env: Env = process.env): AppConfig {
  const issues: ValidationIssue[] = [];
  const problem = (field: string, rule: string, message: string) => {
    issues.push({ field, rule, message });
    return undefined;
  };
  const setting = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };

  const storage = parseStorage(setting, problem);
  const armEndpoint = parseHttpsUrl('RPO_ARM_ENDPOINT', setting('RPO_ARM_ENDPOINT') ?? DEFAULT_ARM_ENDPOINT, problem, {
    allowPath: false,
  });
  const policyFiles = parsePolicyFiles(setting('RPO_POLICY_FILES'), problem);
  const topic = setting('RPO_EVENTS_TOPIC_ENDPOINT');
  const eventsTopicEndpoint =
    topic === undefined ? undefined : parseHttpsUrl('RPO_EVENTS_TOPIC_ENDPOINT', topic, problem, { allowPath: true });

  const clientId = setting('AZURE_CLIENT_ID');
  if (clientId !== undefined && !GUID.test(clientId)) {
    problem('AZURE_CLIENT_ID', 'guid', 'must be the client id (a GUID) of the user-assigned managed identity');
  }

  const rawScale = setting('RPO_CLOCK_SCALE');
  // Decimal only: Number() would also read "0x10" or "1e3", which nobody means as a clock speed.
  const clockScale = rawScale === undefined ? 1 : /^\d+(\.\d+)?$/.test(rawScale) ? Number(rawScale) : NaN;
  if (!Number.isFinite(clockScale) || clockScale <= 0) {
    problem('RPO_CLOCK_SCALE', 'positive-number', 'must be a number > 0 (1 = real time, 3600 = an hour a second)');
  }

  const rawOrigin = setting('RPO_CLOCK_ORIGIN');
  const clockOriginMs = rawOrigin === undefined ? undefined : /^\d{1,16}$/.test(rawOrigin) ? Number(rawOrigin) : NaN;
  if (clockOriginMs !== undefined && !(Number.isSafeInteger(clockOriginMs) && clockOriginMs > 0)) {
    problem('RPO_CLOCK_ORIGIN', 'epoch-ms', 'must be an instant in epoch milliseconds (digits only)');
  }
  const armCaFile = setting('RPO_ARM_CA_FILE');

  const taskHub = setting('RPO_TASK_HUB');
  if (taskHub !== undefined && !TASK_HUB.test(taskHub)) {
    problem('RPO_TASK_HUB', 'task-hub-name', 'must be 3-45 letters and digits, starting with a letter');
  }

  if (issues.length > 0 || storage === undefined || armEndpoint === undefined) {
    throw new ValidationError('configuration', issues);
  }
  const config: AppConfig = {
    storage,
    armEndpoint,
    policyFiles: Object.freeze(policyFiles),
    eventsTopicEndpoint,
    managedIdentityClientId: clientId?.toLowerCase(),
    clockScale,
    clockOriginMs,
    armCaFile,
    taskHub,
  };
  return Object.freeze(config);
}

let cached: AppConfig | undefined;

/** The configuration of this process, parsed from `process.env` on first use. */
export function appConfig(): AppConfig {
  cached ??= loadConfig(process.env);
  return cached;
}

type Problem = (field: string, rule: string, message: string) => undefined;

function parseStorage(setting: (name: string) => string | undefined, problem: Problem): StorageConfig | undefined {
  const connection = setting('AzureWebJobsStorage');
  // As the Functions host does: a value on AzureWebJobsStorage itself is a connection string and wins.
  if (connection !== undefined) return parseConnectionString(connection, problem);

  const accountName = setting('AzureWebJobsStorage__accountName');
  const tableServiceUri = setting('AzureWebJobsStorage__tableServiceUri');
  if (accountName === undefined && tableServiceUri === undefined) {
    return problem(
      'AzureWebJobsStorage',
      'required',
      'is required: a storage connection string, UseDevelopmentStorage=true, or identity-based settings ' +
        'AzureWebJobsStorage__accountName / AzureWebJobsStorage__tableServiceUri',
    );
  }
  let ok = true;
  if (accountName !== undefined && !STORAGE_ACCOUNT.test(accountName)) {
    ok = false;
    problem('AzureWebJobsStorage__accountName', 'storage-account-name', 'must be 3-24 lower-case letters and digits');
  }
  const tableEndpoint =
    tableServiceUri === undefined
      ? `https://${accountName ?? ''}.table.core.windows.net`
      : parseHttpsUrl('AzureWebJobsStorage__tableServiceUri', tableServiceUri, problem, { allowPath: true });
  const credential = setting('AzureWebJobsStorage__credential');
  if (credential !== undefined && credential.toLowerCase() !== 'managedidentity') {
    ok = false;
    problem('AzureWebJobsStorage__credential', 'allowed-values', 'must be "managedidentity" when set');
  }
  const clientId = setting('AzureWebJobsStorage__clientId');
  if (clientId !== undefined && !GUID.test(clientId)) {
    ok = false;
    problem(
      'AzureWebJobsStorage__clientId',
      'guid',
      'must be the client id (a GUID) of a user-assigned managed identity',
    );
  }
  if (!ok || tableEndpoint === undefined) return undefined;
  const identity = { kind: 'identity' as const, accountName, tableEndpoint, clientId: clientId?.toLowerCase() };
  Object.defineProperty(identity, 'toString', { value: () => JSON.stringify(identity), enumerable: false });
  return Object.freeze(identity as typeof identity & { toString(): string });
}

function parseConnectionString(value: string, problem: Problem): StorageConfig | undefined {
  const field = 'AzureWebJobsStorage';
  const parts = new Map<string, string>();
  for (const segment of value.split(';')) {
    if (segment.trim() === '') continue;
    const eq = segment.indexOf('=');
    if (eq <= 0) return problem(field, 'connection-string', 'must be "Key=Value" pairs separated by ";"');
    parts.set(segment.slice(0, eq).trim().toLowerCase(), segment.slice(eq + 1).trim());
  }

  if (parts.has('usedevelopmentstorage')) {
    if (parts.get('usedevelopmentstorage')?.toLowerCase() !== 'true') {
      return problem(field, 'connection-string', 'UseDevelopmentStorage must be "true" when present');
    }
    return secretBearing({
      kind: 'development' as const,
      connectionString: value,
      accountName: 'devstoreaccount1' as const,
      tableEndpoint: DEVELOPMENT_TABLE_ENDPOINT,
    });
  }

  const accountName = parts.get('accountname');
  const accountKey = parts.get('accountkey');
  const sas = parts.get('sharedaccesssignature');
  const protocol = (parts.get('defaultendpointsprotocol') ?? 'https').toLowerCase();
  if (protocol !== 'https' && protocol !== 'http') {
    return problem(field, 'connection-string', 'DefaultEndpointsProtocol must be "https" or "http"');
  }
  if (accountKey === undefined && sas === undefined) {
    return problem(
      field,
      'connection-string',
      'must hold AccountName and AccountKey, a SharedAccessSignature, or be UseDevelopmentStorage=true',
    );
  }
  if (accountKey !== undefined && (accountName === undefined || !BASE64.test(accountKey))) {
    return problem(field, 'connection-string', 'AccountKey needs an AccountName and must be base64');
  }
  const explicitTable = parts.get('tableendpoint');
  let tableEndpoint: string | undefined;
  if (explicitTable !== undefined) {
    tableEndpoint = parseUrl(explicitTable);
    if (tableEndpoint === undefined) return problem(field, 'connection-string', 'TableEndpoint must be an http(s) URL');
  } else if (accountName !== undefined) {
    tableEndpoint = `${protocol}://${accountName}.table.${parts.get('endpointsuffix') ?? 'core.windows.net'}`;
  } else {
    return problem(field, 'connection-string', 'a SharedAccessSignature needs a TableEndpoint or an AccountName');
  }
  return secretBearing({ kind: 'connectionString' as const, connectionString: value, accountName, tableEndpoint });
}

/**
 * Freezes a storage config whose connection string may hold a key or SAS: the string stays readable as a
 * property but is non-enumerable, and JSON, String() and util.inspect show a redacted copy.
 */
function secretBearing<T extends { connectionString: string }>(config: T): T & { toString(): string } {
  const { connectionString, ...visible } = config;
  const redacted = { ...visible, connectionString: redactConnectionString(connectionString) };
  const target = { ...visible } as T;
  Object.defineProperty(target, 'connectionString', { value: connectionString, enumerable: false });
  Object.defineProperty(target, 'toJSON', { value: () => redacted, enumerable: false });
  Object.defineProperty(target, 'toString', { value: () => JSON.stringify(redacted), enumerable: false });
  Object.defineProperty(target, inspect.custom, { value: () => redacted, enumerable: false });
  return Object.freeze(target);
}

/** Keeps account names and endpoints, drops keys and signatures. */
export function redactConnectionString(connectionString: string): string {
  return redactSecrets(connectionString).replace(/(SharedAccessSignature=)[^;]*/gi, '$1<redacted>');
}

function parseHttpsUrl(
  field: string,
  value: string,
  problem: Problem,
  options: { allowPath: boolean },
): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return problem(field, 'https-url', 'must be an absolute https:// URL');
  }
  if (url.protocol !== 'https:') {
    return problem(field, 'https-url', 'must be an https:// URL (bearer tokens are never sent over plain http)');
  }
  if (url.username !== '' || url.password !== '')
    return problem(field, 'https-url', 'must not contain user credentials');
  if (url.search !== '' || url.hash !== '')
    return problem(field, 'https-url', 'must not have a query string or fragment');
  if (!options.allowPath && url.pathname !== '/') return problem(field, 'https-url', 'must not have a path');
  return url.href.replace(/\/+$/, '');
}

function parseUrl(value: string): string | undefined {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href.replace(/\/+$/, '') : undefined;
  } catch {
    return undefined;
  }
}

function parsePolicyFiles(value: string | undefined, problem: Problem): string[] {
  if (value === undefined) return [];
  const entries = value.split(',').map((entry) => entry.trim());
  // eslint-disable-next-line no-control-regex
  if (entries.some((e) => /[\x00-\x1f]/.test(e))) {
    problem('RPO_POLICY_FILES', 'paths', 'must not contain control characters');
    return [];
  }
  if (entries.some((e) => e === '')) {
    problem('RPO_POLICY_FILES', 'paths', 'must be comma-separated paths or globs without empty entries');
    return [];
  }
  return entries;
}
