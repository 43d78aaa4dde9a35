import type { ArmOperationKind } from '../../lib/pacing/armBuckets';

/** The two runs: ARM's token buckets only, or with Compute's subscription policy enforced as well. */
export type Mode = 'arm' | 'compute';

/** The Compute subscription policy the second run enforces. */
export const ENFORCED = { policy: 'PutRestorePointSubscriptionMaximum', limit: 300, windowMs: 60_000 } as const;
export const SEED_CONCURRENCY = 256;
export const TARGET_RSS_MB = 400;

/** What one cycle measured. */
export interface CycleResult {
  mode: Mode;
  vms: number;
  seedWallSeconds: number;
  seedVirtualSeconds: number;
  seedRequests: number;
  virtualSeconds: number;
  wallSeconds: number;
  counts: Record<ArmOperationKind, number>;
  restorePointPuts: number;
  /** When the last restore point PUT reached the emulator (from the slot): the rest is waiting for Succeeded. */
  lastPutSeconds: number;
  armFloor: { kind: ArmOperationKind; seconds: number };
  /** (ceil(PUTs / limit) − 1) × window of PutRestorePointSubscriptionMaximum, reported or enforced. */
  computeFloorSeconds: number;
  floorSeconds: number;
  throttled: number;
  throttledByKind: Record<string, number>;
  /** Requests of the cycle by method, Compute path (names elided) and status. */
  requestsByKind: Record<string, number>;
  duplicates: number;
  missing: number;
  succeeded: number;
  runOutput: unknown;
  peakRssMb: number;
  maxRssMb: number;
  /** The emulator's process (its store of the fleet is no part of the host's memory). */
  emulatorMaxRssMb: number;
  azuriteHwmMb?: number;
  forcedSteps: number;
  steps: number;
  finished: boolean;
  /** 429s by 10 s of clock time from the slot. */
  throttledAt: [number, number][];
  activities: Map<string, { count: number; ms: number }>;
}
