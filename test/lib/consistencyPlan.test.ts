import type { DataDisk, Disk, OSDisk, VirtualMachine, VirtualMachineScaleSet } from '@azure/arm-compute';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ConsistencyMode,
  type ConsistencyPlan,
  type ConsistencyPlanInput,
  type ConsistencyPlanResult,
  type ExclusionReason,
  isVmSideAppConsistencyFailure,
  planConsistency,
  planFallback,
  type RefusalCode,
  type WarningCode,
} from '../../lib/consistencyPlan';

// ---- fixtures: a healthy running Linux VM with Premium SSD disks, changed per row ----

const sub = '00000000-0000-0000-0000-0000000000aa';
const rgPath = `/subscriptions/${sub}/resourceGroups/rg1/providers/Microsoft.Compute`;
const diskId = (name: string) => `${rgPath}/disks/${name}`;

function disk(name: string, patch: Partial<Disk> = {}): Disk {
  return { id: diskId(name), name, location: 'westeurope', sku: { name: 'Premium_LRS' }, maxShares: 1, ...patch };
}

function osDisk(name = 'vm1-os', patch: Partial<OSDisk> = {}): OSDisk {
  return {
    name,
    osType: 'Linux',
    createOption: 'FromImage',
    caching: 'ReadOnly',
    managedDisk: { id: diskId(name), storageAccountType: 'Premium_LRS' },
    ...patch,
  };
}

function dataDisk(lun: number, name = `vm1-data${lun}`, patch: Partial<DataDisk> = {}): DataDisk {
  return {
    lun,
    name,
    createOption: 'Attach',
    caching: 'None',
    managedDisk: { id: diskId(name), storageAccountType: 'Premium_LRS' },
    ...patch,
  };
}

const running = {
  statuses: [
    { code: 'ProvisioningState/succeeded', level: 'Info' as const, displayStatus: 'Provisioning succeeded' },
    { code: 'PowerState/running', level: 'Info' as const, displayStatus: 'VM running' },
  ],
  vmAgent: {
    vmAgentVersion: '2.12.0.2',
    statuses: [{ code: 'ProvisioningState/succeeded', level: 'Info' as const, displayStatus: 'Ready' }],
  },
};

function vm(
  patch: Partial<VirtualMachine> = {},
  data: DataDisk[] = [dataDisk(0), dataDisk(1)],
  os = osDisk(),
): VirtualMachine {
  return {
    id: `${rgPath}/virtualMachines/vm1`,
    name: 'vm1',
    location: 'westeurope',
    hardwareProfile: { vmSize: 'Standard_D4s_v5' },
    storageProfile: { osDisk: os, dataDisks: data },
    provisioningState: 'Succeeded',
    instanceView: running,
    ...patch,
  };
}

/** Disks_Get results for every managed disk of the VM, with per-name overrides. */
function disksOf(machine: VirtualMachine, overrides: Record<string, Partial<Disk>> = {}): Disk[] {
  const refs = [machine.storageProfile?.osDisk, ...(machine.storageProfile?.dataDisks ?? [])];
  return refs
    .filter((r) => r?.managedDisk?.id !== undefined && (r as OSDisk).diffDiskSettings === undefined)
    .map((r) => disk(r!.name!, overrides[r!.name!] ?? {}));
}

function input(
  machine: VirtualMachine,
  mode: ConsistencyMode,
  extra: Partial<ConsistencyPlanInput> & { diskOverrides?: Record<string, Partial<Disk>> } = {},
): ConsistencyPlanInput {
  const { diskOverrides, ...rest } = extra;
  return { vm: machine, disks: disksOf(machine, diskOverrides), mode, ...rest };
}

function planned(result: ConsistencyPlanResult): ConsistencyPlan {
  if (result.kind !== 'planned') throw new Error(`expected a plan, got ${result.reasonCode}: ${result.reason}`);
  return result;
}

const flexSet: VirtualMachineScaleSet = {
  id: `${rgPath}/virtualMachineScaleSets/flex1`,
  location: 'westeurope',
  orchestrationMode: 'Flexible',
};

// ---- one row per support-matrix row that ARM data decides (docs/consistency-plan.md) ----

interface ExclusionRow {
  readonly row: string;
  readonly input: ConsistencyPlanInput;
  readonly excluded: Record<string, ExclusionReason>;
}

