import { randomBytes } from 'node:crypto';
import { ArmError, conflictingOperation, invalidParameter, operationNotAllowed, resourceNotFound } from '../armErrors';
import type { ResourceScope } from '../armIds';
import { idKey, parseId, resourceId, newGuid } from '../armIds';
import type { EmulatorEnv } from '../env';
import type { ArmRequest, ArmResponse } from '../http';
import { param } from '../http';
import { normaliseLocation } from '../memoryStore';
import { EMULATOR_TAGS } from '../simulation';
import type { DiskRecord, JsonObject, VirtualMachineRecord } from '../store';
import {
  checkName,
  checkProvisioningState,
  isObject,
  objectBody,
  optionalArray,
  optionalEnum,
  optionalInteger,
  optionalObject,
  optionalString,
  requiredLocation,
  tagsOf,
} from '../validation';
import { captureConfig, vmDiskEntries } from '../vmModel';
import { accepted, lroHeaders, page, scopeOf, startOperation } from './common';
import { newDiskRecord } from './disks';

/** Tag `VirtualMachines`: CreateOrUpdate (LRO, attaching restored disks), Get, InstanceView, List, ListAll, Delete, power actions. */
export const TYPE = 'Microsoft.Compute/virtualMachines';

function sanitisedProperties(vm: VirtualMachineRecord): JsonObject {
  const properties = { ...vm.properties };
  if (isObject(properties.osProfile)) {
    const osProfile = { ...properties.osProfile };
    delete osProfile.adminPassword;
    delete osProfile.customData;
    properties.osProfile = osProfile;
  }
  return properties;
}

export function renderVm(env: EmulatorEnv, vm: VirtualMachineRecord, expand?: string): unknown {
  const properties: JsonObject = { ...sanitisedProperties(vm), provisioningState: vm.provisioningState };
  if (expand?.toLowerCase() !== 'userdata') delete properties.userData;
  if (expand?.toLowerCase() === 'instanceview') properties.instanceView = instanceViewOf(env, vm);
  return {
    name: vm.name,
    id: vm.id,
    type: TYPE,
    location: vm.location,
    ...(vm.tags ? { tags: vm.tags } : {}),
    ...(vm.zones ? { zones: vm.zones } : {}),
    ...(vm.identity ? { identity: vm.identity } : {}),
    ...(vm.plan ? { plan: vm.plan } : {}),
    properties,
  };
}

function status(code: string, displayStatus: string, time?: string, level = 'Info'): JsonObject {
  return { code, level, displayStatus, ...(time ? { time } : {}) };
}

function instanceViewOf(env: EmulatorEnv, vm: VirtualMachineRecord): JsonObject {
  const time = new Date(env.clock.now()).toISOString();
  const agentReady = vm.tags?.[EMULATOR_TAGS.vmAgent]?.toLowerCase() !== 'notready' && vm.powerState === 'running';
  const osProfile = isObject(vm.properties.osProfile) ? vm.properties.osProfile : {};
  const power: Record<VirtualMachineRecord['powerState'], [string, string]> = {
    running: ['PowerState/running', 'VM running'],
    stopped: ['PowerState/stopped', 'VM stopped'],
    deallocated: ['PowerState/deallocated', 'VM deallocated'],
  };
  const provisioning =
    vm.provisioningState === 'Succeeded'
      ? status('ProvisioningState/succeeded', 'Provisioning succeeded', time)
      : status(`ProvisioningState/${vm.provisioningState.toLowerCase()}`, vm.provisioningState, time);
  return {
    ...(typeof osProfile.computerName === 'string' ? { computerName: osProfile.computerName } : {}),
    vmAgent: {
      vmAgentVersion: agentReady ? '2.11.1.12' : 'Unknown',
      statuses: [
        agentReady
          ? {
              ...status('ProvisioningState/succeeded', 'Ready', time),
              message: 'GuestAgent is running and processing the extensions.',
            }
          : {
              ...status('ProvisioningState/Unavailable', 'Not Ready', time, 'Warning'),
              message: 'VM status blob is found but not yet populated.',
            },
      ],
    },
    disks: vmDiskEntries(vm).map(({ entry }) => ({
      name: entry.name,
      statuses: [status('ProvisioningState/succeeded', 'Provisioning succeeded', time)],
    })),
    ...(typeof vm.properties.hyperVGeneration === 'string' ? { hyperVGeneration: vm.properties.hyperVGeneration } : {}),
    statuses: [provisioning, status(...power[vm.powerState])],
  };
}

