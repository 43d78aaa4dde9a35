import type { ArmOperationKind } from '../../lib/pacing/armBuckets';

/**
 * The two runs: ARM's token buckets, with Compute's subscription-wide policies reported under limits no cycle
 * comes near; or those policies enforced as well at the emulator's defaults (beyond a limit, a 429).
 */
export type Mode = 'arm' | 'compute';
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
  /**
   * The tightest Compute subscription policy, reported or enforced: (ceil(requests it counted / limit) − 1) ×
   * window (the last window must open before the last of them goes).
   */
  computeFloor: { policy: string; requests: number; seconds: number };
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
