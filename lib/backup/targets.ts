import type { Disk, VirtualMachine, VirtualMachineScaleSet } from '@azure/arm-compute';
import { sameArmId, tryParseArmId } from '../armIds';
import { planConsistency, planFallback, type ConsistencyPlanResult } from '../consistencyPlan';
import { RPO_MANAGED_TAG, sourceCollectionName } from '../naming';
import type { Policy } from '../policy';
import { regionKey } from '../policy';
import type { PlannedBackup, RefusedBackup, TargetGroup, VmTarget } from '../../orchestrations/contracts';

/**
 * From ARM listings to a policy run's targets (pure): which VMs the selector picks, the consistency plan of
 * each (and the crash-consistent fallback plan), and the groups (sets) they are backed up in.
 * Selection rule (docs/scheduled-protection.md): `vmIds` and `vmSetIds` name VMs (their union); `tags`
 * filter (all pairs, tag names case-insensitive as in ARM, values exact); an empty selector takes all in scope.
 */

/** Azure: at most 10,000 restore point collections per subscription and region (DESIGN §1). */
export const MAX_COLLECTIONS_PER_SUBSCRIPTION_REGION = 10_000;

export function tagsMatch(
  vmTags: Readonly<Record<string, string>> | undefined,
  wanted: Readonly<Record<string, string>>,
): boolean {
  const entries = Object.entries(vmTags ?? {});
  return Object.entries(wanted).every(([name, value]) =>
    entries.some(([k, v]) => k.toLowerCase() === name.toLowerCase() && v === value),
  );
}

/** The set (availability set or scale set) a VM belongs to, if any. */
export function setIdOf(vm: VirtualMachine): string | undefined {
  return vm.availabilitySet?.id ?? vm.virtualMachineScaleSet?.id ?? undefined;
}

export function isSelected(policy: Pick<Policy, 'selector'>, vm: VirtualMachine): boolean {
  const { tags, vmIds, vmSetIds } = policy.selector;
  const named = vmIds !== undefined || vmSetIds !== undefined;
  if (named) {
    const byId = vmIds?.some((id) => sameArmId(id, vm.id)) ?? false;
    const bySet = vmSetIds?.some((id) => sameArmId(id, setIdOf(vm))) ?? false;
    if (!byId && !bySet) return false;
  }
  return tags === undefined || tagsMatch(vm.tags, tags);
}

function summarize(plan: ConsistencyPlanResult): PlannedBackup | RefusedBackup {
  if (plan.kind === 'refused') {
    return { kind: 'refused', code: plan.reasonCode, reason: plan.reason, retryable: plan.retryable };
  }
  return {
    kind: 'planned',
    mode: plan.mode,
    excludeDisks: plan.excludeDisksRequest.map((d) => d.id),
    excludedDisks: plan.excludedDisks.map((d) => ({ id: d.id, reason: `${d.reason}: ${d.detail}` })),
    warnings: plan.warnings,
    ...(plan.instantAccessDurationMinutes !== undefined
      ? { instantAccessDurationMinutes: plan.instantAccessDurationMinutes }
      : {}),
  };
}

export interface TargetInputs {
  readonly policy: Policy;
  readonly vms: readonly VirtualMachine[];
  /** Disks by lower-cased id. */
  readonly disks: ReadonlyMap<string, Disk>;
  /** Scale sets by lower-cased id. */
  readonly scaleSets: ReadonlyMap<string, VirtualMachineScaleSet>;
  /** Lower-cased source VM id → the ids of its collections. */
  readonly collectionsBySource: ReadonlyMap<string, readonly string[]>;
  /** Lower-cased ids of the collections without RPO's `rpo-managed` tag. */
  readonly unmanagedCollections?: ReadonlySet<string>;
}

/**
 * A collection with RPO's name that does not carry RPO's tag was made or changed by someone else: RPO does
 * not write into it, since its retention never deletes from a collection it does not manage (the points
 * would pile up to Azure's 500).
 */
function unmanagedCollection(collectionId: string, collectionName: string): RefusedBackup {
  return {
    kind: 'refused',
    code: 'collectionNotManaged',
    reason: `the restore point collection ${collectionName} exists without the tag ${RPO_MANAGED_TAG}=true: RPO does not create points in a collection it does not manage (tag ${collectionId} ${RPO_MANAGED_TAG}=true to adopt it, or remove it)`,
    retryable: false,
  };
}