export function findVm(env: EmulatorEnv, request: ArmRequest): VirtualMachineRecord {
  const scope = scopeOf(request);
  const name = param(request, 'vmName');
  const vm = env.store.virtualMachines.get(resourceId(scope, 'virtualMachines', name));
  if (!vm) throw resourceNotFound(`${TYPE}/${name}`, scope.resourceGroup);
  return vm;
}

interface DiskPlan {
  /** Disks to create (validated, not yet stored). */
  create: DiskRecord[];
  /** ids (lower-cased) attached after the change. */
  attached: Set<string>;
  storageProfile: JsonObject;
}

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/** Resolves every disk of a VM body: creates implicit disks, checks attached ones, fills ids. */
function planDisks(
  env: EmulatorEnv,
  scope: ResourceScope,
  vmName: string,
  vmIdValue: string,
  location: string,
  storageProfile: JsonObject,
  existing: VirtualMachineRecord | undefined,
): DiskPlan {
  const plan: DiskPlan = { create: [], attached: new Set(), storageProfile: { ...storageProfile } };
  const previous = new Map<string, JsonObject>();
  if (existing) for (const { lun, entry } of vmDiskEntries(existing)) previous.set(String(lun), entry);

  const resolve = (entry: JsonObject, lun: number | null, path: string): JsonObject => {
    const result: JsonObject = { ...entry };
    if (isObject(entry.vhd)) return result; // unmanaged disk: no managed disk resource
    const managed = optionalObject(entry, 'managedDisk', `${path}.managedDisk`) ?? {};
    const createOption = optionalEnum(entry, 'createOption', `${path}.createOption`, [
      'FromImage',
      'Empty',
      'Attach',
      'Copy',
      'Restore',
    ] as const);
    if (!createOption)
      throw invalidParameter(`${path}.createOption`, `Required parameter '${path}.createOption' is missing (null).`);
    const size = optionalInteger(entry, 'diskSizeGB', `${path}.diskSizeGB`);
    const sku = optionalString(managed, 'storageAccountType', `${path}.managedDisk.storageAccountType`);
    let id = optionalString(managed, 'id', `${path}.managedDisk.id`);
    const before = previous.get(String(lun));
    if (!id && before && isObject(before.managedDisk) && typeof before.managedDisk.id === 'string') {
      const sameName = entry.name === undefined || entry.name === before.name;
      if (sameName) id = before.managedDisk.id;
    }
    if (id) {
      const disk = env.store.disks.get(id) ?? plan.create.find((d) => idKey(d.id) === idKey(id ?? ''));
      if (!disk) {
        const parsed = parseId(id);
        throw new ArmError(404, 'NotFound', `Disk '${parsed?.name ?? id}' was not found.`, {
          target: `${path}.managedDisk.id`,
        });
      }
      const shared = typeof disk.properties.maxShares === 'number' && disk.properties.maxShares > 1;
      if (disk.managedBy && idKey(disk.managedBy) !== idKey(resourceId(scope, 'virtualMachines', vmName)) && !shared) {
        throw operationNotAllowed(`Disk ${disk.name} is already attached to VM ${disk.managedBy}.`);
      }
      if (normaliseLocation(disk.location) !== normaliseLocation(location)) {
        throw invalidParameter(
          `${path}.managedDisk.id`,
          `Disk '${disk.name}' is in region '${disk.location}', the VM in '${location}'.`,
        );
      }
      plan.attached.add(idKey(disk.id));
      result.name = entry.name ?? disk.name;
      result.diskSizeGB = disk.properties.diskSizeGB;
      result.managedDisk = { ...managed, id: disk.id, storageAccountType: disk.sku };
      return result;
    }
    if (createOption === 'Attach') {
      throw invalidParameter(
        `${path}.managedDisk.id`,
        `Required parameter '${path}.managedDisk.id' is missing (null) for createOption Attach.`,
      );
    }
    const name =
      typeof entry.name === 'string'
        ? entry.name
        : lun === null
          ? `${vmName}_OsDisk_1_${hex(16)}`
          : `${vmName}_DataDisk_${lun}`;
    const creationData: JsonObject = {
      createOption: createOption === 'Restore' ? 'Restore' : createOption === 'Empty' ? 'Empty' : 'FromImage',
    };
    if (createOption === 'Restore') {
      const source = optionalObject(entry, 'sourceResource', `${path}.sourceResource`);
      const sourceId = source ? optionalString(source, 'id', `${path}.sourceResource.id`) : undefined;
      if (!sourceId)
        throw invalidParameter(
          `${path}.sourceResource.id`,
          `Required parameter '${path}.sourceResource.id' is missing (null) for createOption Restore.`,
        );
      creationData.sourceResourceId = sourceId;
    }
    if (createOption === 'Empty' && size === undefined) {
      throw invalidParameter(
        `${path}.diskSizeGB`,
        `Required parameter '${path}.diskSizeGB' is missing (null) for createOption Empty.`,
      );
    }
    const diskProperties: JsonObject = { creationData, ...(size !== undefined ? { diskSizeGB: size } : {}) };
    if (lun === null) {
      diskProperties.osType = entry.osType ?? 'Linux';
      if (createOption === 'FromImage' && size === undefined) diskProperties.diskSizeGB = 30;
    }
    const des = isObject(managed.diskEncryptionSet) ? managed.diskEncryptionSet : undefined;
    if (typeof des?.id === 'string')
      diskProperties.encryption = { type: 'EncryptionAtRestWithCustomerKey', diskEncryptionSetId: des.id };
    const record = newDiskRecord(env, scope, name, { location, ...(sku ? { sku } : {}), properties: diskProperties });
    if (env.store.disks.get(record.id))
      throw new ArmError(409, 'Conflict', `Disk '${name}' already exists in resource group '${scope.resourceGroup}'.`);
    record.managedBy = resourceId(scope, 'virtualMachines', vmName);
    plan.create.push(record);
    plan.attached.add(idKey(record.id));
    result.name = name;
    result.diskSizeGB = record.properties.diskSizeGB;
    result.managedDisk = { ...managed, id: record.id, storageAccountType: record.sku };
    if (lun === null && result.osType === undefined) result.osType = record.properties.osType;
    return result;
  };

  const osDisk = optionalObject(storageProfile, 'osDisk', 'properties.storageProfile.osDisk');
  if (!osDisk)
    throw invalidParameter(
      'properties.storageProfile.osDisk',
      "Required parameter 'properties.storageProfile.osDisk' is missing (null).",
    );
  optionalEnum(osDisk, 'osType', 'properties.storageProfile.osDisk.osType', ['Windows', 'Linux'] as const);
  plan.storageProfile.osDisk = resolve(osDisk, null, 'properties.storageProfile.osDisk');
  const dataDisks = optionalArray(storageProfile, 'dataDisks', 'properties.storageProfile.dataDisks') ?? [];
  const luns = new Set<number>();
  plan.storageProfile.dataDisks = dataDisks.map((item, i) => {
    const path = `properties.storageProfile.dataDisks[${i}]`;
    if (!isObject(item)) throw invalidParameter(path, `${path} must be an object.`);
    const lun = optionalInteger(item, 'lun', `${path}.lun`);
    if (lun === undefined) throw invalidParameter(`${path}.lun`, `Required parameter '${path}.lun' is missing (null).`);
    if (luns.has(lun)) throw invalidParameter(`${path}.lun`, `A disk at lun ${lun} is specified more than once.`);
    luns.add(lun);
    return resolve(item, lun, path);
  });
  void vmIdValue;
  return plan;
}

