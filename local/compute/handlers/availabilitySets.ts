import type { EmulatorEnv } from '../env';
import type { ArmRequest, ArmResponse } from '../http';
import { createOrUpdateSet, getSet, listSets, type SetKind } from './sets';

/** Tag `AvailabilitySets`: CreateOrUpdate (synchronous 200), Get (with member VMs), List. */
const KIND: SetKind = {
  type: 'availabilitySets',
  armType: 'Microsoft.Compute/availabilitySets',
  nameParam: 'availabilitySetName',
  table: (env) => env.store.availabilitySets,
  normalise: (properties) => ({
    platformUpdateDomainCount: 5,
    platformFaultDomainCount: 2,
    ...properties,
  }),
  render: (record, members) => ({ ...record.properties, virtualMachines: members.map((id) => ({ id })) }),
};

export function createOrUpdate(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  const response = createOrUpdateSet(env, request, KIND);
  // AvailabilitySets_CreateOrUpdate answers 200 for create and update alike (swagger: 200 only).
  return { ...response, status: 200 };
}

export function get(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  return getSet(env, request, KIND);
}

export function list(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  return listSets(env, request, KIND);
}
