import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadFleetFile, parseFleet, planFleet, type Fleet } from '../../../local/compute/fleet';
import { ValidationError } from '../../../lib/validation';

const DEMO = path.resolve(__dirname, '../../../local/fleets/demo.json');
const SUB = '00000000-0000-4000-8000-000000000001';

function smallFleet() {
  return {
    subscriptions: [
      {
        id: SUB,
        resourceGroups: [
          {
            name: 'rg-one',
            location: 'westeurope',
            disks: [{ name: 'shared', sku: 'Premium_LRS', sizeGB: 256, maxShares: 2 }],
            availabilitySets: [{ name: 'avset' }],
            virtualMachines: [
              {
                name: 'vm-a',
                tags: {} as Record<string, string>,
                size: 'Standard_D2s_v5',
                availabilitySet: 'avset',
                osDisk: { disk: { name: 'vm-a-os', sku: 'Premium_LRS', sizeGB: 64 } },
                dataDisks: [{ lun: 0, disk: 'shared' }],
              },
            ],
          },
        ],
      },
    ],
  };
}

function firstVm(fleet: ReturnType<typeof smallFleet>) {
  const vm = fleet.subscriptions[0]?.resourceGroups[0]?.virtualMachines[0];
  if (!vm) throw new Error('the small fleet has a VM');
  return vm;
}

function issuesOf(run: () => unknown): { field: string; rule: string }[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError) return error.issues.map(({ field, rule }) => ({ field, rule }));
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('fleet file validation', () => {
  it('accepts a minimal fleet and fills in defaults', () => {
    const fleet = parseFleet(smallFleet());
    const vm = fleet.subscriptions[0]?.resourceGroups[0]?.virtualMachines[0];
    expect(vm?.osType).toBe('Linux');
    expect(vm?.vmAgent).toBe('Ready');
    expect(vm?.powerState).toBe('running');
  });

  it('names the JSON path of a wrong field', () => {
    const input = smallFleet();
    firstVm(input).size = 'D2s';
    expect(issuesOf(() => parseFleet(input))).toEqual([
      { field: 'subscriptions[0].resourceGroups[0].virtualMachines[0].size', rule: 'format' },
    ]);
  });

  it('refuses unknown fields, naming them', () => {
    const input = smallFleet();
    Object.assign(input.subscriptions[0] ?? {}, { colour: 'blue' });
    expect(issuesOf(() => parseFleet(input))).toEqual([{ field: 'subscriptions[0].colour', rule: 'unknown-field' }]);
  });

  it('refuses a subscription id that is not a GUID', () => {
    const input = smallFleet();
    Object.assign(input.subscriptions[0] ?? {}, { id: 'prod' });
    expect(issuesOf(() => parseFleet(input)).map((i) => i.field)).toEqual(['subscriptions[0].id']);
  });

  it('refuses duplicate data disk luns', () => {
    const input = smallFleet();
    firstVm(input).dataDisks.push({ lun: 0, disk: 'shared' });
    expect(issuesOf(() => parseFleet(input))).toContainEqual({
      field: 'subscriptions[0].resourceGroups[0].virtualMachines[0]',
      rule: 'unique-lun',
    });
  });

  it('reports a file that is not JSON with the file name', async () => {
    await expect(loadFleetFile(__filename)).rejects.toThrow(/fleet\.test\.ts is not valid JSON/);
  });
});

