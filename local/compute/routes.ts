import type { EmulatorEnv } from './env';
import type { ArmRequest, ArmResponse } from './http';
import * as availabilitySets from './handlers/availabilitySets';
import * as diskRestorePoints from './handlers/diskRestorePoints';
import * as disks from './handlers/disks';
import * as operations from './handlers/operations';
import * as restorePointCollections from './handlers/restorePointCollections';
import * as restorePoints from './handlers/restorePoints';
import * as virtualMachineScaleSets from './handlers/virtualMachineScaleSets';
import * as virtualMachines from './handlers/virtualMachines';

/**
 * (method, path template) → operationId → handler, like Azurite's handlerMappers.ts. Templates are
 * the swagger paths; literal segments match case-insensitively (ARM paths are case-insensitive).
 */
export type Handler = (env: EmulatorEnv, request: ArmRequest) => ArmResponse;

export interface Route {
  method: string;
  template: string;
  operationId: string;
  handler: Handler;
}

const SUB = '/subscriptions/{subscriptionId}';
const RG = `${SUB}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute`;
const RPC = `${RG}/restorePointCollections/{restorePointCollectionName}`;
const RP = `${RPC}/restorePoints/{restorePointName}`;
const DRP = `${RPC}/restorePoints/{vmRestorePointName}/diskRestorePoints`;

export const ROUTES: readonly Route[] = [
  {
    method: 'PUT',
    template: RPC,
    operationId: 'RestorePointCollections_CreateOrUpdate',
    handler: restorePointCollections.createOrUpdate,
  },
  {
    method: 'PATCH',
    template: RPC,
    operationId: 'RestorePointCollections_Update',
    handler: restorePointCollections.update,
  },
  { method: 'GET', template: RPC, operationId: 'RestorePointCollections_Get', handler: restorePointCollections.get },
  {
    method: 'DELETE',
    template: RPC,
    operationId: 'RestorePointCollections_Delete',
    handler: restorePointCollections.delete,
  },
  {
    method: 'GET',
    template: `${RG}/restorePointCollections`,
    operationId: 'RestorePointCollections_List',
    handler: restorePointCollections.list,
  },
  {
    method: 'GET',
    template: `${SUB}/providers/Microsoft.Compute/restorePointCollections`,
    operationId: 'RestorePointCollections_ListAll',
    handler: restorePointCollections.listAll,
  },
  { method: 'PUT', template: RP, operationId: 'RestorePoints_Create', handler: restorePoints.create },
  { method: 'GET', template: RP, operationId: 'RestorePoints_Get', handler: restorePoints.get },
  { method: 'DELETE', template: RP, operationId: 'RestorePoints_Delete', handler: restorePoints.delete },
  {
    method: 'GET',
    template: DRP,
    operationId: 'DiskRestorePoint_ListByRestorePoint',
    handler: diskRestorePoints.listByRestorePoint,
  },
  {
    method: 'GET',
    template: `${DRP}/{diskRestorePointName}`,
    operationId: 'DiskRestorePoint_Get',
    handler: diskRestorePoints.get,
  },
  {
    method: 'POST',
    template: `${DRP}/{diskRestorePointName}/beginGetAccess`,
    operationId: 'DiskRestorePoint_GrantAccess',
    handler: diskRestorePoints.grantAccess,
  },
  {
    method: 'POST',
    template: `${DRP}/{diskRestorePointName}/endGetAccess`,
    operationId: 'DiskRestorePoint_RevokeAccess',
    handler: diskRestorePoints.revokeAccess,
  },
  {
    method: 'PUT',
    template: `${RG}/disks/{diskName}`,
    operationId: 'Disks_CreateOrUpdate',
    handler: disks.createOrUpdate,
  },
  { method: 'GET', template: `${RG}/disks/{diskName}`, operationId: 'Disks_Get', handler: disks.get },
  { method: 'DELETE', template: `${RG}/disks/{diskName}`, operationId: 'Disks_Delete', handler: disks.delete },
  {
    method: 'GET',
    template: `${RG}/disks`,
    operationId: 'Disks_ListByResourceGroup',
    handler: disks.listByResourceGroup,
  },
  {
    method: 'GET',
    template: `${SUB}/providers/Microsoft.Compute/disks`,
    operationId: 'Disks_List',
    handler: disks.list,
  },
  {
    method: 'PUT',
    template: `${RG}/virtualMachines/{vmName}`,
    operationId: 'VirtualMachines_CreateOrUpdate',
    handler: virtualMachines.createOrUpdate,
  },
  {
    method: 'GET',
    template: `${RG}/virtualMachines/{vmName}`,
    operationId: 'VirtualMachines_Get',
    handler: virtualMachines.get,
  },
  {
    method: 'DELETE',
    template: `${RG}/virtualMachines/{vmName}`,
    operationId: 'VirtualMachines_Delete',
    handler: virtualMachines.delete,
  },
  {
    method: 'GET',
    template: `${RG}/virtualMachines/{vmName}/instanceView`,
    operationId: 'VirtualMachines_InstanceView',
    handler: virtualMachines.instanceView,
  },
  {
    method: 'POST',
    template: `${RG}/virtualMachines/{vmName}/deallocate`,
    operationId: 'VirtualMachines_Deallocate',
    handler: virtualMachines.deallocate,
  },
  {
    method: 'POST',
    template: `${RG}/virtualMachines/{vmName}/powerOff`,
    operationId: 'VirtualMachines_PowerOff',
    handler: virtualMachines.powerOff,
  },
  {
    method: 'POST',
    template: `${RG}/virtualMachines/{vmName}/start`,
    operationId: 'VirtualMachines_Start',
    handler: virtualMachines.start,
  },
  {
    method: 'GET',
    template: `${RG}/virtualMachines`,
    operationId: 'VirtualMachines_List',
    handler: virtualMachines.list,
  },
  {
    method: 'GET',
    template: `${SUB}/providers/Microsoft.Compute/virtualMachines`,
    operationId: 'VirtualMachines_ListAll',
    handler: virtualMachines.listAll,
  },
  {
    method: 'PUT',
    template: `${RG}/availabilitySets/{availabilitySetName}`,
    operationId: 'AvailabilitySets_CreateOrUpdate',
    handler: availabilitySets.createOrUpdate,
  },
  {
    method: 'GET',
    template: `${RG}/availabilitySets/{availabilitySetName}`,
    operationId: 'AvailabilitySets_Get',
    handler: availabilitySets.get,
  },
  {
    method: 'GET',
    template: `${RG}/availabilitySets`,
    operationId: 'AvailabilitySets_List',
    handler: availabilitySets.list,
  },
  {
    method: 'PUT',
    template: `${RG}/virtualMachineScaleSets/{vmScaleSetName}`,
    operationId: 'VirtualMachineScaleSets_CreateOrUpdate',
    handler: virtualMachineScaleSets.createOrUpdate,
  },
  {
    method: 'GET',
    template: `${RG}/virtualMachineScaleSets/{vmScaleSetName}`,
    operationId: 'VirtualMachineScaleSets_Get',
    handler: virtualMachineScaleSets.get,
  },
  {
    method: 'GET',
    template: `${RG}/virtualMachineScaleSets`,
    operationId: 'VirtualMachineScaleSets_List',
    handler: virtualMachineScaleSets.list,
  },
  {
    method: 'GET',
    template: `${SUB}/providers/Microsoft.Compute/locations/{location}/operations/{operationId}`,
    operationId: 'Operations_GetStatus',
    handler: operations.getComputeOperation,
  },
  {
    method: 'GET',
    template: `${SUB}/providers/Microsoft.Compute/locations/{location}/DiskOperations/{operationId}`,
    operationId: 'DiskOperations_GetStatus',
    handler: operations.getDiskOperation,
  },
];