const exclusionRows: ExclusionRow[] = [
  {
    row: 'managed disks, app-consistent: every disk included',
    input: input(vm(), 'ApplicationConsistent'),
    excluded: {},
  },
  { row: 'managed disks, crash-consistent: every disk included', input: input(vm(), 'CrashConsistent'), excluded: {} },
  {
    row: 'ephemeral OS disk: excluded in app-consistent mode',
    input: input(
      vm({}, undefined, osDisk('vm1-os', { diffDiskSettings: { option: 'Local', placement: 'CacheDisk' } })),
      'ApplicationConsistent',
    ),
    excluded: { 'vm1-os': 'ephemeralOsDisk' },
  },
  {
    row: 'ephemeral OS disk: excluded in crash-consistent mode',
    input: input(
      vm({}, undefined, osDisk('vm1-os', { diffDiskSettings: { option: 'Local', placement: 'ResourceDisk' } })),
      'CrashConsistent',
    ),
    excluded: { 'vm1-os': 'ephemeralOsDisk' },
  },
  {
    row: 'shared disk (maxShares > 1): excluded in app-consistent mode',
    input: input(vm(), 'ApplicationConsistent', { diskOverrides: { 'vm1-data1': { maxShares: 2 } } }),
    excluded: { 'vm1-data1': 'sharedDisk' },
  },
  {
    row: 'shared disk (maxShares > 1): excluded in crash-consistent mode',
    input: input(vm(), 'CrashConsistent', { diskOverrides: { 'vm1-data0': { maxShares: 3 } } }),
    excluded: { 'vm1-data0': 'sharedDisk' },
  },
  {
    row: 'Ultra disk: included in app-consistent mode',
    input: input(vm(), 'ApplicationConsistent', { diskOverrides: { 'vm1-data0': { sku: { name: 'UltraSSD_LRS' } } } }),
    excluded: {},
  },
  {
    row: 'Ultra disk: excluded in crash-consistent mode',
    input: input(vm(), 'CrashConsistent', { diskOverrides: { 'vm1-data0': { sku: { name: 'UltraSSD_LRS' } } } }),
    excluded: { 'vm1-data0': 'ultraDiskInCrashMode' },
  },
  {
    row: 'Premium SSD v2 disk: included in app-consistent mode',
    input: input(vm(), 'ApplicationConsistent', { diskOverrides: { 'vm1-data1': { sku: { name: 'PremiumV2_LRS' } } } }),
    excluded: {},
  },
  {
    row: 'Premium SSD v2 disk: excluded in crash-consistent mode',
    input: input(vm(), 'CrashConsistent', { diskOverrides: { 'vm1-data1': { sku: { name: 'PremiumV2_LRS' } } } }),
    excluded: { 'vm1-data1': 'premiumV2DiskInCrashMode' },
  },
  {
    row: 'write-accelerated disk: included in app-consistent mode',
    input: input(
      vm({}, [dataDisk(0, 'vm1-data0', { writeAcceleratorEnabled: true }), dataDisk(1)]),
      'ApplicationConsistent',
    ),
    excluded: {},
  },
  {
    row: 'write-accelerated disk: excluded in crash-consistent mode',
    input: input(vm({}, [dataDisk(0, 'vm1-data0', { writeAcceleratorEnabled: true }), dataDisk(1)]), 'CrashConsistent'),
    excluded: { 'vm1-data0': 'writeAcceleratedInCrashMode' },
  },
  {
    row: 'VM in an availability set: supported one VM at a time',
    input: input(vm({ availabilitySet: { id: `${rgPath}/availabilitySets/as1` } }), 'ApplicationConsistent'),
    excluded: {},
  },
  {
    row: 'VM in a Flexible scale set: supported one VM at a time',
    input: input(vm({ virtualMachineScaleSet: { id: flexSet.id } }), 'CrashConsistent', { scaleSet: flexSet }),
    excluded: {},
  },
  {
    row: 'trusted launch VM: supported',
    input: input(
      vm({
        securityProfile: {
          securityType: 'TrustedLaunch',
          uefiSettings: { secureBootEnabled: true, vTpmEnabled: true },
        },
      }),
      'ApplicationConsistent',
    ),
    excluded: {},
  },
  {
    row: 'policy exclusion by LUN',
    input: input(vm(), 'ApplicationConsistent', { exclusions: { luns: [1] } }),
    excluded: { 'vm1-data1': 'policyLun' },
  },
  {
    row: 'policy exclusion by name (case-insensitive)',
    input: input(vm(), 'CrashConsistent', { exclusions: { names: ['VM1-DATA0'] } }),
    excluded: { 'vm1-data0': 'policyName' },
  },
  {
    row: 'policy exclusion of the OS disk by name',
    input: input(vm(), 'ApplicationConsistent', { exclusions: { names: ['vm1-os'] } }),
    excluded: { 'vm1-os': 'policyName' },
  },
];