function setReference(properties: JsonObject, field: 'availabilitySet' | 'virtualMachineScaleSet'): string | undefined {
  const ref = optionalObject(properties, field, `properties.${field}`);
  return ref ? optionalString(ref, 'id', `properties.${field}.id`) : undefined;
}

function updateMembership(
  env: EmulatorEnv,
  vmKey: string,
  oldSets: (string | undefined)[],
  newSets: (string | undefined)[],
): void {
  for (const set of oldSets) if (set) env.setMembers.get(idKey(set))?.delete(vmKey);
  for (const set of newSets) {
    if (!set) continue;
    const key = idKey(set);
    let members = env.setMembers.get(key);
    if (!members) env.setMembers.set(key, (members = new Set()));
    members.add(vmKey);
  }
}

/** VirtualMachines_CreateOrUpdate: 201 (create) / 200 (update) + Azure-AsyncOperation, then Succeeded. */
export function createOrUpdate(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  const scope = scopeOf(request);
  const name = param(request, 'vmName');
  checkName(name, 64);
  const root = objectBody(request.body);
  const location = requiredLocation(root);
  const tags = tagsOf(root);
  const zones = optionalArray(root, 'zones', 'zones')?.map(String);
  const identity = optionalObject(root, 'identity', 'identity');
  const plan = optionalObject(root, 'plan', 'plan');
  const properties = { ...(optionalObject(root, 'properties', 'properties') ?? {}) };
  const id = resourceId(scope, 'virtualMachines', name);
  const existing = env.store.virtualMachines.get(id);
  checkProvisioningState(properties, existing?.provisioningState);
  if (existing) {
    if (normaliseLocation(existing.location) !== normaliseLocation(location)) {
      throw new ArmError(
        409,
        'InvalidResourceLocation',
        `The resource '${name}' already exists in location '${existing.location}' in resource group '${scope.resourceGroup}'. A resource with the same name cannot be created in location '${location}'. Please select a new resource name.`,
      );
    }
    if (existing.provisioningState === 'Creating' || existing.provisioningState === 'Deleting')
      throw conflictingOperation(name);
  }
  const hardware = optionalObject(properties, 'hardwareProfile', 'properties.hardwareProfile');
  if (hardware) optionalString(hardware, 'vmSize', 'properties.hardwareProfile.vmSize');
  const storageProfile =
    optionalObject(properties, 'storageProfile', 'properties.storageProfile') ??
    (existing ? (existing.properties.storageProfile as JsonObject) : undefined);
  if (!storageProfile)
    throw invalidParameter(
      'properties.storageProfile',
      "Required parameter 'properties.storageProfile' is missing (null).",
    );
  const availabilitySetId = setReference(properties, 'availabilitySet');
  const scaleSetId = setReference(properties, 'virtualMachineScaleSet');
  for (const [setId, table, type] of [
    [availabilitySetId, env.store.availabilitySets, 'availabilitySets'],
    [scaleSetId, env.store.scaleSets, 'virtualMachineScaleSets'],
  ] as const) {
    if (!setId) continue;
    const set = table.get(setId);
    if (!set) {
      const parsed = parseId(setId);
      throw resourceNotFound(
        `Microsoft.Compute/${type}/${parsed?.name ?? setId}`,
        parsed?.resourceGroup ?? scope.resourceGroup,
      );
    }
    if (normaliseLocation(set.location) !== normaliseLocation(location)) {
      throw invalidParameter(
        `properties.${type === 'availabilitySets' ? 'availabilitySet' : 'virtualMachineScaleSet'}.id`,
        `The set '${set.name}' is in region '${set.location}', the VM in '${location}'.`,
      );
    }
  }
  const vmIdValue = typeof existing?.properties.vmId === 'string' ? existing.properties.vmId : newGuid();
  const disks = planDisks(env, scope, name, vmIdValue, location, storageProfile, existing);

  // All checks passed: apply.
  const previouslyAttached = new Set(
    existing
      ? vmDiskEntries(existing).flatMap(({ entry }) =>
          isObject(entry.managedDisk) && typeof entry.managedDisk.id === 'string' ? [idKey(entry.managedDisk.id)] : [],
        )
      : [],
  );
  for (const disk of disks.create) env.store.disks.put(disk);
  for (const key of disks.attached) {
    const disk = env.store.disks.get(key);
    if (disk && !disk.managedBy) {
      disk.managedBy = id;
    }
  }
  for (const key of previouslyAttached) {
    if (disks.attached.has(key)) continue;
    const disk = env.store.disks.get(key);
    if (disk && disk.managedBy && idKey(disk.managedBy) === idKey(id)) disk.managedBy = undefined;
  }
  const disksChanged =
    existing !== undefined &&
    (previouslyAttached.size !== disks.attached.size || [...disks.attached].some((k) => !previouslyAttached.has(k)));
  const { provisioningState: _p, instanceView: _i, ...input } = properties;
  void _p;
  void _i;
  const now = new Date(env.clock.now()).toISOString();
  const record: VirtualMachineRecord = {
    id,
    name,
    subscriptionId: scope.subscriptionId,
    resourceGroup: scope.resourceGroup,
    location,
    ...(tags ? { tags } : {}),
    ...(zones ? { zones } : {}),
    ...(identity ? { identity } : {}),
    ...(plan ? { plan } : {}),
    properties: {
      ...(existing ? existing.properties : {}),
      ...input,
      storageProfile: disks.storageProfile,
      vmId: vmIdValue,
      timeCreated: existing?.properties.timeCreated ?? now,
    },
    provisioningState: existing ? 'Updating' : 'Creating',
    powerState: existing?.powerState ?? 'running',
    diskGeneration: (existing?.diskGeneration ?? 0) + (disksChanged ? 1 : 0),
    ...(existing?.creatingRestorePointKey ? { creatingRestorePointKey: existing.creatingRestorePointKey } : {}),
    configRef: existing?.configRef ?? '',
  };
  record.configRef = captureConfig(env, record, vmIdValue);
  env.store.virtualMachines.put(record);
  updateMembership(
    env,
    idKey(id),
    [
      setReference(existing?.properties ?? {}, 'availabilitySet'),
      setReference(existing?.properties ?? {}, 'virtualMachineScaleSet'),
    ],
    [availabilitySetId, scaleSetId],
  );
  const operation = startOperation(env, request, {
    location,
    family: 'operations',
    durationMs: existing ? env.settings.vmPowerMs : env.settings.vmCreateMs,
    action: { kind: 'createVm', key: idKey(id) },
  });
  env.markChanged();
  return { status: existing ? 200 : 201, body: renderVm(env, record), headers: lroHeaders(request, operation, false) };
}

