/**
 * The names and the input/output types of every orchestration and activity, used by both sides: the
 * orchestrators (orchestrations/) and the functions that implement the activities (functions/activities/).
 * No other file spells a function name. Everything here crosses the Durable history, so it is plain JSON,
 * small (a fleet never goes through one value: see RpoRunTargets in lib/tables/targetStore), and free of secrets.
 */
import type { ConsistencyMode, Policy } from '../lib/policy';
import type { ComputeOperation } from '../lib/pacing/computePolicies';
import type { RetentionRules } from '../lib/retention';
import type { OutcomeStatus, Outcome, Trigger } from '../lib/tables/outcomeStore';
import type { RunRecord } from '../lib/tables/runStore';

export const ORCHESTRATIONS = {
  policyRun: 'policyRun',
  /**
   * One lane of a policy run: its batches of targets (≤ {@link TARGETS_PER_BATCH} VMs each) one after another
   * (see {@link BATCH_LANES}); keeps policyRun's history small.
   */
  policyRunBatch: 'policyRunBatch',
  vmSetBackup: 'vmSetBackup',
  vmBackup: 'vmBackup',
} as const;

export const ACTIVITIES = {
  recordRun: 'recordRun',
  resolveTargets: 'resolveTargets',
  readTargetBatch: 'readTargetBatch',
  dropTargets: 'dropTargets',
  reserveArm: 'reserveArm',
  acquireVm: 'acquireVm',
  releaseVm: 'releaseVm',
  spendVmPut: 'spendVmPut',
  inspectVm: 'inspectVm',
  createRestorePoint: 'createRestorePoint',
  getRestorePoint: 'getRestorePoint',
  deleteRestorePoint: 'deleteRestorePoint',
  planRetention: 'planRetention',
  writeOutcomes: 'writeOutcomes',
} as const;

/** VMs per policyRunBatch: each batch's targets (plans included) stay far below a history message's size. */
export const TARGETS_PER_BATCH = 20;
/**
 * Batches of one policy run in flight at once (≤ 500 VMs): each of this many lanes (one policyRunBatch instance)
 * takes every so-many-th batch in turn. More VMs than the subscription's limits let through in the time a backup
 * takes (ARM's writes: 300 VMs a minute), so the cycle is not slowed; the VMs whose turn is far off have not
 * started. Started all at once, 5,000 VMs each held a lease and asked the pacing again and again for half an
 * hour: the cost in orchestrator episodes and storage grew with VMs × cycle length. (A sliding window over
 * Task.any is no way out: durable-functions schedules a task again when it is passed to a second Task.any,
 * Azure/azure-functions-durable-js#574; docs/scheduled-protection.md, "Lanes".)
 */
export const BATCH_LANES = 25;

// ---------------------------------------------------------------------------------------------------------
// Targets: what policyRun resolves once per run, per VM.

/** A restore point that may be created: lib/consistencyPlan's plan, reduced to what the request needs. */
export interface PlannedBackup {
  readonly kind: 'planned';
  readonly mode: ConsistencyMode;
  /** `excludeDisks` ids for the request body. */
  readonly excludeDisks: readonly string[];
  readonly excludedDisks: readonly { readonly id: string; readonly reason: string }[];
  readonly warnings: readonly string[];
  readonly instantAccessDurationMinutes?: number;
}

/** No restore point can be taken (lib/consistencyPlan refusal): recorded as Skipped with the reason. */
export interface RefusedBackup {
  readonly kind: 'refused';
  readonly code: string;
  readonly reason: string;
  readonly retryable: boolean;
}

export interface VmTarget {
  readonly vmId: string;
  readonly vmName: string;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly region: string;
  /** The availability set or flexible scale set the VM belongs to. */
  readonly setId?: string;
  readonly plan: PlannedBackup | RefusedBackup;
  /** The crash-consistent plan for the fallback, when the policy allows one. */
  readonly fallbackPlan?: PlannedBackup | RefusedBackup;
  /** RPO's collection for this VM (lib/naming sourceCollectionName) and whether it exists yet. */
  readonly collection: { readonly id: string; readonly name: string; readonly exists: boolean };
  /** Every collection whose source is this VM (the 500 cap and the minimum interval count them all). */
  readonly collectionIds: readonly string[];
}

/** A set's members (or a lone VM: `setId` undefined, one member). */
export interface TargetGroup {
  readonly setId?: string;
  /** A set larger than a batch comes in parts, one per batch: which one (absent: 0). */
  readonly part?: number;
  readonly members: readonly VmTarget[];
}

// ---------------------------------------------------------------------------------------------------------
// Orchestrations

/** What every backup of one slot shares. */
export interface BackupContext {
  /** The run that asked (a policyRun instance id, or an on-demand run id). */
  readonly runId: string;
  readonly trigger: Trigger;
  readonly policy?: string;
  /** `rpo-{policy}-{yyyyMMddHHmm}` or `rpo-ondemand-{id}`: deterministic, so a retried PUT finds its point. */
  readonly pointName: string;
  readonly slotIso: string;
  /** After this, a VM that still waits (busy, budget, interval) is Skipped with the reason. */
  readonly deadlineIso: string;
  readonly fallbackToCrashConsistent: boolean;
  readonly retention?: RetentionRules;
}

export interface PolicyRunInput {
  /** The policy as it was when the slot was due: later edits do not change a running cycle. */
  readonly policy: Policy;
  readonly slotIso: string;
  readonly trigger: Trigger;
}