describe('planConsistency: disks', () => {
  it.each(exclusionRows)('$row', ({ input: planInput, excluded }) => {
    const plan = planned(planConsistency(planInput));
    const actual = Object.fromEntries(plan.excludedDisks.map((d) => [d.name, d.reason]));
    expect(actual).toEqual(excluded);
    const vmDisks = [planInput.vm.storageProfile!.osDisk!, ...(planInput.vm.storageProfile!.dataDisks ?? [])];
    expect(plan.includedDisks.length + plan.excludedDisks.length).toBe(vmDisks.length);
    expect(plan.excludeDisksRequest).toEqual(plan.excludedDisks.map((d) => ({ id: d.id })));
    for (const d of plan.excludedDisks) expect(d.id).toBe(diskId(d.name));
  });

  it('lists included disks with their LUN, and the OS disk as "os"', () => {
    const plan = planned(planConsistency(input(vm(), 'ApplicationConsistent')));
    expect(plan.includedDisks).toEqual([
      { id: diskId('vm1-os'), name: 'vm1-os', lun: 'os' },
      { id: diskId('vm1-data0'), name: 'vm1-data0', lun: 0 },
      { id: diskId('vm1-data1'), name: 'vm1-data1', lun: 1 },
    ]);
  });

  it('asks for consistencyMode only in crash-consistent mode (Azure accepts only CrashConsistent as input)', () => {
    expect(planned(planConsistency(input(vm(), 'CrashConsistent'))).consistencyModeRequest).toBe('CrashConsistent');
    expect(planned(planConsistency(input(vm(), 'ApplicationConsistent'))).consistencyModeRequest).toBeUndefined();
  });

  it('matches disks to the VM case-insensitively (ARM returns ids in mixed case)', () => {
    const machine = vm();
    const disks = disksOf(machine).map((d) => ({ ...d, id: d.id!.toUpperCase() }));
    expect(planConsistency({ vm: machine, disks, mode: 'CrashConsistent' }).kind).toBe('planned');
  });

  it('gives an Azure reason precedence over a policy exclusion of the same disk', () => {
    const plan = planned(
      planConsistency(
        input(vm(), 'CrashConsistent', {
          exclusions: { luns: [0] },
          diskOverrides: { 'vm1-data0': { sku: { name: 'UltraSSD_LRS' } } },
        }),
      ),
    );
    expect(plan.excludedDisks).toMatchObject([{ name: 'vm1-data0', reason: 'ultraDiskInCrashMode' }]);
  });
});

interface RefusalRow {
  readonly row: string;
  readonly input: ConsistencyPlanInput;
  readonly code: RefusalCode;
  readonly retryable?: boolean;
}

const deallocated = {
  ...running,
  statuses: [running.statuses[0]!, { code: 'PowerState/deallocated', level: 'Info' as const }],
};

