import { ArmError, resourceNotFound } from '../armErrors';
import type { ResourceTypeName } from '../armIds';
import { idKey, resourceId } from '../armIds';
import type { EmulatorEnv } from '../env';
import type { ArmRequest, ArmResponse } from '../http';
import { param } from '../http';
import { normaliseLocation } from '../memoryStore';
import type { ResourceTable, SetRecord } from '../store';
import {
  checkName,
  checkProvisioningState,
  objectBody,
  optionalArray,
  optionalObject,
  requiredLocation,
  tagsOf,
} from '../validation';
import { page, scopeOf } from './common';

/** Shared CreateOrUpdate/Get/List for availability sets and scale sets (both are synchronous here). */
export interface SetKind {
  type: ResourceTypeName;
  armType: string;
  nameParam: string;
  table: (env: EmulatorEnv) => ResourceTable<SetRecord>;
  /** Adds defaults and read-only properties; `members` are the VM ids in the set. */
  render: (record: SetRecord, members: string[]) => Record<string, unknown>;
  normalise: (properties: Record<string, unknown>, existing: SetRecord | undefined) => Record<string, unknown>;
}

export function renderSet(env: EmulatorEnv, kind: SetKind, record: SetRecord): unknown {
  const members = [...(env.setMembers.get(idKey(record.id)) ?? [])]
    .map((key) => env.store.virtualMachines.get(key)?.id)
    .filter((id): id is string => id !== undefined);
  return {
    name: record.name,
    id: record.id,
    type: kind.armType,
    location: record.location,
    ...(record.tags ? { tags: record.tags } : {}),
    ...(record.sku ? { sku: record.sku } : {}),
    ...(record.zones ? { zones: record.zones } : {}),
    properties: kind.render(record, members),
  };
}

export function createOrUpdateSet(env: EmulatorEnv, request: ArmRequest, kind: SetKind): ArmResponse {
  const scope = scopeOf(request);
  const name = param(request, kind.nameParam);
  checkName(name, 80);
  const root = objectBody(request.body);
  const location = requiredLocation(root);
  const properties = optionalObject(root, 'properties', 'properties') ?? {};
  const id = resourceId(scope, kind.type, name);
  const existing = kind.table(env).get(id);
  checkProvisioningState(properties, existing ? 'Succeeded' : undefined);
  if (existing && normaliseLocation(existing.location) !== normaliseLocation(location)) {
    throw new ArmError(
      409,
      'InvalidResourceLocation',
      `The resource '${name}' already exists in location '${existing.location}' in resource group '${scope.resourceGroup}'. A resource with the same name cannot be created in location '${location}'. Please select a new resource name.`,
    );
  }
  const sku = optionalObject(root, 'sku', 'sku');
  const zones = optionalArray(root, 'zones', 'zones')?.map(String);
  const tags = tagsOf(root);
  const { provisioningState: _p, ...input } = properties;
  void _p;
  const record: SetRecord = {
    id,
    name,
    subscriptionId: scope.subscriptionId,
    resourceGroup: scope.resourceGroup,
    location,
    ...(tags ? { tags } : {}),
    ...(sku ? { sku } : {}),
    ...(zones ? { zones } : {}),
    properties: kind.normalise(input, existing),
  };
  kind.table(env).put(record);
  env.markChanged();
  return { status: existing ? 200 : 201, body: renderSet(env, kind, record) };
}

export function getSet(env: EmulatorEnv, request: ArmRequest, kind: SetKind): ArmResponse {
  const scope = scopeOf(request);
  const name = param(request, kind.nameParam);
  const record = kind.table(env).get(resourceId(scope, kind.type, name));
  if (!record) throw resourceNotFound(`${kind.armType}/${name}`, scope.resourceGroup);
  return { status: 200, body: renderSet(env, kind, record) };
}

export function listSets(env: EmulatorEnv, request: ArmRequest, kind: SetKind): ArmResponse {
  const scope = scopeOf(request);
  const items = kind.table(env).listByResourceGroup(scope.subscriptionId, scope.resourceGroup);
  return page(env, request, items, (record) => renderSet(env, kind, record));
}
