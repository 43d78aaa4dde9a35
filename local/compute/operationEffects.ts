import type { EmulatorEnv } from './env';
import type { OperationRecord } from './lro';
import { findDiskRestorePoint } from './restorePointModel';
import * as disks from './handlers/disks';
import * as restorePointCollections from './handlers/restorePointCollections';
import * as restorePoints from './handlers/restorePoints';
import * as virtualMachines from './handlers/virtualMachines';

/** Applies an operation's effect when it completes; returns the error when it ends Failed. */
export function completeOperation(
  env: EmulatorEnv,
  operation: OperationRecord,
): { code: string; message: string; status: number } | undefined {
  const action = operation.action;
  const failWith = operation.failWith;
  switch (action.kind) {
    case 'createRestorePoint':
      return restorePoints.completeCreate(env, action.key, action.diskGeneration, failWith);
    case 'deleteRestorePoint':
      if (!failWith) restorePoints.completeDelete(env, action.key);
      else restoreState(env, action.key);
      return failWith;
    case 'deleteCollection':
      if (!failWith) restorePointCollections.completeDelete(env, action.key);
      return failWith;
    case 'createDisk':
      disks.completeCreate(env, action.key, failWith !== undefined);
      return failWith;
    case 'deleteDisk':
      if (!failWith) env.store.disks.delete(action.key);
      return failWith;
    case 'createVm':
      virtualMachines.completeCreate(env, action.key, failWith !== undefined);
      return failWith;
    case 'deleteVm':
      if (!failWith) virtualMachines.completeDelete(env, action.key);
      return failWith;
    case 'vmPower':
      if (!failWith) virtualMachines.completePower(env, action.key, action.to);
      return failWith;
    case 'grantAccess': {
      const found = findDiskRestorePoint(env, action.key);
      if (found && failWith) found.drp.sasExpiresAtMs = undefined;
      return failWith;
    }
    case 'revokeAccess': {
      const found = findDiskRestorePoint(env, action.key);
      if (found && !failWith) found.drp.sasExpiresAtMs = undefined;
      return failWith;
    }
  }
}

function restoreState(env: EmulatorEnv, key: string): void {
  const rp = env.store.restorePoints.get(key);
  if (rp && rp.provisioningState === 'Deleting') rp.provisioningState = 'Succeeded';
}