const refusalRows: RefusalRow[] = [
  {
    row: 'unmanaged OS disk',
    input: input(
      vm({}, [], {
        name: 'os',
        createOption: 'FromImage',
        vhd: { uri: 'https://sa.blob.core.windows.net/vhds/os.vhd' },
      }),
      'ApplicationConsistent',
    ),
    code: 'unmanagedDisks',
  },
  {
    row: 'unmanaged data disk',
    input: input(
      vm({}, [
        { lun: 0, name: 'd', createOption: 'Attach', vhd: { uri: 'https://sa.blob.core.windows.net/vhds/d.vhd' } },
      ]),
      'CrashConsistent',
    ),
    code: 'unmanagedDisks',
  },
  {
    row: 'member of a Uniform scale set',
    input: input(vm({ virtualMachineScaleSet: { id: flexSet.id } }), 'ApplicationConsistent', {
      scaleSet: { ...flexSet, orchestrationMode: 'Uniform' },
    }),
    code: 'uniformScaleSet',
  },
  {
    row: 'Confidential VM (security type)',
    input: input(vm({ securityProfile: { securityType: 'ConfidentialVM' } }), 'ApplicationConsistent'),
    code: 'confidentialVm',
  },
  {
    row: 'Confidential VM (OS disk guest-state encryption)',
    input: input(
      vm(
        {},
        [],
        osDisk('vm1-os', {
          managedDisk: { id: diskId('vm1-os'), securityProfile: { securityEncryptionType: 'DiskWithVMGuestState' } },
        }),
      ),
      'CrashConsistent',
    ),
    code: 'confidentialVm',
  },
  {
    row: 'Confidential VM (disk security type)',
    input: input(vm(), 'CrashConsistent', {
      diskOverrides: { 'vm1-os': { securityProfile: { securityType: 'ConfidentialVM_DiskEncryptedWithPlatformKey' } } },
    }),
    code: 'confidentialVm',
  },
  {
    row: 'deallocated VM',
    input: input(vm({ instanceView: deallocated }), 'CrashConsistent'),
    code: 'vmNotRunning',
    retryable: false,
  },
  {
    row: 'VM that is being deallocated',
    input: input(
      vm({ instanceView: { ...running, statuses: [{ code: 'PowerState/deallocating' }] } }),
      'ApplicationConsistent',
    ),
    code: 'vmNotRunning',
  },
  {
    row: 'VM being updated (model changes make Azure fail the restore point)',
    input: input(vm({ provisioningState: 'Updating' }), 'CrashConsistent'),
    code: 'vmBusy',
    retryable: true,
  },
  {
    row: 'VM being deleted',
    input: input(vm({ provisioningState: 'Deleting' }), 'CrashConsistent'),
    code: 'vmDeleting',
  },
  {
    row: 'a managed disk missing from the inputs',
    input: { vm: vm(), disks: disksOf(vm()).slice(0, 2), mode: 'CrashConsistent' },
    code: 'diskMissing',
  },
  {
    row: 'a managed disk reference without an id',
    input: input(
      vm({}, [dataDisk(0, 'd0', { managedDisk: { storageAccountType: 'Premium_LRS' } })]),
      'CrashConsistent',
    ),
    code: 'diskIdMissing',
  },
  {
    row: 'an ephemeral OS disk without an id to exclude',
    input: input(
      vm(
        {},
        [dataDisk(0)],
        osDisk('os', { managedDisk: { storageAccountType: 'Standard_LRS' }, diffDiskSettings: { option: 'Local' } }),
      ),
      'CrashConsistent',
    ),
    code: 'ephemeralOsDiskWithoutId',
  },
  {
    row: 'every disk excluded (ephemeral OS disk and a shared data disk)',
    input: input(
      vm({}, [dataDisk(0)], osDisk('vm1-os', { diffDiskSettings: { option: 'Local' } })),
      'ApplicationConsistent',
      {
        diskOverrides: { 'vm1-data0': { maxShares: 2 } },
      },
    ),
    code: 'allDisksExcluded',
  },
  {
    row: 'every disk excluded by policy',
    input: input(vm(), 'CrashConsistent', { exclusions: { luns: [0, 1], names: ['vm1-os'] } }),
    code: 'allDisksExcluded',
  },
  {
    row: 'Instant Access in crash-consistent mode',
    input: input(vm(), 'CrashConsistent', { instantAccess: { durationMinutes: 120 } }),
    code: 'instantAccessNeedsApplicationConsistent',
  },
  {
    row: 'Instant Access for less than 60 minutes',
    input: input(vm(), 'ApplicationConsistent', { instantAccess: { durationMinutes: 59 } }),
    code: 'instantAccessDuration',
  },
  {
    row: 'Instant Access for more than 300 minutes',
    input: input(vm(), 'ApplicationConsistent', { instantAccess: { durationMinutes: 301 } }),
    code: 'instantAccessDuration',
  },
];

describe('planConsistency: refusals', () => {
  it.each(refusalRows)('refuses: $row', ({ input: planInput, code, retryable }) => {
    const result = planConsistency(planInput);
    expect(result).toMatchObject({ kind: 'refused', reasonCode: code, retryable: retryable ?? false });
    expect(result.kind === 'refused' && result.reason).toMatch(/^vm1|vm1/);
  });

  it('explains an all-excluded refusal disk by disk', () => {
    const result = planConsistency(refusalRows.find((r) => r.code === 'allDisksExcluded')!.input);
    expect(result.kind === 'refused' && result.reason).toMatch(/vm1-os \(ephemeralOsDisk\), vm1-data0 \(sharedDisk\)/);
  });

  it('rejects a scale set that is not the VM’s own', () => {
    expect(() => planConsistency(input(vm(), 'CrashConsistent', { scaleSet: flexSet }))).toThrow(
      /is not the scale set of vm1/,
    );
  });

  it('rejects an unknown mode', () => {
    expect(() => planConsistency(input(vm(), 'FileSystemConsistent' as ConsistencyMode))).toThrow(/mode must be/);
  });
});

interface WarningRow {
  readonly row: string;
  readonly input: ConsistencyPlanInput;
  readonly warning: WarningCode;
  readonly present: boolean;
}

const boostVm = (size: string, dataDisks: DataDisk[]) => vm({ hardwareProfile: { vmSize: size } }, dataDisks);

