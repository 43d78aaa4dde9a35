import * as df from 'durable-functions';
import { reserveArm as reserve } from '../../lib/azure/pacer';
import { appStores } from '../../lib/azure/stores';
import { nowMs } from '../../lib/clock';
import {
  acquire,
  EMPTY_GATE,
  markSend,
  modeFamily,
  release,
  spendPut,
  type VmGateState,
} from '../../lib/pacing/vmGate';
import { STATE_PARTITIONS } from '../../lib/tables/stateStore';
import {
  ACTIVITIES,
  type AcquireVmInput,
  type AcquireVmResult,
  type ReleaseVmInput,
  type ReserveArmInput,
  type ReserveArmResult,
  type SpendVmPutInput,
  type SpendVmPutResult,
} from '../../orchestrations/contracts';

/**
 * The activities behind RPO's limits (docs/pacing.md). They decide and return at once; any waiting they call
 * for is a durable timer in the orchestrator.
 */

async function reserveArm(input: ReserveArmInput): Promise<ReserveArmResult> {
  const stores = await appStores();
  const planned = await reserve(stores.state, input.subscriptionId, input, nowMs());
  return { startAtIso: new Date(planned.startAtMs).toISOString(), ...(planned.recheck ? { recheck: true } : {}) };
}

const vmKey = (vmId: string) => vmId.toLowerCase();

async function acquireVm(input: AcquireVmInput): Promise<AcquireVmResult> {
  const stores = await appStores();
  const now = nowMs();
  return stores.state.update<VmGateState, AcquireVmResult>(STATE_PARTITIONS.vm, vmKey(input.vmId), (current) => {
    const result = acquire(current ?? EMPTY_GATE, input.holder, input.purpose, now, Date.parse(input.untilIso));
    if (result.kind === 'granted') return { next: result.state, result: { kind: 'granted' } };
    return {
      next: undefined,
      result: {
        kind: 'busy',
        holder: result.holder,
        ...(result.purpose !== undefined ? { purpose: result.purpose } : {}),
        untilIso: new Date(result.untilMs).toISOString(),
      },
    };
  });
}

async function releaseVm(input: ReleaseVmInput): Promise<void> {
  const stores = await appStores();
  await stores.state.update<VmGateState, void>(STATE_PARTITIONS.vm, vmKey(input.vmId), (current) => {
    if (current === undefined || current.holder !== input.holder) return { next: undefined, result: undefined };
    return { next: release(current, input.holder), result: undefined };
  });
}

async function spendVmPut(input: SpendVmPutInput): Promise<SpendVmPutResult> {
  const stores = await appStores();
  const now = nowMs();
  return stores.state.update<VmGateState, SpendVmPutResult>(STATE_PARTITIONS.vm, vmKey(input.vmId), (current) => {
    const budget = spendPut(current ?? EMPTY_GATE, modeFamily(input.mode), now);
    if (budget.kind === 'allowed') return { next: budget.state, result: { kind: 'allowed' } };
    return { next: undefined, result: { kind: 'exhausted', retryAtIso: new Date(budget.retryAtMs).toISOString() } };
  });
}

/** Whether a restore point PUT of this name was written down as sent (lib/pacing/vmGate rule 4). */
export async function wasPutSent(vmId: string, pointName: string): Promise<boolean> {
  const stores = await appStores();
  const current = await stores.state.read<VmGateState>(STATE_PARTITIONS.vm, vmKey(vmId));
  return current?.lastSend?.name === pointName;
}

/** Writes down a restore point PUT about to be sent, and counts its hour from now (lib/pacing/vmGate rule 4). */
export async function markPutSend(vmId: string, pointName: string, mode: string): Promise<void> {
  const stores = await appStores();
  const now = nowMs();
  await stores.state.update<VmGateState, void>(STATE_PARTITIONS.vm, vmKey(vmId), (current) => ({
    next: markSend(current ?? EMPTY_GATE, pointName, modeFamily(mode), now).state,
    result: undefined,
  }));
}

df.app.activity(ACTIVITIES.reserveArm, { handler: reserveArm });
df.app.activity(ACTIVITIES.acquireVm, { handler: acquireVm });
df.app.activity(ACTIVITIES.releaseVm, { handler: releaseVm });
df.app.activity(ACTIVITIES.spendVmPut, { handler: spendVmPut });
