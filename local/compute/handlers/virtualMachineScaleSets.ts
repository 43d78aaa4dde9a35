import { invalidParameter } from '../armErrors';
import { newGuid } from '../armIds';
import type { EmulatorEnv } from '../env';
import type { ArmRequest, ArmResponse } from '../http';
import { optionalEnum } from '../validation';
import { createOrUpdateSet, getSet, listSets, type SetKind } from './sets';

/**
 * Tag `VirtualMachineScaleSets`: CreateOrUpdate, Get, List with `orchestrationMode`. Membership of
 * VMs comes from the VMs' `virtualMachineScaleSet.id`; completes synchronously (Succeeded at once).
 */
const KIND: SetKind = {
  type: 'virtualMachineScaleSets',
  armType: 'Microsoft.Compute/virtualMachineScaleSets',
  nameParam: 'vmScaleSetName',
  table: (env) => env.store.scaleSets,
  normalise: (properties, existing) => {
    const mode = optionalEnum(properties, 'orchestrationMode', 'properties.orchestrationMode', [
      'Uniform',
      'Flexible',
    ] as const);
    const previous = existing?.properties.orchestrationMode;
    if (previous !== undefined && mode !== undefined && previous !== mode) {
      throw invalidParameter(
        'properties.orchestrationMode',
        'The orchestration mode of a scale set cannot be changed.',
      );
    }
    return {
      ...properties,
      orchestrationMode: mode ?? previous ?? 'Uniform',
      uniqueId: existing?.properties.uniqueId ?? newGuid(),
    };
  },
  render: (record) => ({ ...record.properties, provisioningState: 'Succeeded' }),
};

export function createOrUpdate(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  return createOrUpdateSet(env, request, KIND);
}

export function get(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  return getSet(env, request, KIND);
}

export function list(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  return listSets(env, request, KIND);
}
