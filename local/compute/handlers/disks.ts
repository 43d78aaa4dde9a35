import {
  ArmError,
  conflictingOperation,
  invalidParameter,
  invalidResourceName,
  operationNotAllowed,
  propertyChangeNotAllowed,
  resourceNotFound,
} from '../armErrors';
import type { ResourceScope } from '../armIds';
import { idKey, isValidDiskName, resourceId, newGuid } from '../armIds';
import type { EmulatorEnv } from '../env';
import type { ArmRequest, ArmResponse } from '../http';
import { param } from '../http';
import { normaliseLocation } from '../memoryStore';
import { findDiskRestorePoint, snapshotAccessState } from '../restorePointModel';
import type { DiskRecord, JsonObject } from '../store';
import {
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
import { accepted, lroHeaders, page, scopeOf, startOperation } from './common';

/** Tag `Disks` (DiskRP): CreateOrUpdate (LRO, incl. createOption Restore), Get, Delete (LRO), List. */
export const TYPE = 'Microsoft.Compute/disks';

const CREATE_OPTIONS = [
  'Empty',
  'Attach',
  'FromImage',
  'Import',
  'Copy',
  'Restore',
  'Upload',
  'CopyStart',
  'ImportSecure',
  'UploadPreparedSecure',
  'CopyFromSanSnapshot',
] as const;

/** Disk SKUs the emulator accepts (the fleet file format offers the same list). */
export const DISK_SKUS = [
  'Standard_LRS',
  'Premium_LRS',
  'StandardSSD_LRS',
  'UltraSSD_LRS',
  'Premium_ZRS',
  'StandardSSD_ZRS',
  'PremiumV2_LRS',
] as const;

const TIERS: Record<string, string> = { premium_lrs: 'P10', premium_zrs: 'P10' };

export function renderDisk(record: DiskRecord): unknown {
  const props = record.properties;
  const size = typeof props.diskSizeGB === 'number' ? props.diskSizeGB : 0;
  const diskState =
    record.managedBy !== undefined ? 'Attached' : typeof props.diskState === 'string' ? props.diskState : 'Unattached';
  return {
    name: record.name,
    id: record.id,
    type: TYPE,
    location: record.location,
    ...(record.tags ? { tags: record.tags } : {}),
    ...(record.managedBy ? { managedBy: record.managedBy } : {}),
    sku: { name: record.sku, tier: record.sku.toLowerCase().startsWith('premium') ? 'Premium' : 'Standard' },
    ...(record.zones ? { zones: record.zones } : {}),
    properties: {
      ...props,
      diskSizeBytes: size * 1024 * 1024 * 1024,
      provisioningState: record.provisioningState,
      diskState,
      ...(TIERS[record.sku.toLowerCase()] && props.tier === undefined ? { tier: TIERS[record.sku.toLowerCase()] } : {}),
    },
  };
}

export function findDisk(env: EmulatorEnv, request: ArmRequest): DiskRecord {
  const scope = scopeOf(request);
  const name = param(request, 'diskName');
  const record = env.store.disks.get(resourceId(scope, 'disks', name));
  if (!record) throw resourceNotFound(`${TYPE}/${name}`, scope.resourceGroup);
  return record;
}

export interface DiskSpec {
  location: string;
  sku?: string;
  zones?: string[];
  tags?: Record<string, string>;
  properties: JsonObject;
}

/** Reads a Disk body (or the managed-disk part of a VM) into a spec. */
export function readDiskBody(body: unknown): DiskSpec {
  const root = objectBody(body);
  const location = requiredLocation(root);
  const sku = optionalObject(root, 'sku', 'sku');
  const skuName = sku ? optionalEnum(sku, 'name', 'sku.name', DISK_SKUS) : undefined;
  const zones = optionalArray(root, 'zones', 'zones')?.map(String);
  const tags = tagsOf(root);
  const properties = optionalObject(root, 'properties', 'properties') ?? {};
  optionalInteger(properties, 'diskSizeGB', 'properties.diskSizeGB');
  optionalInteger(properties, 'maxShares', 'properties.maxShares');
  optionalEnum(properties, 'osType', 'properties.osType', ['Windows', 'Linux'] as const);
  return {
    location,
    ...(skuName ? { sku: skuName } : {}),
    ...(zones ? { zones } : {}),
    ...(tags ? { tags } : {}),
    properties: { ...properties },
  };
}

/**
 * Builds a new disk record from a spec, applying creationData: Empty needs a size; Restore takes
 * a disk restore point (size, OS type) and requires its snapshot to be restorable.
 */
export function newDiskRecord(env: EmulatorEnv, scope: ResourceScope, name: string, spec: DiskSpec): DiskRecord {
  const properties = { ...spec.properties };
  delete properties.provisioningState;
  const creationData = optionalObject(properties, 'creationData', 'properties.creationData');
  if (!creationData) {
    throw invalidParameter(
      'properties.creationData',
      "Required parameter 'properties.creationData' is missing (null).",
    );
  }
  const createOption = optionalEnum(
    creationData,
    'createOption',
    'properties.creationData.createOption',
    CREATE_OPTIONS,
  );
  if (!createOption) {
    throw invalidParameter(
      'properties.creationData.createOption',
      "Required parameter 'properties.creationData.createOption' is missing (null).",
    );
  }
  let size = typeof properties.diskSizeGB === 'number' ? properties.diskSizeGB : undefined;
  const sourceResourceId = optionalString(creationData, 'sourceResourceId', 'properties.creationData.sourceResourceId');
  if (createOption === 'Empty' && size === undefined) {
    throw invalidParameter(
      'properties.diskSizeGB',
      "Required parameter 'properties.diskSizeGB' is missing (null). It is required when createOption is Empty.",
    );
  }
  if (createOption === 'Restore') {
    if (!sourceResourceId) {
      throw invalidParameter(
        'properties.creationData.sourceResourceId',
        "Required parameter 'properties.creationData.sourceResourceId' is missing (null).",
      );
    }
    const found = findDiskRestorePoint(env, sourceResourceId);
    if (!found) {
      throw new ArmError(404, 'NotFound', `The disk restore point '${sourceResourceId}' was not found.`, {
        target: 'properties.creationData.sourceResourceId',
      });
    }
    const state = snapshotAccessState(env, found.rp, found.drp);
    if (found.rp.provisioningState !== 'Succeeded' || state === 'Pending' || state === 'Unknown') {
      throw operationNotAllowed(
        `The disk restore point '${found.drp.name}' cannot be restored yet (snapshot access state '${state}'). Retry when it is Available or InstantAccess.`,
      );
    }
    if (normaliseLocation(found.rp.location) !== normaliseLocation(spec.location)) {
      throw invalidParameter(
        'location',
        `A disk restored from a disk restore point must be in the region of the restore point ('${found.rp.location}'), not '${spec.location}'.`,
      );
    }
    if (size !== undefined && size < found.drp.diskSizeGB) {
      throw invalidParameter(
        'properties.diskSizeGB',
        `The disk size ${size} GB is smaller than the source's ${found.drp.diskSizeGB} GB; a disk can only grow.`,
      );
    }
    size = size ?? found.drp.diskSizeGB;
    const config = env.store.vmConfigs.get(found.rp.configRef);
    if (found.drp.lun === null && properties.osType === undefined && typeof config?.osType === 'string') {
      properties.osType = config.osType;
    }
    if (properties.hyperVGeneration === undefined && typeof config?.hyperVGeneration === 'string') {
      properties.hyperVGeneration = config.hyperVGeneration;
    }
  }
  if ((createOption === 'Copy' || createOption === 'Attach') && sourceResourceId) {
    const source = env.store.disks.get(sourceResourceId);
    if (source && size === undefined && typeof source.properties.diskSizeGB === 'number')
      size = source.properties.diskSizeGB;
  }
  const now = new Date(env.clock.now()).toISOString();
  return {
    id: resourceId(scope, 'disks', name),
    name,
    subscriptionId: scope.subscriptionId,
    resourceGroup: scope.resourceGroup,
    location: spec.location,
    ...(spec.tags ? { tags: spec.tags } : {}),
    sku: spec.sku ?? 'Premium_LRS',
    ...(spec.zones ? { zones: spec.zones } : {}),
    properties: {
      ...properties,
      diskSizeGB: size ?? 30,
      encryption: isObject(properties.encryption) ? properties.encryption : { type: 'EncryptionAtRestWithPlatformKey' },
      networkAccessPolicy: properties.networkAccessPolicy ?? 'AllowAll',
      publicNetworkAccess: properties.publicNetworkAccess ?? 'Enabled',
      timeCreated: now,
      uniqueId: newGuid(),
    },
    provisioningState: 'Succeeded',
  };
}

/** Disks_CreateOrUpdate: 202 + Azure-AsyncOperation + Location, body `provisioningState: "Updating"` (recorded). */
export function createOrUpdate(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  const scope = scopeOf(request);
  const name = param(request, 'diskName');
  if (!isValidDiskName(name)) throw invalidResourceName(name, 80);
  const spec = readDiskBody(request.body);
  const existing = env.store.disks.get(resourceId(scope, 'disks', name));
  let record: DiskRecord;
  let durationMs: number;
  if (existing) {
    checkProvisioningState(spec.properties, existing.provisioningState);
    if (existing.provisioningState !== 'Succeeded' && existing.provisioningState !== 'Failed')
      throw conflictingOperation(name);
    if (normaliseLocation(spec.location) !== normaliseLocation(existing.location)) {
      throw new ArmError(
        409,
        'InvalidResourceLocation',
        `The resource '${name}' already exists in location '${existing.location}' in resource group '${existing.resourceGroup}'. A resource with the same name cannot be created in location '${spec.location}'. Please select a new resource name.`,
      );
    }
    const creationData = spec.properties.creationData;
    if (
      creationData !== undefined &&
      JSON.stringify(normaliseKeys(creationData)) !== JSON.stringify(normaliseKeys(existing.properties.creationData))
    ) {
      throw propertyChangeNotAllowed('properties.creationData');
    }
    const size = spec.properties.diskSizeGB;
    const currentSize = Number(existing.properties.diskSizeGB ?? 0);
    if (typeof size === 'number' && size < currentSize) {
      throw invalidParameter(
        'properties.diskSizeGB',
        `Disk size can only be increased: the disk has ${currentSize} GB, the request asks for ${size} GB.`,
      );
    }
    const { provisioningState: _ignored, ...changes } = spec.properties;
    void _ignored;
    existing.properties = { ...existing.properties, ...changes };
    if (spec.tags) existing.tags = spec.tags;
    if (spec.sku) existing.sku = spec.sku;
    existing.provisioningState = 'Updating';
    record = existing;
    durationMs = env.settings.diskCreateBaseMs;
  } else {
    checkProvisioningState(spec.properties, undefined);
    record = newDiskRecord(env, scope, name, spec);
    record.provisioningState = 'Updating';
    durationMs =
      env.settings.diskCreateBaseMs + env.settings.diskCreateMsPerGiB * Number(record.properties.diskSizeGB ?? 0);
  }
  env.store.disks.put(record);
  const operation = startOperation(env, request, {
    location: record.location,
    family: 'DiskOperations',
    durationMs,
    action: { kind: 'createDisk', key: idKey(record.id) },
  });
  env.markChanged();
  return { status: 202, body: renderDisk(record), headers: lroHeaders(request, operation, true) };
}

function normaliseKeys(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? null).toLowerCase()) as unknown;
}