const warningRows: WarningRow[] = [
  {
    row: 'ReadWrite host caching in crash mode',
    input: input(vm({}, [dataDisk(0, 'vm1-data0', { caching: 'ReadWrite' })]), 'CrashConsistent'),
    warning: 'readWriteCachingInCrashMode',
    present: true,
  },
  {
    row: 'ReadWrite host caching in app-consistent mode',
    input: input(vm({}, [dataDisk(0, 'vm1-data0', { caching: 'ReadWrite' })]), 'ApplicationConsistent'),
    warning: 'readWriteCachingInCrashMode',
    present: false,
  },
  {
    row: 'ReadWrite caching on a disk the plan excludes',
    input: input(vm({}, [dataDisk(0, 'vm1-data0', { caching: 'ReadWrite' }), dataDisk(1)]), 'CrashConsistent', {
      exclusions: { luns: [0] },
    }),
    warning: 'readWriteCachingInCrashMode',
    present: false,
  },
  {
    row: 'Intel v6 (Dsv6) with two data disks in crash mode',
    input: input(boostVm('Standard_D4s_v6', [dataDisk(0), dataDisk(1)]), 'CrashConsistent'),
    warning: 'azureBoostMultipleDataDisks',
    present: true,
  },
  {
    row: 'Intel v6 (Edsv6) with two data disks in crash mode',
    input: input(boostVm('Standard_E8ds_v6', [dataDisk(0), dataDisk(1)]), 'CrashConsistent'),
    warning: 'azureBoostMultipleDataDisks',
    present: true,
  },
  {
    row: 'AMD v7 (Dasv7) with two data disks in crash mode',
    input: input(boostVm('Standard_D4as_v7', [dataDisk(0), dataDisk(1)]), 'CrashConsistent'),
    warning: 'azureBoostMultipleDataDisks',
    present: true,
  },
  {
    row: 'AMD v7 (Faldsv7) with two data disks in crash mode',
    input: input(boostVm('Standard_F2alds_v7', [dataDisk(0), dataDisk(1)]), 'CrashConsistent'),
    warning: 'azureBoostMultipleDataDisks',
    present: true,
  },
  {
    row: 'AMD v6 (Dasv6) with two data disks in crash mode (not named by the matrix)',
    input: input(boostVm('Standard_D4as_v6', [dataDisk(0), dataDisk(1)]), 'CrashConsistent'),
    warning: 'azureBoostMultipleDataDisks',
    present: false,
  },
  {
    row: 'Intel v5 with two data disks in crash mode',
    input: input(boostVm('Standard_D4s_v5', [dataDisk(0), dataDisk(1)]), 'CrashConsistent'),
    warning: 'azureBoostMultipleDataDisks',
    present: false,
  },
  {
    row: 'Intel v6 with one data disk in crash mode',
    input: input(boostVm('Standard_D4s_v6', [dataDisk(0)]), 'CrashConsistent'),
    warning: 'azureBoostMultipleDataDisks',
    present: false,
  },
  {
    row: 'Intel v6 with two data disks in app-consistent mode',
    input: input(boostVm('Standard_D4s_v6', [dataDisk(0), dataDisk(1)]), 'ApplicationConsistent'),
    warning: 'azureBoostMultipleDataDisks',
    present: false,
  },
  {
    row: 'a size without Premium storage in crash mode',
    input: input(boostVm('Standard_D4_v3', [dataDisk(0)]), 'CrashConsistent'),
    warning: 'premiumStorageSizeInCrashMode',
    present: true,
  },
  {
    row: 'a DS-series size in crash mode (Premium storage by family)',
    input: input(boostVm('Standard_DS2_v2', [dataDisk(0)]), 'CrashConsistent'),
    warning: 'premiumStorageSizeInCrashMode',
    present: false,
  },
  {
    row: 'VM agent not ready in app-consistent mode',
    input: input(
      vm({
        instanceView: {
          ...running,
          vmAgent: {
            statuses: [{ code: 'ProvisioningState/Unavailable', level: 'Warning', displayStatus: 'Not Ready' }],
          },
        },
      }),
      'ApplicationConsistent',
    ),
    warning: 'vmAgentNotReady',
    present: true,
  },
  {
    row: 'no VM agent at all in app-consistent mode',
    input: input(vm({ instanceView: { statuses: running.statuses } }), 'ApplicationConsistent'),
    warning: 'vmAgentNotReady',
    present: true,
  },
  {
    row: 'VM agent not ready in crash mode (the agent is not involved)',
    input: input(vm({ instanceView: { statuses: running.statuses } }), 'CrashConsistent'),
    warning: 'vmAgentNotReady',
    present: false,
  },
  {
    row: 'Linux VM in app-consistent mode reports FileSystemConsistent',
    input: input(vm(), 'ApplicationConsistent'),
    warning: 'linuxFileSystemConsistent',
    present: true,
  },
  {
    row: 'Windows VM in app-consistent mode',
    input: input(vm({}, undefined, osDisk('vm1-os', { osType: 'Windows' })), 'ApplicationConsistent'),
    warning: 'linuxFileSystemConsistent',
    present: false,
  },
  {
    row: 'OS disk excluded by policy',
    input: input(vm(), 'CrashConsistent', { exclusions: { names: ['vm1-os'] } }),
    warning: 'osDiskExcluded',
    present: true,
  },
  {
    row: 'ephemeral OS disk excluded (nothing to restore from it anyway)',
    input: input(vm({}, undefined, osDisk('vm1-os', { diffDiskSettings: { option: 'Local' } })), 'CrashConsistent'),
    warning: 'osDiskExcluded',
    present: false,
  },
  {
    row: 'policy names a LUN the VM does not have',
    input: input(vm(), 'CrashConsistent', { exclusions: { luns: [7] } }),
    warning: 'policyExclusionUnmatched',
    present: true,
  },
  {
    row: 'stopped (still allocated) VM in crash mode',
    input: input(vm({ instanceView: { statuses: [{ code: 'PowerState/stopped' }] } }), 'CrashConsistent'),
    warning: 'vmNotRunning',
    present: true,
  },
  {
    row: 'stopped VM in app-consistent mode: the agent cannot answer',
    input: input(vm({ instanceView: { statuses: [{ code: 'PowerState/stopped' }] } }), 'ApplicationConsistent'),
    warning: 'vmAgentNotReady',
    present: true,
  },
  {
    row: 'running VM',
    input: input(vm(), 'CrashConsistent'),
    warning: 'vmNotRunning',
    present: false,
  },
  {
    row: 'instance view missing',
    input: input(vm({ instanceView: undefined }), 'CrashConsistent'),
    warning: 'instanceViewMissing',
    present: true,
  },
  {
    row: 'VM in failed provisioning state',
    input: input(vm({ provisioningState: 'Failed' }), 'CrashConsistent'),
    warning: 'vmProvisioningFailed',
    present: true,
  },
  {
    row: 'Instant Access without a Premium SSD v2 or Ultra disk',
    input: input(vm(), 'ApplicationConsistent', { instantAccess: { durationMinutes: 120 } }),
    warning: 'instantAccessWithoutEligibleDisk',
    present: true,
  },
];

