/**
 * Decides, from ARM data alone, what one restore point of one VM will contain: which disks go in, which
 * must be excluded (Azure refuses the request otherwise), what Azure will not guarantee, or why no restore
 * point can be taken at all. The support matrix behind it, row by row with sources: docs/consistency-plan.md.
 *
 * Pure: no I/O, no clock. The caller fetches the VM (`VirtualMachines_Get` with `$expand=instanceView`),
 * every managed disk it references (`Disks_Get`) and, for a scale set member, the scale set.
 */
import type { DataDisk, Disk, OSDisk, VirtualMachine, VirtualMachineScaleSet } from '@azure/arm-compute';
import { sameArmId } from './armIds';
import { errorCodeAndMessage } from './armErrors';
import { isAzureBoostSize, supportsPremiumStorage } from './consistency/vmSize';

export type ConsistencyMode = 'ApplicationConsistent' | 'CrashConsistent';

/** Instant Access (preview) limits of `instantAccessDurationMinutes` (A3). */
export const INSTANT_ACCESS_MIN_MINUTES = 60;
export const INSTANT_ACCESS_MAX_MINUTES = 300;

export interface PolicyDiskExclusions {
  /** LUNs of data disks to leave out. */
  readonly luns?: readonly number[];
  /** Disk names to leave out (case-insensitive); may name the OS disk. */
  readonly names?: readonly string[];
}

export interface ConsistencyPlanInput {
  readonly vm: VirtualMachine;
  /** Every managed disk the VM references, as `Disks_Get` returns it. */
  readonly disks: readonly Disk[];
  /** The scale set named by `vm.virtualMachineScaleSet`, when the VM belongs to one. */
  readonly scaleSet?: VirtualMachineScaleSet;
  readonly mode: ConsistencyMode;
  readonly exclusions?: PolicyDiskExclusions;
  readonly instantAccess?: { readonly durationMinutes: number };
}

export type DiskPosition = number | 'os';

export interface PlannedDisk {
  readonly id: string;
  readonly name: string;
  /** The data disk LUN, or `'os'` for the OS disk. */
  readonly lun: DiskPosition;
}

export type ExclusionReason =
  | 'ephemeralOsDisk'
  | 'sharedDisk'
  | 'ultraDiskInCrashMode'
  | 'premiumV2DiskInCrashMode'
  | 'writeAcceleratedInCrashMode'
  | 'policyLun'
  | 'policyName';

export interface ExcludedDisk extends PlannedDisk {
  readonly reason: ExclusionReason;
  readonly detail: string;
}

export type RefusalCode =
  | 'unmanagedDisks'
  | 'uniformScaleSet'
  | 'confidentialVm'
  | 'vmNotRunning'
  | 'vmBusy'
  | 'vmDeleting'
  | 'diskIdMissing'
  | 'diskMissing'
  | 'ephemeralOsDiskWithoutId'
  | 'allDisksExcluded'
  | 'instantAccessNeedsApplicationConsistent'
  | 'instantAccessDuration';

export type WarningCode =
  | 'readWriteCachingInCrashMode'
  | 'azureBoostMultipleDataDisks'
  | 'premiumStorageSizeInCrashMode'
  | 'vmAgentNotReady'
  | 'linuxFileSystemConsistent'
  | 'osDiskExcluded'
  | 'policyExclusionUnmatched'
  | 'instantAccessWithoutEligibleDisk'
  | 'instantAccessDroppedForFallback'
  | 'instanceViewMissing'
  | 'vmNotRunning'
  | 'vmProvisioningFailed';

export interface RefusedPlan {
  readonly kind: 'refused';
  readonly reasonCode: RefusalCode;
  readonly reason: string;
  /** True when the same request may succeed later without anyone changing the VM or the policy. */
  readonly retryable: boolean;
}

export interface ConsistencyPlan {
  readonly kind: 'planned';
  readonly mode: ConsistencyMode;
  /**
   * `consistencyMode` for the request body. Azure accepts only `CrashConsistent` as input and picks application
   * consistency when the property is absent (azure-api.md §3), so it is undefined for application-consistent.
   */
  readonly consistencyModeRequest: 'CrashConsistent' | undefined;
  readonly includedDisks: readonly PlannedDisk[];
  readonly excludedDisks: readonly ExcludedDisk[];
  readonly warnings: readonly string[];
  /** Stable codes of `warnings`, same order. */
  readonly warningCodes: readonly WarningCode[];
  /** `excludeDisks` for the request body. */
  readonly excludeDisksRequest: readonly { readonly id: string }[];
  /** `instantAccessDurationMinutes` for the request body, when Instant Access was asked for and applies. */
  readonly instantAccessDurationMinutes: number | undefined;
}

