import type { VirtualMachine } from '@azure/arm-compute';
import { app, type HttpResponseInit } from '@azure/functions';
import { openArmSession } from '../../lib/azure/compute';
import { appStores } from '../../lib/azure/stores';
import { isSelected } from '../../lib/backup/targets';
import { nowMs } from '../../lib/clock';
import { best, judge, type ComplianceState, type VmCompliance } from '../../lib/compliance';
import { appConfig } from '../../lib/config';
import { parsePolicy, type Policy } from '../../lib/policy';
import { armFailure } from '../activities/shared';
import { fromError, json } from './responses';

/**
 * `GET /api/compliance` (DESIGN §4): every VM in any enabled policy's scope, with the policy that protects it
 * best, its RPO target, its newest good restore point and its age, the state, and why (lib/compliance).
 */
interface Entry extends VmCompliance {
  readonly vmId: string;
  readonly vmName: string;
  readonly policy: string | null;
}

async function listScope(
  policy: Policy,
  errors: { scope: string; code: string; message: string }[],
): Promise<VirtualMachine[]> {
  const vms: VirtualMachine[] = [];
  for (const subscriptionId of policy.scope.subscriptionIds) {
    const { compute } = openArmSession(subscriptionId, { config: appConfig() });
    try {
      if (policy.scope.resourceGroups === undefined)
        for await (const vm of compute.virtualMachines.listAll()) vms.push(vm);
      else
        for (const g of policy.scope.resourceGroups)
          for await (const vm of compute.virtualMachines.list(g)) vms.push(vm);
    } catch (error) {
      const f = armFailure(error);
      errors.push({ scope: `/subscriptions/${subscriptionId}`, code: f.code, message: f.message });
    }
  }
  return vms;
}

export async function compliance(): Promise<HttpResponseInit> {
  try {
    const now = nowMs();
    const stores = await appStores<Policy>();
    const policies = (await stores.policies.list()).filter((p) => p.enabled).map((p) => parsePolicy(p.policy));
    const errors: { scope: string; code: string; message: string }[] = [];
    const vms = new Map<string, { vm: VirtualMachine; selectedBy: Policy[] }>();
    for (const policy of policies) {
      for (const vm of await listScope(policy, errors)) {
        if (vm.id === undefined) continue;
        const entry = vms.get(vm.id.toLowerCase()) ?? { vm, selectedBy: [] };
        vms.set(vm.id.toLowerCase(), entry);
        if (isSelected(policy, vm)) entry.selectedBy.push(policy);
      }
    }
    const entries: Entry[] = [];
    for (const { vm, selectedBy } of vms.values()) {
      const vmId = vm.id as string;
      const vmName = vm.name ?? vmId;
      if (selectedBy.length === 0) {
        entries.push({
          vmId,
          vmName,
          policy: null,
          state: 'Unprotected',
          rpoTargetMinutes: 0,
          why: { code: 'notSelected', message: 'no policy selects this VM' },
        });
        continue;
      }
      const outcomes = await stores.outcomes.listOutcomesForVm(vmId, { top: 200 });
      const judged = selectedBy.map((policy) => ({
        ...judge(
          policy,
          outcomes.filter((o) => o.policy === policy.name),
          now,
        ),
        vmId,
        vmName,
        policy: policy.name,
      }));
      entries.push(best(judged) as Entry);
    }
    entries.sort((a, b) => (a.vmId.toLowerCase() < b.vmId.toLowerCase() ? -1 : 1));
    const counts: Record<ComplianceState, number> = { Protected: 0, AtRisk: 0, Breached: 0, Unprotected: 0 };
    for (const e of entries) counts[e.state] += 1;
    return json(200, { generatedAt: new Date(now).toISOString(), counts, value: entries, listingErrors: errors });
  } catch (error) {
    return fromError(error);
  }
}

app.http('compliance', { route: 'compliance', methods: ['GET'], authLevel: 'function', handler: compliance });