function referencedDisks(vm: VirtualMachine, disks: ReadonlyMap<string, Disk>): Disk[] {
  const ids = [
    vm.storageProfile?.osDisk?.managedDisk?.id,
    ...(vm.storageProfile?.dataDisks ?? []).map((d) => d.managedDisk?.id),
  ];
  return ids.flatMap((id) => {
    const disk = id === undefined ? undefined : disks.get(id.toLowerCase());
    return disk === undefined ? [] : [disk];
  });
}

/** One VM's target: where its points go and what they contain. */
export function targetOf(inputs: TargetInputs, vm: VirtualMachine): VmTarget | undefined {
  const parsed = tryParseArmId(vm.id, { expect: 'virtualMachine' });
  if (parsed === undefined || vm.location === undefined) return undefined;
  const { policy } = inputs;
  const scaleSetId = vm.virtualMachineScaleSet?.id;
  const scaleSet = scaleSetId === undefined ? undefined : inputs.scaleSets.get(scaleSetId.toLowerCase());
  const disks = referencedDisks(vm, inputs.disks);
  const common = {
    vm,
    disks,
    ...(scaleSet !== undefined ? { scaleSet } : {}),
    exclusions: policy.excludeDisks,
  };
  const request = {
    ...common,
    mode: policy.consistencyMode,
    ...(policy.instantAccess !== undefined ? { instantAccess: policy.instantAccess } : {}),
  };
  const plan = summarize(planConsistency(request));
  // Instant access is application-consistent only: planFallback drops it (with a warning) for the crash-consistent try.
  const fallbackPlan =
    policy.fallbackToCrashConsistent && policy.consistencyMode === 'ApplicationConsistent'
      ? summarize(planFallback(request))
      : undefined;
  const collectionName = sourceCollectionName(parsed.id);
  const collectionId = `/subscriptions/${parsed.subscriptionId}/resourceGroups/${parsed.resourceGroup}/providers/Microsoft.Compute/restorePointCollections/${collectionName}`;
  const collectionIds = inputs.collectionsBySource.get(parsed.id.toLowerCase()) ?? [];
  const exists = collectionIds.some((id) => sameArmId(id, collectionId));
  const unmanaged = exists && (inputs.unmanagedCollections?.has(collectionId.toLowerCase()) ?? false);
  const setId = setIdOf(vm);
  return {
    vmId: parsed.id,
    vmName: parsed.name,
    subscriptionId: parsed.subscriptionId,
    resourceGroup: parsed.resourceGroup,
    region: regionKey(vm.location),
    ...(setId !== undefined ? { setId } : {}),
    plan: unmanaged ? unmanagedCollection(collectionId, collectionName) : plan,
    ...(fallbackPlan !== undefined && !unmanaged ? { fallbackPlan } : {}),
    collection: { id: collectionId, name: collectionName, exists },
    collectionIds,
  };
}

/**
 * Groups targets by set and packs them into batches of at most `perBatch` VMs. A set stays in one batch when
 * it fits; a larger set is split into groups of `perBatch` (each records its own skew).
 */
export function batchTargets(targets: readonly VmTarget[], perBatch: number): TargetGroup[][] {
  const groups: TargetGroup[] = [];
  const bySet = new Map<string, VmTarget[]>();
  for (const target of targets) {
    if (target.setId === undefined) groups.push({ members: [target] });
    else {
      const key = target.setId.toLowerCase();
      const members = bySet.get(key) ?? [];
      if (members.length === 0) bySet.set(key, members);
      members.push(target);
    }
  }
  for (const members of bySet.values()) {
    for (let i = 0; i < members.length; i += perBatch) {
      const part = i / perBatch;
      groups.push({
        setId: (members[0] as VmTarget).setId,
        ...(part > 0 ? { part } : {}),
        members: members.slice(i, i + perBatch),
      });
    }
  }
  const batches: TargetGroup[][] = [];
  let current: TargetGroup[] = [];
  let size = 0;
  for (const group of groups) {
    if (size + group.members.length > perBatch && current.length > 0) {
      batches.push(current);
      current = [];
      size = 0;
    }
    current.push(group);
    size += group.members.length;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * The batches of one lane of a run (orchestrations/contracts BATCH_LANES): every `lanes`-th from `lane`, in order.
 * Lanes run side by side and each takes its batches one after another, so at most `lanes` are in flight.
 */
export function laneBatches(lane: number, lanes: number, batches: number): number[] {
  const out: number[] = [];
  for (let batch = lane; batch < batches; batch += Math.max(1, lanes)) out.push(batch);
  return out;
}