export type ConsistencyPlanResult = RefusedPlan | ConsistencyPlan;

interface DiskSlot {
  readonly lun: DiskPosition;
  readonly ref: OSDisk | DataDisk;
  readonly id: string | undefined;
  readonly name: string;
  readonly disk: Disk | undefined;
}

const refuse = (reasonCode: RefusalCode, reason: string, retryable = false): RefusedPlan => ({
  kind: 'refused',
  reasonCode,
  reason,
  retryable,
});

/**
 * Plans one restore point of `input.vm`. Throws TypeError only for inputs that break this function's contract.
 * A crash-consistent request with `instantAccess` is refused (`instantAccessNeedsApplicationConsistent`): to fall
 * back from a failed application-consistent point, use {@link planFallback}.
 */
export function planConsistency(input: ConsistencyPlanInput): ConsistencyPlanResult {
  return plan(input, false);
}

/**
 * Plans the crash-consistent fallback of an application-consistent request (`input.mode` must be
 * `ApplicationConsistent`: the same input that was planned first), for when that restore point failed inside the
 * VM ({@link isVmSideAppConsistencyFailure}). Instant Access is application-consistent only, so the fallback goes
 * without it: `instantAccess` is dropped, with the warning `instantAccessDroppedForFallback`, instead of refusing.
 * Everything else is planned as for a crash-consistent request (exclusions, refusals, warnings).
 */
export function planFallback(input: ConsistencyPlanInput): ConsistencyPlanResult {
  if (input.mode !== 'ApplicationConsistent') {
    throw new TypeError(
      `planFallback takes the ApplicationConsistent request it falls back from, got mode ${JSON.stringify(input.mode)}`,
    );
  }
  const { instantAccess: _dropped, ...rest } = input;
  return plan({ ...rest, mode: 'CrashConsistent' }, input.instantAccess !== undefined);
}

