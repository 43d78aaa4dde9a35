import {
  ArmError,
  conflictingOperation,
  diskRestorePointUsedByCustomer,
  invalidParameter,
  operationNotAllowed,
  propertyChangeNotAllowed,
  resourceNotFound,
} from '../armErrors';
import { idKey, parseId, resourceId, newGuid } from '../armIds';
import type { EmulatorEnv } from '../env';
import type { ArmRequest, ArmResponse } from '../http';
import { param } from '../http';
import { normaliseLocation } from '../memoryStore';
import type { CollectionRecord } from '../store';
import {
  checkName,
  checkProvisioningState,
  objectBody,
  optionalBoolean,
  optionalObject,
  requiredLocation,
  requiredString,
  tagsOf,
} from '../validation';
import { accepted, countLowCostGet, page, scopeOf, startOperation, subscriptionKey } from './common';
import { hasActiveSas, renderRestorePoint } from '../restorePointModel';

/** Tag `RestorePointCollections`: one function per operationId. */
export const TYPE = 'Microsoft.Compute/restorePointCollections';

export function renderCollection(env: EmulatorEnv, record: CollectionRecord, expandRestorePoints = false): unknown {
  const properties: Record<string, unknown> = {
    source: { id: record.sourceId, location: record.sourceLocation },
    provisioningState: record.provisioningState,
    restorePointCollectionId: record.restorePointCollectionId,
  };
  if (record.instantAccess !== undefined) properties.instantAccess = record.instantAccess;
  if (expandRestorePoints) {
    properties.restorePoints = env.store.restorePoints
      .listByCollection(record.id)
      .map((rp) => renderRestorePoint(env, rp, false));
  }
  return {
    name: record.name,
    id: record.id,
    type: TYPE,
    location: record.location,
    ...(record.tags ? { tags: record.tags } : {}),
    properties,
  };
}

export function findCollection(env: EmulatorEnv, request: ArmRequest): CollectionRecord {
  const scope = scopeOf(request);
  const name = param(request, 'restorePointCollectionName');
  const record = env.store.collections.get(resourceId(scope, 'restorePointCollections', name));
  if (!record) throw resourceNotFound(`${TYPE}/${name}`, scope.resourceGroup);
  return record;
}

/** RestorePointCollections_CreateOrUpdate: synchronous, 201 on create, 200 on update (tags only). */
export function createOrUpdate(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  // CRP's collection PUT policies, counted before any other rule, as a throttle is.
  env.countPolicy('PutRestorePointCollectionResource', idKey(request.path));
  env.countPolicy('PutRestorePointCollectionSubscriptionMaximum', subscriptionKey(request));
  const scope = scopeOf(request);
  const name = param(request, 'restorePointCollectionName');
  checkName(name);
  const body = objectBody(request.body);
  const properties = optionalObject(body, 'properties', 'properties');
  const tags = tagsOf(body);
  const id = resourceId(scope, 'restorePointCollections', name);
  const existing = env.store.collections.get(id);
  const location = requiredLocation(body);
  const source = optionalObject(properties ?? {}, 'source', 'properties.source');
  const instantAccess = optionalBoolean(properties ?? {}, 'instantAccess', 'properties.instantAccess');

  if (existing) {
    checkProvisioningState(properties, existing.provisioningState);
    if (normaliseLocation(location) !== normaliseLocation(existing.location))
      throw locationMismatch(existing, location);
    const sourceId = source ? requiredString(source, 'id', 'properties.source.id') : existing.sourceId;
    if (idKey(sourceId) !== idKey(existing.sourceId)) throw propertyChangeNotAllowed('properties.source.id');
    if (existing.provisioningState === 'Deleting') throw conflictingOperation(name);
    existing.tags = tags;
    if (instantAccess !== undefined) existing.instantAccess = instantAccess;
    env.store.collections.put(existing);
    env.markChanged();
    return { status: 200, body: renderCollection(env, existing) };
  }

  checkProvisioningState(properties, undefined);
  if (!source) throw invalidParameter('properties.source', "Required parameter 'properties.source' is missing (null).");
  const sourceId = requiredString(source, 'id', 'properties.source.id');
  const resolved = resolveSource(env, sourceId, location);
  if (env.store.countCollections(scope.subscriptionId, location) >= env.settings.maxCollectionsPerSubscriptionRegion) {
    throw operationNotAllowed(
      `The subscription '${scope.subscriptionId}' has reached the maximum of ${env.settings.maxCollectionsPerSubscriptionRegion} restore point collections in region '${location}'. Delete unused restore point collections and retry.`,
    );
  }
  const record: CollectionRecord = {
    id,
    name,
    subscriptionId: scope.subscriptionId,
    resourceGroup: scope.resourceGroup,
    location,
    ...(tags ? { tags } : {}),
    restorePointCollectionId: newGuid(),
    sourceId: resolved.id,
    sourceKey: idKey(resolved.id),
    sourceLocation: resolved.location,
    sourceKind: resolved.kind,
    ...(instantAccess !== undefined ? { instantAccess } : {}),
    provisioningState: 'Succeeded',
  };
  env.store.collections.put(record);
  env.markChanged();
  return { status: 201, body: renderCollection(env, record) };
}