export interface PolicyRunResult {
  readonly runId: string;
  readonly total: number;
  readonly counts: Readonly<Record<OutcomeStatus, number>>;
  readonly created: number;
  readonly fallbacks: number;
  readonly throttled: number;
}

export interface PolicyRunBatchInput {
  readonly context: BackupContext;
  /** This lane takes batches lane, lane + lanes, lane + 2 × lanes, … below `batches`, one after another. */
  readonly lane: number;
  readonly lanes: number;
  readonly batches: number;
}

export interface VmSetBackupInput {
  readonly context: BackupContext;
  readonly group: TargetGroup;
}

export interface VmSetBackupResult {
  readonly results: readonly VmBackupResult[];
  /** First to last creation time of the members' new points, in seconds. */
  readonly skewSeconds?: number;
}

export interface VmBackupInput {
  readonly context: BackupContext;
  readonly target: VmTarget;
}

export interface VmBackupResult {
  readonly vmId: string;
  readonly vmName: string;
  readonly status: OutcomeStatus;
  readonly restorePointId?: string;
  readonly timeCreated?: string;
  readonly consistencyMode?: string;
  readonly fallback: boolean;
  readonly reasonCode?: string;
  readonly attempts: number;
  readonly throttled: number;
  /** Seconds spent waiting on durable timers for limits (ARM pacing, VM budget, interval, busy VM, 429). */
  readonly waitedSeconds: number;
}

// ---------------------------------------------------------------------------------------------------------
// Activities

export interface RecordRunInput {
  readonly run: RunRecord;
}

export interface ResolveTargetsInput {
  readonly runId: string;
  readonly policy: Policy;
}

export interface ResolveTargetsResult {
  readonly batches: number;
  readonly total: number;
  /** Subscriptions or groups that could not be listed: what was not protected this cycle, and why. */
  readonly listingErrors: readonly { readonly scope: string; readonly code: string; readonly message: string }[];
}

export interface ReadTargetBatchInput {
  readonly runId: string;
  readonly batch: number;
}

export interface ReserveArmInput {
  readonly subscriptionId: string;
  readonly reads?: number;
  readonly writes?: number;
  readonly deletes?: number;
  readonly compute?: Partial<Record<ComputeOperation, number>>;
}

export interface ReserveArmResult {
  /** When the reserved calls may start; the orchestrator waits on a durable timer until then. */
  readonly startAtIso: string;
  /** Nothing was reserved (a Compute policy held the calls back): wait until `startAtIso`, then ask again. */
  readonly recheck?: boolean;
}

export interface AcquireVmInput {
  readonly vmId: string;
  /** The orchestration instance id that will hold the VM. */
  readonly holder: string;
  readonly purpose: string;
  readonly untilIso: string;
}

export type AcquireVmResult =
  | { readonly kind: 'granted' }
  | { readonly kind: 'busy'; readonly holder: string; readonly purpose?: string; readonly untilIso: string };

export interface ReleaseVmInput {
  readonly vmId: string;
  readonly holder: string;
}

export interface SpendVmPutInput {
  readonly vmId: string;
  readonly mode: ConsistencyMode;
}

export type SpendVmPutResult =
  { readonly kind: 'allowed' } | { readonly kind: 'exhausted'; readonly retryAtIso: string };

export interface InspectVmInput {
  readonly target: VmTarget;
  readonly pointName: string;
}

export interface PointState {
  readonly id: string;
  readonly provisioningState: string;
  readonly consistencyMode?: string;
  readonly timeCreated?: string;
}

export interface InspectVmResult {
  /** The point of this slot, if Azure already has it (a PUT accepted before a crash or lost answer). */
  readonly existing?: PointState;
  /** Newest successful, non-copied point of each mode family, any collection of the VM. */
  readonly newest: { readonly application?: string; readonly crash?: string };
  readonly pointCount: number;
  readonly collectionExists: boolean;
  readonly error?: ArmFailure;
}

/** An ARM failure as lib/armErrors classifies it, for the orchestrator to act on. */
export interface ArmFailure {
  readonly kind: 'throttled' | 'transient' | 'permanent' | 'notFound';
  readonly code: string;
  readonly message: string;
  readonly status?: number;
  readonly retryAfterSeconds?: number;
}

export interface CreateRestorePointInput {
  readonly target: VmTarget;
  readonly pointName: string;
  readonly plan: PlannedBackup;
  readonly ensureCollection: boolean;
}

export type CreateRestorePointResult =
  | { readonly kind: 'accepted'; readonly point: PointState }
  | { readonly kind: 'exists'; readonly point: PointState }
  | { readonly kind: 'failed'; readonly failure: ArmFailure };

export interface GetRestorePointInput {
  readonly restorePointId: string;
}

export type GetRestorePointResult =
  | { readonly kind: 'found'; readonly point: PointState; readonly error?: { code: string; message: string } }
  | { readonly kind: 'failed'; readonly failure: ArmFailure };

export interface DeleteRestorePointInput {
  readonly restorePointId: string;
}

export type DeleteRestorePointResult =
  { readonly kind: 'deleting' | 'gone' } | { readonly kind: 'failed'; readonly failure: ArmFailure };

export interface PlanRetentionInput {
  readonly target: VmTarget;
  readonly policy?: string;
  readonly retention: RetentionRules;
  /** Make room for one more point under the 500 cap. */
  readonly creatingOne: boolean;
}

export interface PlanRetentionResult {
  readonly delete: readonly { readonly id: string; readonly name: string; readonly reason: string }[];
  readonly blocked?: string;
  readonly error?: ArmFailure;
}

export interface WriteOutcomesInput {
  readonly outcomes: readonly Outcome[];
}
