import { parseDuration } from '../clock';

/**
 * Compute resource-provider policies that CRP reports in `x-ms-ratelimit-remaining-resource`
 * (names from live recordings, docs/azure-api.md §6). Azure documents neither their limits nor
 * their windows, so each is configurable: counted and reported always, enforced (429 with CRP's
 * throttle body) only when `enforce` is set. Counting is a fixed window per key: it opens at the
 * first counted request and closes `windowMs` later (Retry-After names the time until it closes).
 *
 * The documented per-VM limits (3 restore point PUTs per VM per hour per mode, 3 copies per target
 * collection per hour) are not here: they are sliding windows, set by `computeThrottling`,
 * `restorePointPutsPerVmPerHourPerMode` and `copiesPerTargetCollectionPerHour`.
 */
export interface ComputePolicySetting {
  /** Requests allowed per window and key. */
  limit: number;
  windowMs: number;
  /** Refuse requests beyond `limit` with 429; otherwise count and report only. */
  enforce: boolean;
}

const MINUTE = 60_000;

/** Defaults: the (invented) limits the emulator always reported, chosen so that the recorded remaining counts appear after one call. */
const DEFAULTS = {
  /** RestorePoints_Create (local and copy), per subscription. Recorded: 149. */
  PutRestorePointSubscriptionMaximum: { limit: 150, windowMs: MINUTE, enforce: false },
  /** RestorePoints_Create (local and copy), per target collection. Recorded: 5. */
  PutRestorePointResource: { limit: 6, windowMs: MINUTE, enforce: false },
  /** RestorePointCollections_CreateOrUpdate, per subscription. Recorded: 149. */
  PutRestorePointCollectionSubscriptionMaximum: { limit: 150, windowMs: MINUTE, enforce: false },
  /** RestorePointCollections_CreateOrUpdate, per collection. Recorded: 14. */
  PutRestorePointCollectionResource: { limit: 15, windowMs: MINUTE, enforce: false },
  /** RestorePoints_Delete, per subscription. Recorded: 359. */
  DeleteRestorePointSubscriptionMaximum: { limit: 360, windowMs: MINUTE, enforce: false },
  /** RestorePoints_Get and RestorePointCollections_Get, per subscription. Recorded: 599. */
  LowCostGetRestorePointSubscriptionMaximum: { limit: 600, windowMs: MINUTE, enforce: false },
  /** RestorePoints_Get and RestorePointCollections_Get, per resource. Recorded: 32. */
  LowCostGetResource: { limit: 33, windowMs: MINUTE, enforce: false },
  /** Compute operation-status GETs (Azure-AsyncOperation and Location URLs), per subscription. Recorded: 14999. */
  GetOperationSubscriptionMaximum: { limit: 15_000, windowMs: MINUTE, enforce: false },
  /** Compute operation-status GETs, per operation. Recorded: 59. */
  GetOperationResource: { limit: 60, windowMs: MINUTE, enforce: false },
} as const satisfies Record<string, ComputePolicySetting>;

export type ComputePolicyName = keyof typeof DEFAULTS;
export type ComputePolicies = Record<ComputePolicyName, ComputePolicySetting>;
/** What callers pass: any subset of the policies, any subset of their fields. */
export type ComputePolicyOverrides = { [Name in ComputePolicyName]?: Partial<ComputePolicySetting> };

export const COMPUTE_POLICY_NAMES = Object.freeze(Object.keys(DEFAULTS) as ComputePolicyName[]);

export const DEFAULT_COMPUTE_POLICIES: Readonly<ComputePolicies> = Object.freeze(
  Object.fromEntries(
    COMPUTE_POLICY_NAMES.map((name) => [name, Object.freeze({ ...DEFAULTS[name] })]),
  ) as ComputePolicies,
);

const FIELDS = new Set(['limit', 'windowMs', 'enforce']);

export function isComputePolicyName(name: string): name is ComputePolicyName {
  return Object.prototype.hasOwnProperty.call(DEFAULTS, name);
}

/**
 * `current` with `overrides` applied (policies and fields not named keep their values); validates
 * `overrides` as untrusted input: unknown policies and fields and bad values throw, naming them
 * under `where` (e.g. `simulation.computePolicies`).
 */
export function mergeComputePolicies(
  current: Readonly<ComputePolicies>,
  overrides: unknown,
  where = 'computePolicies',
): ComputePolicies {
  const result = Object.fromEntries(
    COMPUTE_POLICY_NAMES.map((name) => [name, { ...current[name] }]),
  ) as ComputePolicies;
  if (overrides === undefined) return result;
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
    throw new TypeError(`${where} must be an object { <policy>: { limit?, windowMs?, enforce? } }`);
  }
  for (const [name, value] of Object.entries(overrides)) {
    if (!isComputePolicyName(name)) {
      throw new TypeError(`${where}: unknown policy "${name}"; known: ${COMPUTE_POLICY_NAMES.join(', ')}`);
    }
    if (value === undefined) continue;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new TypeError(`${where}.${name} must be an object { limit?, windowMs?, enforce? }`);
    }
    const fields = value as Record<string, unknown>;
    const unknown = Object.keys(fields).filter((key) => !FIELDS.has(key));
    if (unknown.length > 0) {
      throw new TypeError(
        `${where}.${name}: unknown field ${unknown.map((k) => `"${k}"`).join(', ')}; allowed: ${[...FIELDS].join(', ')}`,
      );
    }
    const setting = result[name];
    if (fields.limit !== undefined) {
      if (typeof fields.limit !== 'number' || !Number.isInteger(fields.limit) || fields.limit < 0)
        throw new RangeError(`${where}.${name}.limit must be an integer ≥ 0`);
      setting.limit = fields.limit;
    }
    if (fields.windowMs !== undefined) {
      if (typeof fields.windowMs !== 'number' || !Number.isInteger(fields.windowMs) || fields.windowMs < 1)
        throw new RangeError(`${where}.${name}.windowMs must be an integer ≥ 1`);
      setting.windowMs = fields.windowMs;
    }
    if (fields.enforce !== undefined) {
      if (typeof fields.enforce !== 'boolean') throw new TypeError(`${where}.${name}.enforce must be true or false`);
      setting.enforce = fields.enforce;
    }
  }
  return result;
}

/**
 * The CLI form `<policy>=<limit>/<window>[:report]`, e.g. `PutRestorePointSubscriptionMaximum=20/60s`
 * (enforced) or `LowCostGetResource=5/1m:report` (counted and reported, not enforced).
 */
export function parseComputePolicyFlag(text: string): ComputePolicyOverrides {
  const match = /^([A-Za-z0-9]+)=(\d+)\/([^:]+)(?::(enforce|report))?$/.exec(text.trim());
  if (!match) {
    throw new RangeError(
      `"${text}" is not of the form <policy>=<limit>/<window>[:report], e.g. PutRestorePointSubscriptionMaximum=20/60s`,
    );
  }
  const [, name = '', limit = '', window = '', mode] = match;
  if (!isComputePolicyName(name))
    throw new RangeError(`unknown policy "${name}"; known: ${COMPUTE_POLICY_NAMES.join(', ')}`);
  let windowMs: number;
  try {
    windowMs = parseDuration(window);
  } catch (error) {
    throw new RangeError(`${name}: window ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  if (!Number.isInteger(windowMs) || windowMs < 1)
    throw new RangeError(`${name}: the window must be at least 1ms, got "${window}"`);
  return { [name]: { limit: Number(limit), windowMs, enforce: mode !== 'report' } };
}