function locationMismatch(existing: CollectionRecord, location: string): ArmError {
  return new ArmError(
    409,
    'InvalidResourceLocation',
    `The resource '${existing.name}' already exists in location '${existing.location}' in resource group '${existing.resourceGroup}'. A resource with the same name cannot be created in location '${location}'. Please select a new resource name.`,
  );
}

function resolveSource(
  env: EmulatorEnv,
  sourceId: string,
  location: string,
): { id: string; location: string; kind: 'vm' | 'collection' } {
  const parsed = parseId(sourceId);
  if (parsed?.type === 'virtualMachines' && parsed.children.length === 0) {
    const vm = env.store.virtualMachines.get(sourceId);
    if (!vm) throw resourceNotFound(`Microsoft.Compute/virtualMachines/${parsed.name}`, parsed.resourceGroup);
    if (normaliseLocation(vm.location) !== normaliseLocation(location)) {
      throw invalidParameter(
        'location',
        `The restore point collection must be in the region of its source virtual machine '${vm.name}' ('${vm.location}'), not '${location}'.`,
      );
    }
    return { id: vm.id, location: vm.location, kind: 'vm' };
  }
  if (parsed?.type === 'restorePointCollections' && parsed.children.length === 0) {
    const collection = env.store.collections.get(sourceId);
    if (!collection) throw resourceNotFound(`${TYPE}/${parsed.name}`, parsed.resourceGroup);
    if (collection.sourceKind !== 'vm') {
      throw invalidParameter(
        'properties.source.id',
        'The source of a cross-region copy must be a restore point collection of a virtual machine.',
      );
    }
    return { id: collection.id, location: collection.location, kind: 'collection' };
  }
  throw invalidParameter(
    'properties.source.id',
    `The source id '${sourceId}' must be the ARM id of a virtual machine or of a restore point collection.`,
  );
}

/** RestorePointCollections_Update (PATCH): tags and instantAccess only. */
export function update(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  const record = findCollection(env, request);
  const body = objectBody(request.body);
  const properties = optionalObject(body, 'properties', 'properties');
  checkProvisioningState(
    properties,
    properties?.provisioningState === undefined ? undefined : record.provisioningState,
  );
  const source = optionalObject(properties ?? {}, 'source', 'properties.source');
  if (source?.id !== undefined && typeof source.id === 'string' && idKey(source.id) !== idKey(record.sourceId)) {
    throw propertyChangeNotAllowed('properties.source.id');
  }
  const tags = tagsOf(body);
  if (tags) record.tags = tags;
  const instantAccess = optionalBoolean(properties ?? {}, 'instantAccess', 'properties.instantAccess');
  if (instantAccess !== undefined) record.instantAccess = instantAccess;
  env.store.collections.put(record);
  env.markChanged();
  return { status: 200, body: renderCollection(env, record) };
}

/** RestorePointCollections_Get (`$expand=restorePoints`). */
export function get(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  countLowCostGet(env, request);
  const record = findCollection(env, request);
  const expand = request.query.get('$expand')?.toLowerCase() === 'restorepoints';
  return { status: 200, body: renderCollection(env, record, expand) };
}

/** RestorePointCollections_Delete: LRO that deletes the contained restore points too. 204 when absent. */
function deleteCollection(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  const scope = scopeOf(request);
  const name = param(request, 'restorePointCollectionName');
  const record = env.store.collections.get(resourceId(scope, 'restorePointCollections', name));
  if (!record) return { status: 204 };
  const points = env.store.restorePoints.listByCollection(record.id);
  if (points.some((rp) => hasActiveSas(env, rp))) throw diskRestorePointUsedByCustomer();
  if (points.some((rp) => rp.provisioningState === 'Creating')) throw conflictingOperation(name);
  record.provisioningState = 'Deleting';
  for (const rp of points) rp.provisioningState = 'Deleting';
  const operation = startOperation(env, request, {
    location: record.location,
    family: 'operations',
    durationMs: env.settings.deleteMs,
    action: { kind: 'deleteCollection', key: idKey(record.id) },
  });
  env.markChanged();
  return accepted(request, operation);
}
export { deleteCollection as delete };

/** RestorePointCollections_List (one resource group), pageable. */
export function list(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  const scope = scopeOf(request);
  const items = env.store.collections.listByResourceGroup(scope.subscriptionId, scope.resourceGroup);
  return page(env, request, items, (record) => renderCollection(env, record));
}

/** RestorePointCollections_ListAll (subscription), pageable. */
export function listAll(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  const items = env.store.collections.listBySubscription(param(request, 'subscriptionId'));
  return page(env, request, items, (record) => renderCollection(env, record));
}

/** Completion of RestorePointCollections_Delete. */
export function completeDelete(env: EmulatorEnv, key: string): void {
  const record = env.store.collections.get(key);
  if (!record) return;
  for (const rp of env.store.restorePoints.listByCollection(record.id)) env.store.restorePoints.delete(rp.id);
  env.store.collections.delete(record.id);
}
