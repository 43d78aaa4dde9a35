import { ArmError } from '../armErrors';
import type { EmulatorEnv } from '../env';
import type { ArmRequest, ArmResponse } from '../http';
import { param } from '../http';
import type { OperationRecord } from '../lro';
import { operationUrls } from '../env';
import { renderRestorePoint } from '../restorePointModel';
import { subscriptionKey } from './common';
import { renderDisk } from './disks';
import { renderVm } from './virtualMachines';

/**
 * The operation-status URLs (azure-api.md §4). Without `monitor=true` it is the
 * Azure-AsyncOperation URL: always 200 with `{ name, status, startTime, endTime?, error? }`
 * (DiskRP adds `properties.output`). With `monitor=true` it is the Location URL: 202 while
 * running, then the response the operation would have given synchronously.
 */
function find(env: EmulatorEnv, request: ArmRequest, family: OperationRecord['family']): OperationRecord {
  const id = param(request, 'operationId');
  const operation = env.operations.get(id);
  if (
    !operation ||
    operation.family !== family ||
    operation.subscriptionId.toLowerCase() !== param(request, 'subscriptionId').toLowerCase()
  ) {
    throw new ArmError(404, 'OperationNotFound', `The operation '${id}' was not found.`);
  }
  env.operations.settle(operation);
  return operation;
}

export function getComputeOperation(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  // CRP's operation-status policies, counted before the lookup, as a throttle is (DiskRP's URL has its own, not simulated).
  env.countPolicy('GetOperationSubscriptionMaximum', subscriptionKey(request));
  env.countPolicy('GetOperationResource', param(request, 'operationId').toLowerCase());
  return respond(env, request, find(env, request, 'operations'));
}

export function getDiskOperation(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  return respond(env, request, find(env, request, 'DiskOperations'));
}

function respond(env: EmulatorEnv, request: ArmRequest, operation: OperationRecord): ArmResponse {
  if (request.query.get('monitor')?.toLowerCase() === 'true') return locationResponse(env, request, operation);
  const body: Record<string, unknown> = {
    startTime: new Date(operation.startMs).toISOString(),
    ...(operation.endMs !== undefined ? { endTime: new Date(operation.endMs).toISOString() } : {}),
    status: operation.status,
    name: operation.id,
  };
  if (operation.error) body.error = { code: operation.error.code, message: operation.error.message };
  if (operation.family === 'DiskOperations' && operation.status === 'Succeeded') {
    const output = result(env, operation);
    if (output !== undefined) body.properties = { output };
  }
  return { status: 200, body };
}

function locationResponse(env: EmulatorEnv, request: ArmRequest, operation: OperationRecord): ArmResponse {
  if (operation.status === 'InProgress') {
    return { status: 202, headers: { location: operationUrls(request.baseUrl, operation).location } };
  }
  if (operation.error) {
    return {
      status: operation.error.status,
      body: { error: { code: operation.error.code, message: operation.error.message } },
    };
  }
  const body = result(env, operation);
  if (body === undefined) return { status: operation.action.kind.startsWith('delete') ? 204 : 200 };
  return { status: 200, body };
}

/** What the operation would have returned synchronously. */
function result(env: EmulatorEnv, operation: OperationRecord): unknown {
  const action = operation.action;
  switch (action.kind) {
    case 'grantAccess':
      return { accessSAS: action.accessSAS };
    case 'createRestorePoint': {
      const rp = env.store.restorePoints.get(action.key);
      return rp ? renderRestorePoint(env, rp, false) : undefined;
    }
    case 'createDisk': {
      const disk = env.store.disks.get(action.key);
      return disk ? renderDisk(disk) : undefined;
    }
    case 'createVm': {
      const vm = env.store.virtualMachines.get(action.key);
      return vm ? renderVm(env, vm) : undefined;
    }
    default:
      return undefined;
  }
}