describe('planFleet', () => {
  it('orders disks before sets before VMs and points VMs at their disks and sets', () => {
    const plan = planFleet(parseFleet(smallFleet()));
    expect(plan.stages.map((stage) => stage.map((r) => r.kind))).toEqual([
      ['disk', 'disk'],
      ['availabilitySet'],
      ['virtualMachine'],
    ]);
    const vm = plan.stages[2]?.[0];
    const base = `/subscriptions/${SUB}/resourceGroups/rg-one/providers/Microsoft.Compute`;
    expect(vm?.id).toBe(`${base}/virtualMachines/vm-a`);
    expect(vm?.body).toMatchObject({
      location: 'westeurope',
      properties: {
        availabilitySet: { id: `${base}/availabilitySets/avset` },
        storageProfile: {
          osDisk: { createOption: 'Attach', managedDisk: { id: `${base}/disks/vm-a-os` } },
          dataDisks: [{ lun: 0, createOption: 'Attach', managedDisk: { id: `${base}/disks/shared` } }],
        },
      },
    });
    // The inline OS disk takes the VM's OS type.
    expect(plan.stages[0]?.find((r) => r.id.endsWith('/vm-a-os'))?.body).toMatchObject({
      properties: { osType: 'Linux', creationData: { createOption: 'Empty' }, diskSizeGB: 64 },
    });
  });

  it('names the path of a reference to an undeclared disk or set', () => {
    const input = smallFleet();
    const vm = firstVm(input);
    vm.dataDisks = [{ lun: 0, disk: 'nope' }];
    vm.availabilitySet = 'missing-set';
    expect(issuesOf(() => planFleet(parseFleet(input)))).toEqual([
      { field: 'subscriptions[0].resourceGroups[0].virtualMachines[0].dataDisks[0].disk', rule: 'unknown-disk' },
      {
        field: 'subscriptions[0].resourceGroups[0].virtualMachines[0].availabilitySet',
        rule: 'unknown-availability-set',
      },
    ]);
  });

  it('refuses a resource declared twice', () => {
    const input = smallFleet();
    input.subscriptions[0]?.resourceGroups[0]?.disks.push({
      name: 'SHARED',
      sku: 'Premium_LRS',
      sizeGB: 1,
      maxShares: 1,
    });
    expect(issuesOf(() => planFleet(parseFleet(input)))).toEqual([
      { field: 'subscriptions[0].resourceGroups[0].disks[1]', rule: 'duplicate' },
    ]);
  });

  it('turns guest hints into what the emulator reads: agent tag and a power action', () => {
    const input = smallFleet();
    Object.assign(firstVm(input), { vmAgent: 'NotReady', powerState: 'deallocated', tags: { 'rpo-tier': 'gold' } });
    const vm = planFleet(parseFleet(input)).stages[2]?.[0];
    expect(vm?.body.tags).toEqual({ 'rpo-tier': 'gold', 'emulator-vm-agent': 'NotReady' });
    expect(vm?.action).toBe('deallocate');
  });
});

describe('the demo fleet', () => {
  let demo: Fleet;
  const vms = () => demo.subscriptions.flatMap((s) => s.resourceGroups.flatMap((g) => g.virtualMachines));

  it('is a valid fleet with at least 20 VMs in two subscriptions and two regions', async () => {
    demo = await loadFleetFile(DEMO);
    expect(vms().length).toBeGreaterThanOrEqual(20);
    expect(new Set(demo.subscriptions.map((s) => s.id)).size).toBe(2);
    const regions = new Set(demo.subscriptions.flatMap((s) => s.resourceGroups.map((g) => g.location)));
    expect([...regions].sort()).toEqual(['northeurope', 'westeurope']);
    expect(() => planFleet(demo)).not.toThrow();
  });

  it('tags every protected VM with a tier and a copy target in the other region', async () => {
    demo = await loadFleetFile(DEMO);
    for (const sub of demo.subscriptions) {
      for (const group of sub.resourceGroups) {
        for (const vm of group.virtualMachines) {
          const tier = vm.tags?.['rpo-tier'];
          if (tier !== undefined) expect(['gold', 'silver']).toContain(tier);
          const copyTo = vm.tags?.['rpo-copy-to'];
          if (copyTo !== undefined) expect(copyTo).not.toBe(vm.location ?? group.location);
        }
      }
    }
    const tiers = vms().map((vm) => vm.tags?.['rpo-tier']);
    expect(tiers).toContain('gold');
    expect(tiers).toContain('silver');
  });
});