export function completeCreate(env: EmulatorEnv, key: string, failed: boolean): void {
  const record = env.store.disks.get(key);
  if (record && record.provisioningState === 'Updating') record.provisioningState = failed ? 'Failed' : 'Succeeded';
}

/** Disks_Get. */
export function get(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  return { status: 200, body: renderDisk(findDisk(env, request)) };
}

/** Disks_Delete: LRO; 204 when absent; refused while attached. */
function deleteDisk(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  const scope = scopeOf(request);
  const name = param(request, 'diskName');
  const record = env.store.disks.get(resourceId(scope, 'disks', name));
  if (!record) return { status: 204 };
  if (record.managedBy) {
    const vmName = record.managedBy.split('/').pop() ?? record.managedBy;
    throw operationNotAllowed(
      `Disk ${name} is attached to VM ${record.managedBy}. Detach it from VM ${vmName} before deleting it.`,
    );
  }
  if (record.provisioningState === 'Updating' || record.provisioningState === 'Deleting')
    throw conflictingOperation(name);
  record.provisioningState = 'Deleting';
  const operation = startOperation(env, request, {
    location: record.location,
    family: 'DiskOperations',
    durationMs: env.settings.deleteMs,
    action: { kind: 'deleteDisk', key: idKey(record.id) },
  });
  env.markChanged();
  return accepted(request, operation);
}
export { deleteDisk as delete };

/** Disks_ListByResourceGroup. */
export function listByResourceGroup(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  const scope = scopeOf(request);
  return page(env, request, env.store.disks.listByResourceGroup(scope.subscriptionId, scope.resourceGroup), renderDisk);
}

/** Disks_List (subscription). */
export function list(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  return page(env, request, env.store.disks.listBySubscription(param(request, 'subscriptionId')), renderDisk);
}
