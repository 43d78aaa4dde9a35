import type { Clock } from '../clock';
import type { FaultInjector } from './faults';
import type { OperationRecord, OperationTracker } from './lro';
import type { SimulationSettings } from './simulation';
import type { ComputeStore } from './store';
import type { ComputePolicyName } from './computePolicies';

/** What every operation handler works with: state, time, operations, throttles. */
export interface EmulatorEnv {
  readonly store: ComputeStore;
  readonly clock: Clock;
  readonly settings: SimulationSettings;
  readonly operations: OperationTracker;
  /**
   * Counts this request against a CRP policy of `settings.computePolicies` under `key` (a lower-cased
   * subscription id or resource id); throws its 429 when the policy is enforced and exhausted. The
   * response (or error) gets the policy's `x-ms-ratelimit-remaining-resource` entry.
   */
  countPolicy(policy: ComputePolicyName, key: string): void;
  /** The same for a documented sliding-window policy (3 PUTs per VM per hour per mode, 3 copies per hour). */
  takeWindow(policy: string, key: string, limit: number, windowMs: number, enforce: boolean): void;
  readonly faults: FaultInjector;
  /** Tells the snapshot writer that state changed. */
  markChanged(): void;
  /** Members (lower-cased VM keys) of availability sets and scale sets, by lower-cased set id. */
  readonly setMembers: Map<string, Set<string>>;
  /** The fault to apply to the operation this request starts (fault phase 'operation'). */
  operationFault?: { code: string; message: string; status: number };
}

export function nowIso(env: EmulatorEnv): string {
  return new Date(env.clock.now()).toISOString();
}

/** Absolute operation-status URLs as Compute and DiskRP write them (azure-api.md §4). */
export function operationUrls(
  baseUrl: string,
  operation: OperationRecord,
): { asyncOperation: string; location: string } {
  const location = operation.location.toLowerCase().replace(/\s+/g, '');
  const asyncOperation = `${baseUrl}/subscriptions/${operation.subscriptionId}/providers/Microsoft.Compute/locations/${location}/${operation.family}/${operation.id}?p=${operation.id}&api-version=${operation.apiVersion}`;
  return { asyncOperation, location: `${asyncOperation}&monitor=true` };
}