describe('planConsistency: warnings', () => {
  it.each(warningRows)('$row: warning $warning present=$present', ({ input: planInput, warning, present }) => {
    const plan = planned(planConsistency(planInput));
    expect(plan.warningCodes.includes(warning)).toBe(present);
    expect(plan.warnings).toHaveLength(plan.warningCodes.length);
  });

  it('passes Instant Access through when a Premium SSD v2 disk is included', () => {
    const plan = planned(
      planConsistency(
        input(vm(), 'ApplicationConsistent', {
          instantAccess: { durationMinutes: 120 },
          diskOverrides: { 'vm1-data0': { sku: { name: 'PremiumV2_LRS' } } },
        }),
      ),
    );
    expect(plan.instantAccessDurationMinutes).toBe(120);
    expect(plan.warningCodes).not.toContain('instantAccessWithoutEligibleDisk');
  });

  it('a healthy Windows VM in app-consistent mode plans without any warning', () => {
    const plan = planned(
      planConsistency(input(vm({}, undefined, osDisk('vm1-os', { osType: 'Windows' })), 'ApplicationConsistent')),
    );
    expect(plan.warnings).toEqual([]);
  });
});

describe('planConsistency: invariants (property)', () => {
  const skus = fc.constantFrom('Premium_LRS', 'StandardSSD_LRS', 'Standard_LRS', 'UltraSSD_LRS', 'PremiumV2_LRS');
  const dataDiskArb = fc.record({
    sku: skus,
    shares: fc.integer({ min: 1, max: 3 }),
    wa: fc.boolean(),
    rw: fc.boolean(),
  });

  it('never includes a disk Azure refuses in the chosen mode, and every disk is either included or excluded', () => {
    fc.assert(
      fc.property(
        fc.array(dataDiskArb, { maxLength: 6 }),
        fc.constantFrom<ConsistencyMode>('ApplicationConsistent', 'CrashConsistent'),
        fc.boolean(),
        fc.array(fc.integer({ min: 0, max: 7 }), { maxLength: 3 }),
        (specs, mode, ephemeral, luns) => {
          const data = specs.map((s, lun) =>
            dataDisk(lun, `d${lun}`, { writeAcceleratorEnabled: s.wa, caching: s.rw ? 'ReadWrite' : 'None' }),
          );
          const os = osDisk('os', ephemeral ? { diffDiskSettings: { option: 'Local' } } : {});
          const machine = vm({}, data, os);
          const overrides = Object.fromEntries(
            specs.map((s, lun) => [`d${lun}`, { sku: { name: s.sku }, maxShares: s.shares }]),
          );
          const result = planConsistency(input(machine, mode, { diskOverrides: overrides, exclusions: { luns } }));
          if (result.kind === 'refused') {
            expect(result.reasonCode).toBe('allDisksExcluded');
            return;
          }
          expect(result.includedDisks.length + result.excludedDisks.length).toBe(data.length + 1);
          for (const d of result.includedDisks) {
            if (d.lun === 'os') {
              expect(ephemeral).toBe(false);
              continue;
            }
            const spec = specs[d.lun]!;
            expect(spec.shares).toBe(1);
            expect(luns).not.toContain(d.lun);
            if (mode === 'CrashConsistent') {
              expect(['UltraSSD_LRS', 'PremiumV2_LRS']).not.toContain(spec.sku);
              expect(spec.wa).toBe(false);
            }
          }
        },
      ),
    );
  });
});

