import { createHash } from 'node:crypto';
import { flat, idKey } from './armIds';
import type { EmulatorEnv } from './env';
import type { EncryptionType, JsonObject, VirtualMachineRecord } from './store';
import { isObject } from './validation';

/** A disk of a VM as the restore point rules see it. */
export interface VmDisk {
  /** null for the OS disk. */
  lun: number | null;
  name: string;
  /** ARM id of the managed disk; undefined for an unmanaged (VHD) disk. */
  id?: string;
  diskSizeGB: number;
  storageAccountType: string;
  caching?: string;
  writeAcceleratorEnabled?: boolean;
  ephemeral: boolean;
  unmanaged: boolean;
  shared: boolean;
  encryptionType: EncryptionType;
  diskEncryptionSetId?: string;
  uniqueId: string;
}

/** A stable GUID derived from text (family ids of disks created before the emulator tracked them). */
export function guidFrom(text: string): string {
  const hex = createHash('sha1').update(text).digest('hex');
  return flat(
    hex.slice(0, 8),
    '-',
    hex.slice(8, 12),
    '-5',
    hex.slice(13, 16),
    '-a',
    hex.slice(17, 20),
    '-',
    hex.slice(20, 32),
  );
}

function storageProfile(vm: VirtualMachineRecord): JsonObject {
  const profile = vm.properties.storageProfile;
  return isObject(profile) ? profile : {};
}

export function vmDiskEntries(vm: VirtualMachineRecord): { lun: number | null; entry: JsonObject }[] {
  const profile = storageProfile(vm);
  const entries: { lun: number | null; entry: JsonObject }[] = [];
  if (isObject(profile.osDisk)) entries.push({ lun: null, entry: profile.osDisk });
  if (Array.isArray(profile.dataDisks)) {
    for (const disk of profile.dataDisks as unknown[]) {
      if (isObject(disk)) entries.push({ lun: typeof disk.lun === 'number' ? disk.lun : 0, entry: disk });
    }
  }
  return entries;
}

export function vmDisks(env: EmulatorEnv, vm: VirtualMachineRecord): VmDisk[] {
  return vmDiskEntries(vm).map(({ lun, entry }) => {
    const managed = isObject(entry.managedDisk) ? entry.managedDisk : undefined;
    const id = typeof managed?.id === 'string' ? managed.id : undefined;
    const record = id ? env.store.disks.get(id) : undefined;
    const props = record?.properties ?? {};
    const encryption = isObject(props.encryption) ? props.encryption : {};
    const des = isObject(managed?.diskEncryptionSet) ? managed.diskEncryptionSet : undefined;
    const desId =
      typeof encryption.diskEncryptionSetId === 'string'
        ? encryption.diskEncryptionSetId
        : typeof des?.id === 'string'
          ? des.id
          : undefined;
    const encryptionType =
      typeof encryption.type === 'string'
        ? (encryption.type as EncryptionType)
        : desId
          ? 'EncryptionAtRestWithCustomerKey'
          : 'EncryptionAtRestWithPlatformKey';
    const diffDisk = isObject(entry.diffDiskSettings) ? entry.diffDiskSettings : undefined;
    const size =
      typeof props.diskSizeGB === 'number'
        ? props.diskSizeGB
        : typeof entry.diskSizeGB === 'number'
          ? entry.diskSizeGB
          : 0;
    return {
      lun,
      name: typeof entry.name === 'string' ? entry.name : (record?.name ?? ''),
      ...(id ? { id } : {}),
      diskSizeGB: size,
      storageAccountType:
        record?.sku ?? (typeof managed?.storageAccountType === 'string' ? managed.storageAccountType : 'Premium_LRS'),
      ...(typeof entry.caching === 'string' ? { caching: entry.caching } : {}),
      ...(typeof entry.writeAcceleratorEnabled === 'boolean'
        ? { writeAcceleratorEnabled: entry.writeAcceleratorEnabled }
        : {}),
      ephemeral: lun === null && typeof diffDisk?.option === 'string' && diffDisk.option.toLowerCase() === 'local',
      unmanaged: isObject(entry.vhd),
      shared: typeof props.maxShares === 'number' && props.maxShares > 1,
      encryptionType,
      ...(desId ? { diskEncryptionSetId: desId } : {}),
      uniqueId: typeof props.uniqueId === 'string' ? props.uniqueId : guidFrom(`unique:${idKey(id ?? vm.id)}`),
    };
  });
}

/**
 * The VM configuration a restore point captures (`sourceMetadata` without storage), stored once
 * and shared by every point taken while it is unchanged.
 */
export function captureConfig(env: EmulatorEnv, vm: VirtualMachineRecord, vmId: string): string {
  const p = vm.properties;
  const osProfile = isObject(p.osProfile) ? { ...p.osProfile } : undefined;
  if (osProfile) {
    delete osProfile.adminPassword;
    delete osProfile.customData;
  }
  const profile = storageProfile(vm);
  const os = isObject(profile.osDisk) ? profile.osDisk : {};
  const config: JsonObject = {
    vmId,
    ...(isObject(p.hardwareProfile) ? { hardwareProfile: p.hardwareProfile } : {}),
    ...(osProfile ? { osProfile } : {}),
    ...(isObject(p.diagnosticsProfile) ? { diagnosticsProfile: p.diagnosticsProfile } : {}),
    ...(typeof p.licenseType === 'string' ? { licenseType: p.licenseType } : {}),
    ...(isObject(p.securityProfile) ? { securityProfile: p.securityProfile } : {}),
    ...(typeof p.userData === 'string' ? { userData: p.userData } : {}),
    location: vm.location,
    ...(typeof p.hyperVGeneration === 'string' ? { hyperVGeneration: p.hyperVGeneration } : {}),
    osType: typeof os.osType === 'string' ? os.osType : 'Linux',
    ...(typeof profile.diskControllerType === 'string' ? { diskControllerType: profile.diskControllerType } : {}),
  };
  const current = env.store.vmConfigs.get(vm.configRef);
  if (current && JSON.stringify(current) === JSON.stringify(config)) return vm.configRef;
  const ref = flat(idKey(vm.id), '#', String(env.clock.now()), '#', Math.random().toString(36).slice(2, 8));
  env.store.vmConfigs.set(ref, Object.freeze(config));
  return ref;
}
