import {
  ArmError,
  MESSAGES,
  conflictingOperation,
  diskRestorePointUsedByCustomer,
  invalidParameter,
  operationNotAllowed,
  parentResourceNotFound,
  resourceNotFound,
  restorePointClientError,
} from '../armErrors';
import { diskRestorePointId, flat, idKey, parseId, resourceId, restorePointId, newGuid } from '../armIds';
import type { EmulatorEnv } from '../env';
import type { ArmRequest, ArmResponse } from '../http';
import { param } from '../http';
import { EMULATOR_TAGS, copyDurationMs, restorePointCreationMs } from '../simulation';
import type { CollectionRecord, DiskRestorePointRecord, RestorePointRecord, VirtualMachineRecord } from '../store';
import {
  checkName,
  idReferences,
  objectBody,
  optionalEnum,
  optionalInteger,
  optionalObject,
  requiredString,
} from '../validation';
import { accepted, countLowCostGet, lroHeaders, scopeOf, startOperation, subscriptionKey } from './common';
import {
  RESTORE_POINT_TYPE as TYPE,
  hasActiveSas,
  renderRestorePoint,
  snapshotAccessState,
} from '../restorePointModel';
import { vmDisks, type VmDisk } from '../vmModel';
import { TYPE as COLLECTION_TYPE, findCollection } from './restorePointCollections';

/** Tag `RestorePoints`: Create (LRO), Get, Delete (LRO), and the rules Azure enforces on creation. */
const HOUR = 3_600_000;
/** Shared by every point that excludes nothing (most of them). */
const NO_DISKS: string[] = [];

export function findRestorePoint(
  env: EmulatorEnv,
  request: ArmRequest,
  nameParam = 'restorePointName',
): RestorePointRecord {
  const collection = findCollection(env, request);
  const name = param(request, nameParam);
  const rp = env.store.restorePoints.get(restorePointId(collection.id, name));
  if (!rp)
    throw resourceNotFound(`${COLLECTION_TYPE}/${collection.name}/restorePoints/${name}`, collection.resourceGroup);
  return rp;
}

/** RestorePoints_Get (`$expand=instanceView`). */
export function get(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  countLowCostGet(env, request);
  const rp = findRestorePoint(env, request);
  const expand = request.query.get('$expand')?.toLowerCase() === 'instanceview';
  return { status: 200, body: renderRestorePoint(env, rp, expand) };
}

interface CreateInput {
  consistencyMode?: 'CrashConsistent' | 'ApplicationConsistent' | 'FileSystemConsistent';
  excludeDisks: string[];
  sourceRestorePointId?: string;
  instantAccessDurationMinutes?: number;
}

function readCreateInput(body: unknown): CreateInput {
  const root = objectBody(body);
  const properties = optionalObject(root, 'properties', 'properties') ?? {};
  const consistencyMode = optionalEnum(properties, 'consistencyMode', 'properties.consistencyMode', [
    'CrashConsistent',
    'ApplicationConsistent',
    'FileSystemConsistent',
  ] as const);
  const excludeDisks = idReferences(properties, 'excludeDisks', 'properties.excludeDisks');
  const source = optionalObject(properties, 'sourceRestorePoint', 'properties.sourceRestorePoint');
  const sourceRestorePointId = source ? requiredString(source, 'id', 'properties.sourceRestorePoint.id') : undefined;
  const instantAccessDurationMinutes = optionalInteger(
    properties,
    'instantAccessDurationMinutes',
    'properties.instantAccessDurationMinutes',
  );
  if (
    instantAccessDurationMinutes !== undefined &&
    (instantAccessDurationMinutes < 60 || instantAccessDurationMinutes > 300)
  ) {
    throw invalidParameter(
      'properties.instantAccessDurationMinutes',
      'instantAccessDurationMinutes must be between 60 and 300 minutes.',
    );
  }
  return {
    ...(consistencyMode ? { consistencyMode } : {}),
    excludeDisks,
    ...(sourceRestorePointId ? { sourceRestorePointId } : {}),
    ...(instantAccessDurationMinutes !== undefined ? { instantAccessDurationMinutes } : {}),
  };
}