describe('planFallback: the crash-consistent fallback of an application-consistent request', () => {
  const premiumV2 = { 'vm1-data1': { sku: { name: 'PremiumV2_LRS' } } };

  it('plans crash-consistent and drops Instant Access with a warning instead of refusing', () => {
    const appInput = input(vm(), 'ApplicationConsistent', {
      instantAccess: { durationMinutes: 120 },
      diskOverrides: premiumV2,
    });
    expect(planned(planConsistency(appInput)).instantAccessDurationMinutes).toBe(120);
    const fallback = planned(planFallback(appInput));
    expect(fallback.mode).toBe('CrashConsistent');
    expect(fallback.consistencyModeRequest).toBe('CrashConsistent');
    expect(fallback.instantAccessDurationMinutes).toBeUndefined();
    expect(fallback.warningCodes).toContain('instantAccessDroppedForFallback');
    expect(fallback.warnings[fallback.warningCodes.indexOf('instantAccessDroppedForFallback')]).toBe(
      'vm1: this crash-consistent fallback is created without Instant Access, which applies to application-consistent restore points only',
    );
    // The Premium SSD v2 disk that made Instant Access apply is itself excluded in crash-consistent mode.
    expect(fallback.excludedDisks).toMatchObject([{ name: 'vm1-data1', reason: 'premiumV2DiskInCrashMode' }]);
  });

  it('still refuses a direct crash-consistent request with Instant Access', () => {
    const result = planConsistency(input(vm(), 'CrashConsistent', { instantAccess: { durationMinutes: 120 } }));
    expect(result).toMatchObject({ kind: 'refused', reasonCode: 'instantAccessNeedsApplicationConsistent' });
  });

  it('adds no Instant Access warning when none was asked for', () => {
    const fallback = planned(planFallback(input(vm(), 'ApplicationConsistent')));
    expect(fallback.mode).toBe('CrashConsistent');
    expect(fallback.warningCodes).not.toContain('instantAccessDroppedForFallback');
  });

  it('drops even an Instant Access duration that the application-consistent plan would refuse', () => {
    const appInput = input(vm(), 'ApplicationConsistent', { instantAccess: { durationMinutes: 30 } });
    expect(planConsistency(appInput)).toMatchObject({ kind: 'refused', reasonCode: 'instantAccessDuration' });
    expect(planned(planFallback(appInput)).warningCodes).toContain('instantAccessDroppedForFallback');
  });

  it('refuses to fall back from a crash-consistent request (there is nothing to fall back from)', () => {
    expect(() => planFallback(input(vm(), 'CrashConsistent'))).toThrow(TypeError);
  });

  it('is the crash-consistent plan without Instant Access, plus one warning when Instant Access was asked for', () => {
    const skus = fc.constantFrom('Premium_LRS', 'StandardSSD_LRS', 'UltraSSD_LRS', 'PremiumV2_LRS');
    fc.assert(
      fc.property(
        fc.array(fc.record({ sku: skus, shares: fc.integer({ min: 1, max: 2 }), rw: fc.boolean() }), { maxLength: 4 }),
        fc.option(fc.integer({ min: 0, max: 400 }), { nil: undefined }),
        fc.constantFrom('Standard_D4s_v5', 'Standard_E8ds_v6', 'Standard_D2_v5'),
        fc.boolean(),
        (specs, minutes, vmSize, agentReady) => {
          const data = specs.map((s, lun) => dataDisk(lun, `d${lun}`, { caching: s.rw ? 'ReadWrite' : 'None' }));
          const machine = vm(
            {
              hardwareProfile: { vmSize },
              instanceView: agentReady ? running : { ...running, vmAgent: { statuses: [] } },
            },
            data,
          );
          const diskOverrides = Object.fromEntries(
            specs.map((s, lun) => [`d${lun}`, { sku: { name: s.sku }, maxShares: s.shares }]),
          );
          const appInput = input(machine, 'ApplicationConsistent', {
            diskOverrides,
            ...(minutes !== undefined ? { instantAccess: { durationMinutes: minutes } } : {}),
          });
          const crash = planConsistency(input(machine, 'CrashConsistent', { diskOverrides }));
          const fallback = planFallback(appInput);
          if (crash.kind === 'refused') {
            expect(fallback).toEqual(crash);
            return;
          }
          const dropped = minutes !== undefined;
          expect(fallback).toEqual({
            ...crash,
            warnings: [
              ...crash.warnings,
              ...(dropped ? [planned(fallback).warnings[crash.warnings.length] as string] : []),
            ],
            warningCodes: [...crash.warningCodes, ...(dropped ? ['instantAccessDroppedForFallback'] : [])],
          });
          expect(planned(fallback).instantAccessDurationMinutes).toBeUndefined();
        },
      ),
    );
  });
});

