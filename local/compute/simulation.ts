import {
  DEFAULT_COMPUTE_POLICIES,
  mergeComputePolicies,
  type ComputePolicies,
  type ComputePolicyOverrides,
} from './computePolicies';

/**
 * How the emulator simulates time-dependent behaviour. Every duration is clock time (the injected
 * Clock), so a ScaledClock or a test's ManualClock compresses it.
 */
export interface SimulationSettings {
  /** Restore point creation: fixed part. */
  restorePointCreateBaseMs: number;
  /** Restore point creation: extra time per GiB of included disks (creation grows with disk size). */
  restorePointCreateMsPerGiB: number;
  /** Premium SSD v2 / Ultra snapshots stay Pending (or InstantAccess) while copied to standard storage, per GiB. */
  backgroundCopyMsPerGiB: number;
  /** Cross-region copy throughput; completionPercent grows with it. */
  copyThroughputMiBPerSecond: number;
  diskCreateBaseMs: number;
  diskCreateMsPerGiB: number;
  vmCreateMs: number;
  vmPowerMs: number;
  deleteMs: number;
  accessMs: number;
  /** ARM subscription token buckets (reads 250/25 s⁻¹, writes and deletes 200/10 s⁻¹). */
  armThrottling: boolean;
  /** CRP per-VM and per-collection windows (3 PUTs per VM per hour per mode, 3 copies per hour). */
  computeThrottling: boolean;
  restorePointPutsPerVmPerHourPerMode: number;
  copiesPerTargetCollectionPerHour: number;
  /**
   * CRP's undocumented subscription and resource policies (PutRestorePointSubscriptionMaximum, ...):
   * limit and fixed window per policy, enforced or only reported. See computePolicies.ts.
   */
  computePolicies: ComputePolicies;
  maxRestorePointsPerVm: number;
  maxCollectionsPerSubscriptionRegion: number;
  minIntervalApplicationConsistentMs: number;
  minIntervalCrashConsistentMs: number;
  /** Items per page of list operations before a nextLink. */
  pageSize: number;
  /** Entries kept by the request log (oldest dropped first). */
  requestLogLimit: number;
}

const HOUR = 3_600_000;

export const DEFAULT_SIMULATION: Readonly<SimulationSettings> = Object.freeze({
  restorePointCreateBaseMs: 20_000,
  restorePointCreateMsPerGiB: 20,
  backgroundCopyMsPerGiB: 2_000,
  copyThroughputMiBPerSecond: 100,
  diskCreateBaseMs: 5_000,
  diskCreateMsPerGiB: 5,
  vmCreateMs: 30_000,
  vmPowerMs: 10_000,
  deleteMs: 5_000,
  accessMs: 2_000,
  armThrottling: true,
  computeThrottling: true,
  restorePointPutsPerVmPerHourPerMode: 3,
  copiesPerTargetCollectionPerHour: 3,
  computePolicies: DEFAULT_COMPUTE_POLICIES,
  maxRestorePointsPerVm: 500,
  maxCollectionsPerSubscriptionRegion: 10_000,
  minIntervalApplicationConsistentMs: 3 * HOUR,
  minIntervalCrashConsistentMs: 1 * HOUR,
  pageSize: 100,
  requestLogLimit: 2_000,
});

/** What `startComputeEmulator({ simulation })` takes: any subset, and any subset of the compute policies. */
export type SimulationOverrides = Partial<Omit<SimulationSettings, 'computePolicies'>> & {
  computePolicies?: ComputePolicyOverrides;
};

export function resolveSimulation(overrides: SimulationOverrides = {}): SimulationSettings {
  const settings: SimulationSettings = {
    ...DEFAULT_SIMULATION,
    ...overrides,
    computePolicies: mergeComputePolicies(
      DEFAULT_COMPUTE_POLICIES,
      overrides.computePolicies,
      'simulation.computePolicies',
    ),
  };
  for (const [key, value] of Object.entries(settings)) {
    if (typeof value === 'number' && (!Number.isFinite(value) || value < 0)) {
      throw new RangeError(`simulation.${key} must be a finite number ≥ 0, got ${value}`);
    }
  }
  if (settings.pageSize < 1) throw new RangeError('simulation.pageSize must be ≥ 1');
  if (settings.copyThroughputMiBPerSecond <= 0)
    throw new RangeError('simulation.copyThroughputMiBPerSecond must be > 0');
  return settings;
}

/**
 * Tags that steer simulated guest state which ARM has no property for. They are ordinary ARM tags,
 * so a fleet file sets them through the API: `emulator-vm-agent: NotReady` makes app-consistent
 * restore points fail with VMAgentStatusCommunicationError.
 */
export const EMULATOR_TAGS = Object.freeze({
  vmAgent: 'emulator-vm-agent',
});

export function restorePointCreationMs(settings: SimulationSettings, includedGiB: number): number {
  return settings.restorePointCreateBaseMs + settings.restorePointCreateMsPerGiB * includedGiB;
}

export function copyDurationMs(settings: SimulationSettings, totalGiB: number): number {
  return Math.max(1, Math.ceil(((totalGiB * 1024) / settings.copyThroughputMiBPerSecond) * 1000));
}