/** RestorePoints_Create: 201 + Azure-AsyncOperation, body `provisioningState: "Creating"` (recorded). */
export function create(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  // CRP's restore point PUT policies (local and copy), counted before any other rule, as a throttle is.
  const collectionName = param(request, 'restorePointCollectionName');
  env.countPolicy(
    'PutRestorePointResource',
    idKey(resourceId(scopeOf(request), 'restorePointCollections', collectionName)),
  );
  env.countPolicy('PutRestorePointSubscriptionMaximum', subscriptionKey(request));
  const collection = findCollectionForChild(env, request);
  const name = param(request, 'restorePointName');
  checkName(name);
  const id = restorePointId(collection.id, name);
  const existing = env.store.restorePoints.get(id);
  const input = readCreateInput(request.body);
  if (existing) {
    throw operationNotAllowed(
      `Restore point '${name}' already exists. Updating properties of an existing restore point is not allowed.`,
    );
  }
  if (collection.provisioningState === 'Deleting') throw conflictingOperation(collection.name);
  return input.sourceRestorePointId !== undefined
    ? createCopy(env, request, collection, id, name, input, input.sourceRestorePointId)
    : createLocal(env, request, collection, id, name, input);
}

function findCollectionForChild(env: EmulatorEnv, request: ArmRequest): CollectionRecord {
  try {
    return findCollection(env, request);
  } catch (error) {
    if (error instanceof ArmError && error.status === 404) {
      throw parentResourceNotFound(`${COLLECTION_TYPE}/${param(request, 'restorePointCollectionName')}`);
    }
    throw error;
  }
}

function modePolicy(family: 'crash' | 'application'): string {
  return family === 'crash' ? 'CreateCrashConsistentRestorePoint' : 'CreateApplicationConsistentRestorePoint';
}

function createLocal(
  env: EmulatorEnv,
  request: ArmRequest,
  collection: CollectionRecord,
  id: string,
  name: string,
  input: CreateInput,
): ArmResponse {
  if (collection.sourceKind !== 'vm') {
    throw invalidParameter(
      'properties.sourceRestorePoint',
      'This restore point collection is the target of cross-region copies; create its restore points with properties.sourceRestorePoint.',
    );
  }
  const now = env.clock.now();
  const modeFamily = input.consistencyMode === 'CrashConsistent' ? 'crash' : 'application';
  const vmKey = collection.sourceKey ?? idKey(collection.sourceId);
  // The documented 3 PUTs per VM per hour per mode: counted before the VM's rules, as a throttle is.
  env.takeWindow(
    modePolicy(modeFamily),
    vmKey,
    env.settings.restorePointPutsPerVmPerHourPerMode,
    HOUR,
    env.settings.computeThrottling,
  );
  const vm = env.store.virtualMachines.get(collection.sourceId);
  if (!vm) {
    const parsed = parseId(collection.sourceId);
    throw resourceNotFound(
      `Microsoft.Compute/virtualMachines/${parsed?.name ?? collection.sourceId}`,
      parsed?.resourceGroup ?? '',
    );
  }
  checkVmSupported(env, vm);
  const disks = vmDisks(env, vm);
  const excluded = new Set(input.excludeDisks.map(idKey));
  for (const excludedId of input.excludeDisks) {
    if (!disks.some((d) => d.id !== undefined && idKey(d.id) === idKey(excludedId))) {
      throw invalidParameter(
        'properties.excludeDisks',
        `The disk '${excludedId}' in excludeDisks is not attached to the virtual machine '${vm.name}'.`,
      );
    }
  }
  const included = disks.filter((d) => d.id === undefined || !excluded.has(idKey(d.id)));
  checkDisksSupported(included, modeFamily);
  if (vm.creatingRestorePointKey) {
    const other = env.store.restorePoints.get(vm.creatingRestorePointKey);
    if (other?.provisioningState === 'Creating') throw restorePointClientError(MESSAGES.concurrentCreate, 409);
  }
  if (env.store.restorePoints.countByVm(vmKey) >= env.settings.maxRestorePointsPerVm) {
    throw restorePointClientError(MESSAGES.snapshotLimit, 409);
  }
  checkInterval(env, vmKey, modeFamily, now);
  if (input.instantAccessDurationMinutes !== undefined) {
    if (!collection.instantAccess) {
      throw invalidParameter(
        'properties.instantAccessDurationMinutes',
        'instantAccessDurationMinutes requires a restore point collection with instantAccess enabled.',
      );
    }
    if (modeFamily === 'crash') {
      throw invalidParameter(
        'properties.instantAccessDurationMinutes',
        'Instant access restore points must be application consistent.',
      );
    }
  }
  const configOsType = env.store.vmConfigs.get(vm.configRef)?.osType;
  const osType = typeof configOsType === 'string' ? configOsType : 'Linux';
  const consistencyMode =
    modeFamily === 'crash'
      ? 'CrashConsistent'
      : osType.toLowerCase() === 'linux'
        ? 'FileSystemConsistent'
        : 'ApplicationConsistent';
  const includedGiB = included.reduce((sum, d) => sum + d.diskSizeGB, 0);
  const durationMs = restorePointCreationMs(env.settings, includedGiB);
  const record: RestorePointRecord = {
    id,
    name,
    subscriptionId: collection.subscriptionId,
    resourceGroup: collection.resourceGroup,
    collectionId: collection.id,
    location: collection.location,
    vmKey,
    consistencyMode,
    modeFamily,
    excludeDisks: input.excludeDisks.length === 0 ? NO_DISKS : input.excludeDisks,
    sourceRestorePointId: undefined,
    instantAccessDurationMinutes: input.instantAccessDurationMinutes,
    createdMs: now,
    completesAtMs: now + durationMs,
    provisioningState: 'Creating',
    configRef: vm.configRef,
    diskRestorePoints: included.map((disk) => newDiskRestorePoint(disk)),
    isCopy: false,
    error: undefined,
    operationId: undefined,
  };
  env.store.restorePoints.put(record);
  vm.creatingRestorePointKey = idKey(id);
  const operation = startOperation(env, request, {
    location: collection.location,
    family: 'operations',
    durationMs,
    action: { kind: 'createRestorePoint', key: idKey(id), diskGeneration: vm.diskGeneration },
  });
  record.operationId = operation.id;
  env.markChanged();
  return {
    status: 201,
    body: renderRestorePoint(env, record, false),
    headers: lroHeaders(request, operation, false),
  };
}