export function completeCreate(env: EmulatorEnv, key: string, failed: boolean): void {
  const vm = env.store.virtualMachines.get(key);
  if (vm && (vm.provisioningState === 'Creating' || vm.provisioningState === 'Updating')) {
    vm.provisioningState = failed ? 'Failed' : 'Succeeded';
  }
}

/** VirtualMachines_Get (`$expand=instanceView|userData`). */
export function get(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  const vm = findVm(env, request);
  return { status: 200, body: renderVm(env, vm, request.query.get('$expand') ?? undefined) };
}

/** VirtualMachines_InstanceView: the instance view itself. */
export function instanceView(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  return { status: 200, body: instanceViewOf(env, findVm(env, request)) };
}

/** VirtualMachines_List (resource group). */
export function list(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  const scope = scopeOf(request);
  const items = env.store.virtualMachines.listByResourceGroup(scope.subscriptionId, scope.resourceGroup);
  return page(env, request, filterVms(env, request, items), (vm) =>
    renderVm(env, vm, request.query.get('$expand') ?? undefined),
  );
}

/** VirtualMachines_ListAll (subscription); supports `$filter=virtualMachineScaleSet/id eq '<id>'`. */
export function listAll(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  const items = env.store.virtualMachines.listBySubscription(param(request, 'subscriptionId'));
  return page(env, request, filterVms(env, request, items), (vm) =>
    renderVm(env, vm, request.query.get('$expand') ?? undefined),
  );
}