function plan(input: ConsistencyPlanInput, droppedInstantAccess: boolean): ConsistencyPlanResult {
  const { vm, mode } = input;
  if (mode !== 'ApplicationConsistent' && mode !== 'CrashConsistent') {
    throw new TypeError(`mode must be "ApplicationConsistent" or "CrashConsistent", got ${JSON.stringify(mode)}`);
  }
  const vmName = vm.name ?? vm.id ?? 'the VM';
  const storage = vm.storageProfile;
  if (storage?.osDisk === undefined) throw new TypeError(`vm.storageProfile.osDisk is missing for ${vmName}`);

  const vmRefusal = refuseVm(input, vmName);
  if (vmRefusal !== undefined) return vmRefusal;

  const slots: DiskSlot[] = [];
  const allRefs: [DiskPosition, OSDisk | DataDisk][] = [
    ['os', storage.osDisk],
    ...(storage.dataDisks ?? []).map((d): [DiskPosition, DataDisk] => [d.lun, d]),
  ];
  for (const [lun, ref] of allRefs) {
    const where = lun === 'os' ? 'the OS disk' : `the data disk at LUN ${lun}`;
    if (ref.vhd !== undefined || ref.managedDisk === undefined) {
      return refuse(
        'unmanagedDisks',
        `${vmName}: ${where} is an unmanaged (VHD) disk; restore points support managed disks only`,
      );
    }
    const id = ref.managedDisk.id;
    const ephemeral = lun === 'os' && isEphemeral(ref);
    if (id === undefined || id === '') {
      if (ephemeral) {
        return refuse(
          'ephemeralOsDiskWithoutId',
          `${vmName}: the ephemeral OS disk must be excluded, but the VM reports no disk id to put in excludeDisks`,
        );
      }
      return refuse('diskIdMissing', `${vmName}: ${where} reports no managed disk id`);
    }
    const disk = input.disks.find((d) => sameArmId(d.id, id));
    // An ephemeral OS disk lives on the host: there is no disk resource to fetch.
    if (disk === undefined && !ephemeral) {
      return refuse('diskMissing', `${vmName}: ${where} (${id}) was not among the disks supplied to the plan`);
    }
    slots.push({ lun, ref, id, name: ref.name ?? disk?.name ?? lastSegment(id), disk });
  }

  const confidential = slots.find((s) => s.disk?.securityProfile?.securityType?.startsWith('ConfidentialVM') === true);
  if (confidential !== undefined) {
    return refuse(
      'confidentialVm',
      `${vmName}: disk ${confidential.name} belongs to a Confidential VM, which restore points do not support`,
    );
  }

  const included: PlannedDisk[] = [];
  const excluded: ExcludedDisk[] = [];
  for (const slot of slots) {
    const exclusion = azureExclusion(slot, mode) ?? policyExclusion(slot, input.exclusions);
    const planned: PlannedDisk = { id: slot.id ?? '', name: slot.name, lun: slot.lun };
    if (exclusion === undefined) included.push(planned);
    else excluded.push({ ...planned, ...exclusion });
  }

  if (included.length === 0) {
    const why = excluded.map((d) => `${d.name} (${d.reason})`).join(', ');
    return refuse(
      'allDisksExcluded',
      `${vmName}: every disk would be excluded (${why}); a restore point without disks protects no data`,
    );
  }

  const warnings: [WarningCode, string][] = [];
  const warn = (code: WarningCode, text: string) => warnings.push([code, text]);
  collectWarnings(input, vmName, slots, included, excluded, warn);

  let instantAccessDurationMinutes: number | undefined;
  if (droppedInstantAccess) {
    warn(
      'instantAccessDroppedForFallback',
      `${vmName}: this crash-consistent fallback is created without Instant Access, which applies to application-consistent restore points only`,
    );
  }
  if (input.instantAccess !== undefined) {
    const minutes = input.instantAccess.durationMinutes;
    if (mode !== 'ApplicationConsistent') {
      return refuse(
        'instantAccessNeedsApplicationConsistent',
        `${vmName}: Instant Access restore points are application-consistent only`,
      );
    }
    if (!Number.isInteger(minutes) || minutes < INSTANT_ACCESS_MIN_MINUTES || minutes > INSTANT_ACCESS_MAX_MINUTES) {
      return refuse(
        'instantAccessDuration',
        `${vmName}: instantAccessDurationMinutes must be a whole number from ${INSTANT_ACCESS_MIN_MINUTES} to ${INSTANT_ACCESS_MAX_MINUTES}, got ${minutes}`,
      );
    }
    const eligible = slots.some((s) => included.some((d) => d.lun === s.lun) && isUltraOrPremiumV2(s.disk));
    if (eligible) instantAccessDurationMinutes = minutes;
    else {
      warn(
        'instantAccessWithoutEligibleDisk',
        `${vmName}: Instant Access applies to Premium SSD v2 and Ultra disks only and none is included; the restore point is created without it`,
      );
    }
  }

  return {
    kind: 'planned',
    mode,
    consistencyModeRequest: mode === 'CrashConsistent' ? 'CrashConsistent' : undefined,
    includedDisks: included,
    excludedDisks: excluded,
    warnings: warnings.map(([, text]) => text),
    warningCodes: warnings.map(([code]) => code),
    excludeDisksRequest: excluded.map((d) => ({ id: d.id })),
    instantAccessDurationMinutes,
  };
}

/** VM-level refusals: the support matrix rows that rule out the whole VM, and states Azure refuses. */
function refuseVm(input: ConsistencyPlanInput, vmName: string): RefusedPlan | undefined {
  const { vm, scaleSet } = input;
  if (scaleSet !== undefined) {
    if (!sameArmId(scaleSet.id, vm.virtualMachineScaleSet?.id)) {
      throw new TypeError(`scaleSet ${scaleSet.id ?? '(no id)'} is not the scale set of ${vmName}`);
    }
    if (scaleSet.orchestrationMode?.toLowerCase() === 'uniform') {
      return refuse(
        'uniformScaleSet',
        `${vmName} belongs to a scale set with Uniform orchestration, which restore points do not support`,
      );
    }
  }
  // `VirtualMachines_Get` only serves Flexible members: a Uniform instance lives under virtualMachineScaleSets/{}/virtualMachines.

  const osManaged = vm.storageProfile?.osDisk?.managedDisk;
  if (
    vm.securityProfile?.securityType?.toLowerCase() === 'confidentialvm' ||
    osManaged?.securityProfile?.securityEncryptionType !== undefined
  ) {
    return refuse('confidentialVm', `${vmName} is a Confidential VM, which restore points do not support`);
  }

  const provisioning = vm.provisioningState?.toLowerCase();
  if (provisioning === 'deleting') return refuse('vmDeleting', `${vmName} is being deleted`);
  if (provisioning === 'creating' || provisioning === 'updating' || provisioning === 'migrating') {
    return refuse(
      'vmBusy',
      `${vmName} is in provisioning state ${vm.provisioningState}; changes to the VM while a restore point is created make Azure fail it (OperationNotAllowed)`,
      true,
    );
  }

  // A deallocated VM has no host to snapshot from; Azure refuses it in both modes (OperationNotAllowed).
  // A stopped (still allocated) VM is not refused: its agent cannot answer, which the warnings report.
  const power = powerState(vm);
  if (power === 'deallocated' || power === 'deallocating') {
    return refuse('vmNotRunning', `${vmName} is ${power}; start the VM to take restore points of it`);
  }
  return undefined;
}