function newDiskRestorePoint(disk: VmDisk): DiskRestorePointRecord {
  return diskRestorePointRecord({
    name: flat(disk.name, '_', newGuid()),
    diskId: disk.id ?? '',
    lun: disk.lun,
    diskName: disk.name,
    diskSizeGB: disk.diskSizeGB,
    storageAccountType: disk.storageAccountType,
    caching: disk.caching,
    writeAcceleratorEnabled: disk.writeAcceleratorEnabled,
    encryptionType: disk.encryptionType,
    diskEncryptionSetId: disk.diskEncryptionSetId,
    sourceDiskRestorePointId: undefined,
    sourceUniqueId: disk.uniqueId,
    sasExpiresAtMs: undefined,
  });
}

/**
 * Builds the record with every field present, in one order, so V8 keeps a single compact shape
 * for the (possibly hundreds of thousands of) disk restore points.
 */
function diskRestorePointRecord(fields: DiskRestorePointRecord): DiskRestorePointRecord {
  return {
    name: fields.name,
    diskId: fields.diskId,
    lun: fields.lun,
    diskName: fields.diskName,
    diskSizeGB: fields.diskSizeGB,
    storageAccountType: fields.storageAccountType,
    caching: fields.caching,
    writeAcceleratorEnabled: fields.writeAcceleratorEnabled,
    encryptionType: fields.encryptionType,
    diskEncryptionSetId: fields.diskEncryptionSetId,
    sourceDiskRestorePointId: fields.sourceDiskRestorePointId,
    sourceUniqueId: fields.sourceUniqueId,
    sasExpiresAtMs: fields.sasExpiresAtMs,
  };
}

/** VM-level refusals (DESIGN §1): deallocated, unmanaged disks, Uniform scale set members, Confidential VMs. */
function checkVmSupported(env: EmulatorEnv, vm: VirtualMachineRecord): void {
  if (vm.provisioningState === 'Creating' || vm.provisioningState === 'Deleting') throw conflictingOperation(vm.name);
  if (vm.powerState === 'deallocated') {
    throw operationNotAllowed(
      `Operation 'Create Restore Point' is not allowed on VM '${vm.name}' since the VM is deallocated. Start the VM and retry.`,
    );
  }
  const disks = vmDisks(env, vm);
  if (disks.some((d) => d.unmanaged)) {
    throw operationNotAllowed(
      `Operation 'Create Restore Point' is not supported for VM '${vm.name}' because it uses unmanaged disks.`,
    );
  }
  const scaleSetId = (vm.properties.virtualMachineScaleSet as { id?: unknown } | undefined)?.id;
  if (typeof scaleSetId === 'string') {
    const set = env.store.scaleSets.get(scaleSetId);
    const configured = set?.properties.orchestrationMode;
    const mode = typeof configured === 'string' ? configured : 'Uniform';
    if (mode.toLowerCase() === 'uniform') {
      throw operationNotAllowed(
        `Operation 'Create Restore Point' is not supported for VM '${vm.name}' because it is a member of a virtual machine scale set with Uniform orchestration mode.`,
      );
    }
  }
  const securityType = (vm.properties.securityProfile as { securityType?: unknown } | undefined)?.securityType;
  if (typeof securityType === 'string' && securityType.toLowerCase() === 'confidentialvm') {
    throw operationNotAllowed(`Operation 'Create Restore Point' is not supported for Confidential VM '${vm.name}'.`);
  }
}