function filterVms(env: EmulatorEnv, request: ArmRequest, items: VirtualMachineRecord[]): VirtualMachineRecord[] {
  const filter = request.query.get('$filter');
  if (!filter) return items;
  const match = /^\s*virtualMachineScaleSet\/id\s+eq\s+'([^']+)'\s*$/i.exec(filter);
  if (!match?.[1]) {
    throw invalidParameter(
      '$filter',
      `The $filter '${filter}' is not supported; use virtualMachineScaleSet/id eq '<scale set id>'.`,
    );
  }
  const members = env.setMembers.get(idKey(match[1])) ?? new Set<string>();
  return items.filter((vm) => members.has(idKey(vm.id)));
}

/** VirtualMachines_Delete: LRO; detaches disks (deletes those with deleteOption Delete); 204 when absent. */
function deleteVm(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  const scope = scopeOf(request);
  const name = param(request, 'vmName');
  const vm = env.store.virtualMachines.get(resourceId(scope, 'virtualMachines', name));
  if (!vm) return { status: 204 };
  if (vm.provisioningState === 'Deleting') throw conflictingOperation(name);
  vm.provisioningState = 'Deleting';
  const operation = startOperation(env, request, {
    location: vm.location,
    family: 'operations',
    durationMs: env.settings.deleteMs,
    action: { kind: 'deleteVm', key: idKey(vm.id) },
  });
  env.markChanged();
  return accepted(request, operation);
}
export { deleteVm as delete };