function azureExclusion(slot: DiskSlot, mode: ConsistencyMode): Pick<ExcludedDisk, 'reason' | 'detail'> | undefined {
  if (slot.lun === 'os' && isEphemeral(slot.ref)) {
    return { reason: 'ephemeralOsDisk', detail: 'ephemeral OS disks are not supported in either mode' };
  }
  const maxShares = slot.disk?.maxShares ?? 1;
  if (maxShares > 1) {
    return { reason: 'sharedDisk', detail: `shared disk (maxShares ${maxShares}) is not supported in either mode` };
  }
  if (mode === 'CrashConsistent') {
    const sku = slot.disk?.sku?.name?.toLowerCase();
    if (sku === 'ultrassd_lrs') {
      return { reason: 'ultraDiskInCrashMode', detail: 'Ultra disks are not supported in crash-consistent mode' };
    }
    if (sku === 'premiumv2_lrs') {
      return {
        reason: 'premiumV2DiskInCrashMode',
        detail: 'Premium SSD v2 disks are not supported in crash-consistent mode',
      };
    }
    if (slot.ref.writeAcceleratorEnabled === true) {
      return {
        reason: 'writeAcceleratedInCrashMode',
        detail: 'write-accelerated disks are not supported in crash-consistent mode',
      };
    }
  }
  return undefined;
}

function policyExclusion(
  slot: DiskSlot,
  exclusions: PolicyDiskExclusions | undefined,
): Pick<ExcludedDisk, 'reason' | 'detail'> | undefined {
  if (exclusions === undefined) return undefined;
  if (slot.lun !== 'os' && exclusions.luns?.includes(slot.lun) === true) {
    return { reason: 'policyLun', detail: `the policy excludes LUN ${slot.lun}` };
  }
  const names = [slot.name, slot.disk?.name].filter((n): n is string => n !== undefined).map((n) => n.toLowerCase());
  const named = exclusions.names?.find((n) => names.includes(n.toLowerCase()));
  if (named !== undefined) return { reason: 'policyName', detail: `the policy excludes disk "${named}"` };
  return undefined;
}

function collectWarnings(
  input: ConsistencyPlanInput,
  vmName: string,
  slots: readonly DiskSlot[],
  included: readonly PlannedDisk[],
  excluded: readonly ExcludedDisk[],
  warn: (code: WarningCode, text: string) => void,
): void {
  const { vm, mode } = input;
  const size = vm.hardwareProfile?.vmSize;
  const isIncluded = (slot: DiskSlot) => included.some((d) => d.lun === slot.lun);

  if (vm.instanceView === undefined) {
    warn(
      'instanceViewMissing',
      `${vmName}: no instance view (use $expand=instanceView); power state and VM agent were not checked`,
    );
  }
  const power = powerState(vm);
  if (power !== undefined && power !== 'running') {
    warn('vmNotRunning', `${vmName} is ${power}, not running: Stopped states interfere with restore point creation`);
  }
  if (vm.provisioningState?.toLowerCase() === 'failed') {
    warn(
      'vmProvisioningFailed',
      `${vmName} is in a failed provisioning state, which can make restore point creation fail`,
    );
  }

  if (mode === 'CrashConsistent') {
    const cached = slots
      .filter((s) => isIncluded(s) && s.ref.caching?.toLowerCase() === 'readwrite')
      .map((s) => s.name);
    if (cached.length > 0) {
      warn(
        'readWriteCachingInCrashMode',
        `${vmName}: crash consistency is not guaranteed for disks with ReadWrite host caching (${cached.join(', ')}); application-consistent mode is advised`,
      );
    }
    const dataDisks = included.filter((d) => d.lun !== 'os').length;
    if (dataDisks > 1 && isAzureBoostSize(size)) {
      warn(
        'azureBoostMultipleDataDisks',
        `${vmName}: on Azure Boost size ${size} with ${dataDisks} data disks, crash-consistent restore points might not be consistent across disks; application-consistent mode is advised`,
      );
    }
    // Source: the support matrix (learn.microsoft.com/azure/virtual-machines/concepts-restore-points, "VM sizes":
    // "Crash consistency is supported for VM SKUs that support Premium storage"); docs/consistency-plan.md row.
    if (supportsPremiumStorage(size) === false) {
      warn(
        'premiumStorageSizeInCrashMode',
        `${vmName}: size ${size} does not look Premium-storage capable; crash consistency is supported only on sizes that support Premium storage`,
      );
    }
  } else {
    const agent = vmAgentReady(vm);
    if (agent === false) {
      warn(
        'vmAgentNotReady',
        `${vmName}: the VM agent is not Ready; application-consistent restore points need a healthy agent (VMAgentStatusCommunicationError)`,
      );
    }
    if (vm.storageProfile?.osDisk?.osType?.toLowerCase() === 'linux') {
      warn(
        'linuxFileSystemConsistent',
        `${vmName}: Linux VMs report application-consistent restore points as FileSystemConsistent unless pre/post scripts are configured`,
      );
    }
  }

  const os = excluded.find((d) => d.lun === 'os');
  if (os !== undefined && os.reason !== 'ephemeralOsDisk') {
    warn(
      'osDiskExcluded',
      `${vmName}: the OS disk ${os.name} is excluded (${os.reason}); its data disks can be restored, the VM itself cannot be rebuilt from these restore points`,
    );
  }

  const luns = new Set(slots.map((s) => s.lun));
  for (const lun of input.exclusions?.luns ?? []) {
    if (!luns.has(lun))
      warn('policyExclusionUnmatched', `${vmName}: the policy excludes LUN ${lun}, which the VM does not have`);
  }
  const names = new Set(slots.flatMap((s) => [s.name, s.disk?.name ?? s.name]).map((n) => n.toLowerCase()));
  for (const name of input.exclusions?.names ?? []) {
    if (!names.has(name.toLowerCase())) {
      warn('policyExclusionUnmatched', `${vmName}: the policy excludes disk "${name}", which the VM does not have`);
    }
  }
}

