import { describe, expect, it } from 'vitest';
import { planFleet } from '../../../local/compute/fleet';
import { GENERATED_FLEET_DEFAULTS, generateFleet } from '../../../local/compute/generatedFleet';

describe('generateFleet', () => {
  it('makes N uniform VMs in one subscription, spread over resource groups, each with its disks and tags', () => {
    const fleet = generateFleet({ vms: 1_201, vmsPerResourceGroup: 500, dataDisks: 2 });
    expect(fleet.subscriptions).toHaveLength(1);
    const [subscription] = fleet.subscriptions;
    expect(subscription?.id).toBe(GENERATED_FLEET_DEFAULTS.subscriptionId);
    const groups = subscription?.resourceGroups ?? [];
    expect(groups.map((g) => [g.name, g.virtualMachines.length])).toEqual([
      ['rg-fleet-000', 500],
      ['rg-fleet-001', 500],
      ['rg-fleet-002', 201],
    ]);
    const vms = groups.flatMap((g) => g.virtualMachines);
    expect(new Set(vms.map((vm) => vm.name)).size).toBe(1_201);
    expect(vms[0]?.name).toBe('vm-00000');
    expect(vms[1_200]?.name).toBe('vm-01200');
    for (const vm of vms) {
      expect(vm.tags).toEqual({ 'rpo-fleet': 'bench' });
      expect(vm.dataDisks.map((d) => d.lun)).toEqual([0, 1]);
      expect(vm.powerState).toBe('running');
    }
    // Through the fleet planner: one PUT per disk and per VM, no sets.
    const plan = planFleet(fleet);
    expect(plan.stages.map((stage) => stage.length)).toEqual([1_201 * 3, 1_201]);
  });

  it('is deterministic and takes its options', () => {
    const options = {
      vms: 3,
      subscriptionId: '00000000-0000-4000-8000-0000000000aa',
      location: 'northeurope',
      dataDisks: 0,
      tags: { tier: 'gold' },
      prefix: 'web',
    };
    const fleet = generateFleet(options);
    expect(generateFleet(options)).toEqual(fleet);
    const group = fleet.subscriptions[0]?.resourceGroups[0];
    expect(group?.location).toBe('northeurope');
    expect(group?.virtualMachines.map((vm) => [vm.name, vm.tags, vm.dataDisks.length])).toEqual([
      ['web-00000', { tier: 'gold' }, 0],
      ['web-00001', { tier: 'gold' }, 0],
      ['web-00002', { tier: 'gold' }, 0],
    ]);
    expect(planFleet(fleet).stages[0]?.[0]?.id).toBe(
      '/subscriptions/00000000-0000-4000-8000-0000000000aa/resourceGroups/rg-fleet-000/providers/Microsoft.Compute/disks/web-00000-os',
    );
  });

  it('refuses sizes that are not whole numbers in range', () => {
    expect(() => generateFleet({ vms: 0 })).toThrow(/vms must be a whole number/);
    expect(() => generateFleet({ vms: 2.5 })).toThrow(/vms/);
    expect(() => generateFleet({ vms: 1, dataDisks: 9 })).toThrow(/dataDisks/);
    expect(() => generateFleet({ vms: 1, vmsPerResourceGroup: 0 })).toThrow(/vmsPerResourceGroup/);
  });

  it('generates 5,000 VMs quickly', () => {
    const started = performance.now();
    const fleet = generateFleet({ vms: 5_000 });
    expect(fleet.subscriptions[0]?.resourceGroups.flatMap((g) => g.virtualMachines)).toHaveLength(5_000);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