export function completeDelete(env: EmulatorEnv, key: string): void {
  const vm = env.store.virtualMachines.get(key);
  if (!vm) return;
  for (const { entry } of vmDiskEntries(vm)) {
    const managed = isObject(entry.managedDisk) ? entry.managedDisk : undefined;
    if (typeof managed?.id !== 'string') continue;
    const disk = env.store.disks.get(managed.id);
    if (!disk || !disk.managedBy || idKey(disk.managedBy) !== key) continue;
    disk.managedBy = undefined;
    if (typeof entry.deleteOption === 'string' && entry.deleteOption.toLowerCase() === 'delete')
      env.store.disks.delete(disk.id);
  }
  updateMembership(
    env,
    key,
    [setReference(vm.properties, 'availabilitySet'), setReference(vm.properties, 'virtualMachineScaleSet')],
    [],
  );
  env.store.virtualMachines.delete(key);
}

function powerAction(env: EmulatorEnv, request: ArmRequest, to: VirtualMachineRecord['powerState']): ArmResponse {
  const vm = findVm(env, request);
  if (vm.provisioningState === 'Deleting' || vm.provisioningState === 'Creating') throw conflictingOperation(vm.name);
  const operation = startOperation(env, request, {
    location: vm.location,
    family: 'operations',
    durationMs: env.settings.vmPowerMs,
    action: { kind: 'vmPower', key: idKey(vm.id), to },
  });
  return accepted(request, operation);
}

/** VirtualMachines_Deallocate. */
export function deallocate(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  return powerAction(env, request, 'deallocated');
}

/** VirtualMachines_PowerOff. */
export function powerOff(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  return powerAction(env, request, 'stopped');
}

/** VirtualMachines_Start. */
export function start(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  return powerAction(env, request, 'running');
}

export function completePower(env: EmulatorEnv, key: string, to: VirtualMachineRecord['powerState']): void {
  const vm = env.store.virtualMachines.get(key);
  if (vm) vm.powerState = to;
}