describe('isVmSideAppConsistencyFailure', () => {
  const rows: ReadonlyArray<[string, unknown, boolean]> = [
    [
      'agent silent (code only)',
      { code: 'VMAgentStatusCommunicationError', message: 'VM has not reported status for VM agent or extensions.' },
      true,
    ],
    [
      'VSS writers in a bad state',
      {
        error: {
          code: 'VMRestorePointClientError',
          message:
            'Restore Point creation failed due to VSS Writers in bad state. Restart VSS Writer services and reboot VM.',
        },
      },
      true,
    ],
    [
      'COM+ error',
      {
        code: 'VMRestorePointClientError',
        message:
          'Restore Point creation failed due to COM+ error. Please restart windows service "COM+ System Application" (COMSysApp).',
      },
      true,
    ],
    [
      'MSDTC',
      {
        code: 'VMRestorePointClientError',
        message:
          'Restore Point creation failed with the error "COM+ was unable to talk to the Microsoft Distributed Transaction Coordinator".',
      },
      true,
    ],
    [
      'Visual C++',
      {
        code: 'VMRestorePointClientError',
        message:
          'Restore Point creation failed due to failure in installation of Visual C++ Redistributable for Visual Studio 2012.',
      },
      true,
    ],
    [
      'Linux pre-script',
      { code: 'VMRestorePointClientError', message: 'Pre-script execution failed on the VM.' },
      true,
    ],
    [
      'no network in the guest',
      {
        code: 'VMRestorePointClientError',
        message: 'Restore Point creation failed due to no network connectivity on the virtual machine.',
      },
      true,
    ],
    [
      'internal error while taking the VM snapshot',
      {
        code: 'VMRestorePointInternalError',
        message: 'Restore Point creation failed due to an internal execution error while creating VM snapshot.',
      },
      true,
    ],
    [
      'the error core-lro throws when the operation fails',
      new Error(
        'The long-running operation has failed. VMAgentStatusCommunicationError. VM has not reported status for VM agent or extensions.',
      ),
      true,
    ],
    [
      'shared disk',
      {
        code: 'VMRestorePointClientError',
        message: 'Creation of Restore Point of a Virtual Machine with Shared disks is not supported.',
      },
      false,
    ],
    [
      '500 restore point limit',
      {
        code: 'VMRestorePointClientError',
        message:
          'Restore Point creation failed as the maximum allowed snapshot limit of one or more disk blobs has been reached.',
      },
      false,
    ],
    [
      'concurrent creation',
      {
        code: 'VMRestorePointClientError',
        message:
          "RestorePoint creation failed since a concurrent 'Create RestorePoint' operation was triggered on the VM.",
      },
      false,
    ],
    ['throttling', { code: 'OperationNotAllowed', message: 'too many requests' }, false],
    [
      'a generic internal error',
      { code: 'InternalError', message: 'An internal execution error occurred. Please retry later.' },
      false,
    ],
    ['nothing recognisable', new Error('boom'), false],
  ];

  it.each(rows)('%s → %s', (_name, error, expected) => {
    expect(isVmSideAppConsistencyFailure(error)).toBe(expected);
  });
});