/** Disks that must be excluded (DESIGN §1): shared and ephemeral OS always; Ultra, Premium SSD v2, write-accelerated in crash mode. */
function checkDisksSupported(included: VmDisk[], family: 'crash' | 'application'): void {
  for (const disk of included) {
    const hint = 'You may exclude this disk from the restore point via excludeDisks property.';
    if (disk.ephemeral)
      throw restorePointClientError(
        `Restore points are not supported for the ephemeral OS disk '${disk.name}'. ${hint}`,
      );
    if (disk.shared)
      throw restorePointClientError(`Restore points are not supported for the shared disk '${disk.name}'. ${hint}`);
    if (family === 'crash') {
      const sku = disk.storageAccountType.toLowerCase();
      if (sku === 'ultrassd_lrs' || sku === 'premiumv2_lrs') {
        throw restorePointClientError(
          `Crash consistent restore points are not supported for the ${sku === 'ultrassd_lrs' ? 'Ultra' : 'Premium SSD v2'} disk '${disk.name}'. ${hint}`,
        );
      }
      if (disk.writeAcceleratorEnabled) {
        throw restorePointClientError(
          `Crash consistent restore points are not supported for the write accelerated disk '${disk.name}'. ${hint}`,
        );
      }
    }
  }
}

/** Minimum interval between restore points of one VM: 3 h application-consistent, 1 h crash-consistent. */
function checkInterval(env: EmulatorEnv, vmKey: string, family: 'crash' | 'application', nowMs: number): void {
  const minimum =
    family === 'crash' ? env.settings.minIntervalCrashConsistentMs : env.settings.minIntervalApplicationConsistentMs;
  let latest: RestorePointRecord | undefined;
  for (const rp of env.store.restorePoints.listByVm(vmKey)) {
    if (rp.modeFamily !== family || rp.provisioningState === 'Failed' || rp.isCopy) continue;
    if (!latest || rp.createdMs > latest.createdMs) latest = rp;
  }
  if (latest && nowMs - latest.createdMs < minimum) {
    const hours = minimum / HOUR;
    throw operationNotAllowed(
      `Restore point creation is not allowed within ${hours} hour(s) of the previous ${family === 'crash' ? 'crash' : 'application'} consistent restore point '${latest.name}' of this VM (created ${new Date(latest.createdMs).toISOString()}). Retry after ${new Date(latest.createdMs + minimum).toISOString()}.`,
    );
  }
}