function isEphemeral(osDisk: OSDisk): boolean {
  return osDisk.diffDiskSettings?.option?.toLowerCase() === 'local';
}

function isUltraOrPremiumV2(disk: Disk | undefined): boolean {
  const sku = disk?.sku?.name?.toLowerCase();
  return sku === 'ultrassd_lrs' || sku === 'premiumv2_lrs';
}

/** `PowerState/running` → `running`; undefined without an instance view. */
function powerState(vm: VirtualMachine): string | undefined {
  const status = vm.instanceView?.statuses?.find((s) => s.code?.toLowerCase().startsWith('powerstate/') === true);
  return status?.code?.slice('PowerState/'.length).toLowerCase();
}

/** True when the agent reports Ready, false when it reports something else or nothing, undefined without an instance view. */
function vmAgentReady(vm: VirtualMachine): boolean | undefined {
  if (vm.instanceView === undefined) return undefined;
  const statuses = vm.instanceView.vmAgent?.statuses ?? [];
  return statuses.some((s) => s.displayStatus?.toLowerCase() === 'ready' && s.level?.toLowerCase() !== 'error');
}

function lastSegment(id: string): string {
  return id.slice(id.lastIndexOf('/') + 1);
}

/*
 * Fallback decision. An application-consistent restore point fails on the VM side when the guest cannot
 * take part: agent silent, VSS/COM+/MSDTC/VC++ broken in Windows, pre/post scripts failing on Linux, or the
 * guest short of resources or network. A crash-consistent restore point does not involve the guest, so a
 * policy with fallbackToCrashConsistent retries in that mode. Codes and messages: restore-point-troubleshooting.md.
 */
const VM_SIDE_CODES = new Set(['vmagentstatuscommunicationerror', 'vmrestorepointinternalerror']);
const VM_SIDE_CLIENT_MESSAGES =
  /COM\+|VSS|Visual C\+\+|Distributed Transaction Coordinator|inadequate VM resources|network connectivity|pre-?script|post-?script/i;

/**
 * Whether a failed application-consistent restore point failed inside the VM (agent, VSS, pre/post scripts),
 * so that a crash-consistent retry can succeed. Accepts a RestError, an LRO failure, a CloudError body or `{code, message}`.
 */
export function isVmSideAppConsistencyFailure(error: unknown): boolean {
  const { code, message } = errorCodeAndMessage(error);
  if (code === undefined) return false;
  const lower = code.toLowerCase();
  if (VM_SIDE_CODES.has(lower)) return true;
  return lower === 'vmrestorepointclienterror' && VM_SIDE_CLIENT_MESSAGES.test(message ?? '');
}