interface CompiledRoute extends Route {
  segments: { literal?: string; param?: string }[];
}

const COMPILED: CompiledRoute[] = ROUTES.map((route) => ({
  ...route,
  segments: route.template
    .split('/')
    .filter(Boolean)
    .map((segment) => {
      const match = /^\{(\w+)\}$/.exec(segment);
      return match?.[1] ? { param: match[1] } : { literal: segment.toLowerCase() };
    }),
}));

/** Routes by segment count, so a match tries only a handful of templates. */
const BY_LENGTH = new Map<number, CompiledRoute[]>();
for (const route of COMPILED) {
  const list = BY_LENGTH.get(route.segments.length) ?? [];
  list.push(route);
  BY_LENGTH.set(route.segments.length, list);
}

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
  /** True when the path matched but the method did not. */
}

/** Matches a path (segments already percent-decoded); `methodMismatch` when only the method differs. */
export function matchRoute(method: string, segments: string[]): { match?: RouteMatch; methodMismatch: boolean } {
  let methodMismatch = false;
  for (const route of BY_LENGTH.get(segments.length) ?? []) {
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < route.segments.length; i++) {
      const spec = route.segments[i];
      const value = segments[i] ?? '';
      if (spec?.literal !== undefined) {
        if (spec.literal !== value.toLowerCase()) {
          ok = false;
          break;
        }
      } else if (spec?.param !== undefined) {
        if (value === '') {
          ok = false;
          break;
        }
        params[spec.param] = value;
      }
    }
    if (!ok) continue;
    if (route.method !== method) {
      methodMismatch = true;
      continue;
    }
    return { match: { route, params }, methodMismatch: false };
  }
  return { methodMismatch };
}