function createCopy(
  env: EmulatorEnv,
  request: ArmRequest,
  collection: CollectionRecord,
  id: string,
  name: string,
  input: CreateInput,
  sourceId: string,
): ArmResponse {
  const now = env.clock.now();
  if (collection.sourceKind !== 'collection') {
    throw invalidParameter(
      'properties.sourceRestorePoint',
      'A restore point can only be copied into a restore point collection whose source is the source restore point collection.',
    );
  }
  const source = env.store.restorePoints.get(sourceId);
  if (!source) {
    const parsed = parseId(sourceId);
    throw resourceNotFound(`${TYPE}/${parsed?.children[0]?.[1] ?? sourceId}`, parsed?.resourceGroup ?? '');
  }
  if (idKey(source.collectionId) !== idKey(collection.sourceId)) {
    throw invalidParameter(
      'properties.sourceRestorePoint.id',
      `The source restore point must belong to the source collection '${collection.sourceId}' of this restore point collection.`,
    );
  }
  env.takeWindow(
    'CopyRestorePoint',
    idKey(collection.id),
    env.settings.copiesPerTargetCollectionPerHour,
    HOUR,
    env.settings.computeThrottling,
  );
  const notReady = source.diskRestorePoints.find((drp) => {
    const state = snapshotAccessState(env, source, drp, now);
    return state !== 'Available' && state !== 'AvailableWithInstantAccess';
  });
  if (source.provisioningState !== 'Succeeded' || notReady) {
    const state = notReady ? snapshotAccessState(env, source, notReady, now) : source.provisioningState;
    throw operationNotAllowed(
      `The restore point '${source.name}' cannot be copied yet: its snapshots are not available for copy (state '${state}'). Retry when snapshotAccessState is Available.`,
    );
  }
  const totalGiB = source.diskRestorePoints.reduce((sum, d) => sum + d.diskSizeGB, 0);
  const durationMs = copyDurationMs(env.settings, totalGiB);
  const record: RestorePointRecord = {
    id,
    name,
    subscriptionId: collection.subscriptionId,
    resourceGroup: collection.resourceGroup,
    collectionId: collection.id,
    location: collection.location,
    vmKey: flat('copy:', source.vmKey),
    consistencyMode: source.consistencyMode,
    modeFamily: source.modeFamily,
    excludeDisks: source.excludeDisks,
    sourceRestorePointId: source.id,
    instantAccessDurationMinutes: undefined,
    createdMs: now,
    completesAtMs: now + durationMs,
    provisioningState: 'Creating',
    configRef: source.configRef,
    // CMK-encrypted points arrive platform-key encrypted (concepts-restore-points.md).
    diskRestorePoints: source.diskRestorePoints.map((drp) =>
      diskRestorePointRecord({
        name: flat(drp.diskName, '_', newGuid()),
        diskId: drp.diskId,
        lun: drp.lun,
        diskName: drp.diskName,
        diskSizeGB: drp.diskSizeGB,
        storageAccountType: drp.storageAccountType,
        caching: drp.caching,
        writeAcceleratorEnabled: drp.writeAcceleratorEnabled,
        encryptionType: 'EncryptionAtRestWithPlatformKey',
        diskEncryptionSetId: undefined,
        sourceDiskRestorePointId: diskRestorePointId(source.id, drp.name),
        sourceUniqueId: drp.sourceUniqueId,
        sasExpiresAtMs: undefined,
      }),
    ),
    isCopy: true,
    error: undefined,
    operationId: undefined,
  };
  void input;
  env.store.restorePoints.put(record);
  const operation = startOperation(env, request, {
    location: collection.location,
    family: 'operations',
    durationMs,
    action: { kind: 'createRestorePoint', key: idKey(id) },
  });
  record.operationId = operation.id;
  env.markChanged();
  return {
    status: 201,
    body: renderRestorePoint(env, record, false),
    headers: lroHeaders(request, operation, false),
  };
}

/** Completion of RestorePoints_Create: the rules that can only fail during creation. */
export function completeCreate(
  env: EmulatorEnv,
  key: string,
  diskGeneration: number | undefined,
  failWith: { code: string; message: string; status: number } | undefined,
): { code: string; message: string; status: number } | undefined {
  const rp = env.store.restorePoints.get(key);
  if (!rp || rp.provisioningState !== 'Creating') return undefined;
  const vm = rp.isCopy ? undefined : env.store.virtualMachines.get(rp.vmKey);
  let error = failWith;
  if (!error && !rp.isCopy) {
    if (!vm) error = { code: 'OperationNotAllowed', message: MESSAGES.diskChanged, status: 409 };
    else if (diskGeneration !== undefined && vm.diskGeneration !== diskGeneration) {
      error = { code: 'OperationNotAllowed', message: MESSAGES.diskChanged, status: 409 };
    } else if (rp.modeFamily === 'application' && vm.tags?.[EMULATOR_TAGS.vmAgent]?.toLowerCase() === 'notready') {
      error = { code: 'VMAgentStatusCommunicationError', message: MESSAGES.agentNotReady, status: 400 };
    }
  }
  if (vm && vm.creatingRestorePointKey === key) vm.creatingRestorePointKey = undefined;
  if (error) {
    rp.provisioningState = 'Failed';
    rp.error = { code: error.code, message: error.message };
  } else {
    rp.provisioningState = 'Succeeded';
  }
  return error;
}

/** RestorePoints_Delete: 202 + Azure-AsyncOperation + Location; 204 when absent; refused while a SAS is active. */
function deleteRestorePoint(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  env.countPolicy('DeleteRestorePointSubscriptionMaximum', subscriptionKey(request));
  const collection = findCollection(env, request);
  const name = param(request, 'restorePointName');
  const rp = env.store.restorePoints.get(restorePointId(collection.id, name));
  if (!rp) return { status: 204 };
  if (rp.provisioningState === 'Creating') throw conflictingOperation(name);
  if (hasActiveSas(env, rp)) throw diskRestorePointUsedByCustomer();
  rp.provisioningState = 'Deleting';
  const operation = startOperation(env, request, {
    location: rp.location,
    family: 'operations',
    durationMs: env.settings.deleteMs,
    action: { kind: 'deleteRestorePoint', key: idKey(rp.id) },
  });
  env.markChanged();
  return accepted(request, operation);
}
export { deleteRestorePoint as delete };

export function completeDelete(env: EmulatorEnv, key: string): void {
  env.store.restorePoints.delete(key);
}
