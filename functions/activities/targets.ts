import type { Disk, VirtualMachine, VirtualMachineScaleSet } from '@azure/arm-compute';
import * as df from 'durable-functions';
import { appStores } from '../../lib/azure/stores';
import { batchTargets, isSelected, targetOf } from '../../lib/backup/targets';
import { tryParseArmId } from '../../lib/armIds';
import { isRpoCollection } from '../../lib/naming';
import { regionKey } from '../../lib/policy';
import { MAX_COLLECTIONS_PER_SUBSCRIPTION_REGION } from '../../lib/backup/targets';
import {
  ACTIVITIES,
  TARGETS_PER_BATCH,
  type ReadTargetBatchInput,
  type ResolveTargetsInput,
  type ResolveTargetsResult,
  type TargetGroup,
  type VmTarget,
} from '../../orchestrations/contracts';
import { armFailure, withArm } from './shared';

/**
 * resolveTargets: lists what a policy's scope holds (VMs with their instance view, disks, scale sets, restore
 * point collections: paged listings, a handful of reads per hundred VMs instead of several per VM), plans
 * every selected VM, and stores the batches in RpoRunTargets for the batch orchestrations to read.
 */
async function resolveTargets(input: ResolveTargetsInput): Promise<ResolveTargetsResult> {
  const { policy, runId } = input;
  const targets: VmTarget[] = [];
  const listingErrors: ResolveTargetsResult['listingErrors'][number][] = [];
  for (const subscriptionId of policy.scope.subscriptionIds) {
    try {
      targets.push(...(await resolveSubscription(input, subscriptionId)));
    } catch (error) {
      const failure = armFailure(error);
      listingErrors.push({ scope: `/subscriptions/${subscriptionId}`, code: failure.code, message: failure.message });
    }
  }
  const batches = batchTargets(targets, TARGETS_PER_BATCH);
  const stores = await appStores();
  for (const [index, batch] of batches.entries()) await stores.targets.writeBatch(runId, index, batch);
  return { batches: batches.length, total: targets.length, listingErrors };
}

async function resolveSubscription(input: ResolveTargetsInput, subscriptionId: string): Promise<VmTarget[]> {
  const { policy } = input;
  return withArm(subscriptionId, async ({ compute }) => {
    const vms: VirtualMachine[] = [];
    const groups = policy.scope.resourceGroups;
    if (groups === undefined) {
      for await (const vm of compute.virtualMachines.listAll({ expand: 'instanceView' })) vms.push(vm);
    } else {
      for (const group of groups) {
        for await (const vm of compute.virtualMachines.list(group, { expand: 'instanceView' })) vms.push(vm);
      }
    }
    const selected = vms.filter((vm) => isSelected(policy, vm));
    if (selected.length === 0) return [];

    const disks = new Map<string, Disk>();
    for await (const disk of compute.disks.list()) if (disk.id !== undefined) disks.set(disk.id.toLowerCase(), disk);

    const scaleSets = new Map<string, VirtualMachineScaleSet>();
    for (const vm of selected) {
      const id = vm.virtualMachineScaleSet?.id;
      const parsed = id === undefined ? undefined : tryParseArmId(id, { expect: 'virtualMachineScaleSet' });
      if (parsed === undefined || scaleSets.has(parsed.id.toLowerCase())) continue;
      scaleSets.set(
        parsed.id.toLowerCase(),
        await compute.virtualMachineScaleSets.get(parsed.resourceGroup, parsed.name),
      );
    }

    const collectionsBySource = new Map<string, string[]>();
    const collectionsByRegion = new Map<string, number>();
    const unmanagedCollections = new Set<string>();
    for await (const collection of compute.restorePointCollections.listAll()) {
      if (collection.id !== undefined && !isRpoCollection(collection))
        unmanagedCollections.add(collection.id.toLowerCase());
      const region = regionKey(collection.location ?? '');
      collectionsByRegion.set(region, (collectionsByRegion.get(region) ?? 0) + 1);
      const source = collection.source?.id?.toLowerCase();
      if (source === undefined || collection.id === undefined) continue;
      const list = collectionsBySource.get(source) ?? [];
      if (list.length === 0) collectionsBySource.set(source, list);
      list.push(collection.id);
    }

    const inputs = { policy, vms: selected, disks, scaleSets, collectionsBySource, unmanagedCollections };
    return selected.flatMap((vm) => {
      const target = targetOf(inputs, vm);
      return target === undefined ? [] : [withinCollectionLimit(target, collectionsByRegion)];
    });
  });
}

/**
 * Azure allows 10,000 restore point collections per subscription and region: a VM whose collection would be
 * one too many is refused here, with the reason, instead of by Azure.
 */
function withinCollectionLimit(target: VmTarget, byRegion: Map<string, number>): VmTarget {
  if (target.collection.exists || target.plan.kind === 'refused') return target;
  const count = byRegion.get(target.region) ?? 0;
  if (count < MAX_COLLECTIONS_PER_SUBSCRIPTION_REGION) {
    byRegion.set(target.region, count + 1);
    return target;
  }
  return {
    ...target,
    plan: {
      kind: 'refused',
      code: 'collectionLimit',
      reason: `the subscription already has ${count} restore point collections in ${target.region}: Azure's limit is ${MAX_COLLECTIONS_PER_SUBSCRIPTION_REGION}`,
      retryable: true,
    },
  };
}

async function readTargetBatch(input: ReadTargetBatchInput): Promise<TargetGroup[]> {
  const stores = await appStores();
  const batch = await stores.targets.readBatch(input.runId, input.batch);
  if (batch === undefined) throw new Error(`run ${input.runId} has no target batch ${input.batch} in RpoRunTargets`);
  return batch as TargetGroup[];
}

async function dropTargets(input: { runId: string }): Promise<number> {
  const stores = await appStores();
  return stores.targets.dropRun(input.runId);
}

df.app.activity(ACTIVITIES.resolveTargets, { handler: resolveTargets });
df.app.activity(ACTIVITIES.readTargetBatch, { handler: readTargetBatch });
df.app.activity(ACTIVITIES.dropTargets, { handler: dropTargets });
