import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ComputeManagementClient, VirtualMachine } from '@azure/arm-compute';
import { RestError } from '@azure/core-rest-pipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../local/clock';
import {
  applyFleet,
  FleetApplyError,
  loadFleetFile,
  parseFleet,
  planFleet,
  type Fleet,
} from '../../../local/compute/fleet';
import { startComputeEmulator } from '../../../local/compute/server';
import { ValidationError } from '../../../lib/validation';
import { computeClientFor, testPollingOptions } from '../../helpers/computeClient';
import { complete } from './fixtures';

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

/** JSON paths whose values differ between two documents (`vms[3].properties.x: a → b`). */
function differences(a: unknown, b: unknown, at = ''): string[] {
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((key) =>
      differences((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${at}.${key}`),
    );
  }
  return Object.is(a, b) ? [] : [`${at}: ${JSON.stringify(a)} → ${JSON.stringify(b)}`];
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

describe('applyFleet against the emulator', () => {
  const PROD = 'b1f0c2d4-6e8a-4c1b-9d3f-5a7e9c2b4d60';
  const DEV = 'c2e1d3f5-7f9b-4d2c-8e4a-6b8f0d3c5e71';
  let emulator: Awaited<ReturnType<typeof startComputeEmulator>>;
  let clock: ManualClock;
  let demo: Fleet;
  let prod: ComputeManagementClient;
  /** Polls move the manual clock (one advance at a time, however many requests wait). */
  let advancing: Promise<void> = Promise.resolve();
  const betweenPolls = (): Promise<void> => (advancing = advancing.then(() => clock.advance('5s')));
  const apply = (fleet: Fleet) => applyFleet(emulator.url, emulator.caPem, fleet, { betweenPolls });
  const vm = (name: string, resourceGroup = 'rg-shop-weu') => prod.virtualMachines.get(resourceGroup, name);
  const storage = (v: VirtualMachine) => v.storageProfile ?? {};

  beforeAll(async () => {
    clock = new ManualClock('2026-03-02T08:00:00Z');
    const certDir = await mkdtemp(path.join(tmpdir(), 'rpo-fleet-certs-'));
    emulator = await startComputeEmulator({ clock, certDir, quiet: true });
    demo = await loadFleetFile(DEMO);
    prod = computeClientFor(emulator, PROD);
  });

  afterAll(async () => {
    await emulator?.stop();
  });

  it('creates every resource of the demo fleet, in order, through the ARM API', async () => {
    const result = await apply(demo);
    expect(result.counts).toEqual({ disk: 38, availabilitySet: 1, virtualMachineScaleSet: 2, virtualMachine: 26 });
    const names: string[] = [];
    for (const sub of [PROD, DEV]) {
      for await (const v of computeClientFor(emulator, sub).virtualMachines.listAll()) names.push(v.name ?? '');
    }
    const declared = demo.subscriptions.flatMap((s) =>
      s.resourceGroups.flatMap((g) => g.virtualMachines.map((v) => v.name)),
    );
    expect(names.sort()).toEqual([...declared].sort());
  }, 120_000);

  it('is idempotent: applying the fleet again changes no VM, disk or set', async () => {
    const snapshot = async () => {
      const vms: unknown[] = [];
      for await (const v of prod.virtualMachines.listAll()) vms.push(v);
      const disks: unknown[] = [];
      for await (const d of prod.disks.list()) disks.push(d);
      // By id: ARM promises no list order.
      const byId = (list: unknown[]) => Object.fromEntries(list.map((r) => [(r as { id: string }).id, r]));
      return JSON.stringify({
        vms: byId(vms),
        disks: byId(disks),
        avset: await prod.availabilitySets.get('rg-shop-weu', 'avset-web'),
      });
    };
    const before = await snapshot();
    await apply(demo);
    expect(differences(JSON.parse(before), JSON.parse(await snapshot()))).toEqual([]);
  }, 120_000);

  it('gives each VM the properties its restore point rule depends on', async () => {
    const webSet = (await prod.availabilitySets.get('rg-shop-weu', 'avset-web')).id?.toLowerCase();
    for (const name of ['vm-web-01', 'vm-web-02', 'vm-web-03']) {
      expect((await vm(name)).availabilitySet?.id?.toLowerCase()).toBe(webSet);
    }
    const flex = await prod.virtualMachineScaleSets.get('rg-shop-weu', 'vmss-api');
    expect(flex.orchestrationMode).toBe('Flexible');
    for (const name of ['vm-api-01', 'vm-api-02', 'vm-api-03', 'vm-api-04']) {
      expect((await vm(name)).virtualMachineScaleSet?.id?.toLowerCase()).toBe(flex.id?.toLowerCase());
    }
    const uniform = await prod.virtualMachineScaleSets.get('rg-shop-weu', 'vmss-batch');
    expect(uniform.orchestrationMode).toBe('Uniform');
    expect((await vm('vm-batch-0')).virtualMachineScaleSet?.id?.toLowerCase()).toBe(uniform.id?.toLowerCase());
    expect((await vm('vm-cvm-01')).securityProfile?.securityType).toBe('ConfidentialVM');

    const dataDiskSku = async (name: string, lun: number) => {
      const id = storage(await vm(name)).dataDisks?.find((d) => d.lun === lun)?.managedDisk?.id ?? '';
      return (await prod.disks.get('rg-shop-weu', id.split('/').pop() ?? '')).sku?.name;
    };
    expect(await dataDiskSku('vm-sql-01', 0)).toBe('UltraSSD_LRS');
    expect(await dataDiskSku('vm-analytics-01', 0)).toBe('PremiumV2_LRS');
    const shared = await prod.disks.get('rg-shop-weu', 'disk-cluster-shared');
    expect(shared.maxShares).toBe(2);
    for (const name of ['vm-cluster-01', 'vm-cluster-02']) {
      expect(storage(await vm(name)).dataDisks?.[0]?.managedDisk?.id?.toLowerCase()).toBe(shared.id?.toLowerCase());
    }
    expect(storage(await vm('vm-logs-01')).dataDisks?.[0]?.writeAcceleratorEnabled).toBe(true);
    expect(storage(await vm('vm-ephemeral-01')).osDisk?.diffDiskSettings?.option).toBe('Local');
    expect(storage(await vm('vm-cache-rw-01')).dataDisks?.[0]?.caching).toBe('ReadWrite');
    const boost = await vm('vm-boost-01');
    expect(boost.hardwareProfile?.vmSize).toBe('Standard_D4s_v6');
    expect(storage(boost).dataDisks).toHaveLength(2);
    expect(storage(await vm('vm-legacy-01')).osDisk?.vhd?.uri).toMatch(/^https:\/\/.+\.vhd$/);

    const agentDown = await prod.virtualMachines.instanceView('rg-shop-weu', 'vm-agent-down-01');
    expect(agentDown.vmAgent?.statuses?.[0]?.displayStatus).not.toBe('Ready');
    const stopped = await prod.virtualMachines.instanceView('rg-shop-weu', 'vm-stopped-01');
    expect(stopped.statuses?.map((s) => s.code)).toContain('PowerState/deallocated');
    const running = await prod.virtualMachines.instanceView('rg-shop-weu', 'vm-web-01');
    expect(running.vmAgent?.statuses?.[0]?.displayStatus).toBe('Ready');
    expect(running.statuses?.map((s) => s.code)).toContain('PowerState/running');

    const drDisk = await prod.disks.get('rg-shop-neu', 'vm-dr-01-data0');
    expect(drDisk.encryption?.type).toBe('EncryptionAtRestWithCustomerKey');
    expect((await vm('vm-dr-01', 'rg-shop-neu')).location).toBe('northeurope');
  });

  it('makes each demo VM trigger the rule it is there for when a restore point is created', async () => {
    /** Creates one restore point on the VM; returns its final state, or the error code Azure would give. */
    const attempt = async (name: string, mode: 'ApplicationConsistent' | 'CrashConsistent', group = 'rg-shop-weu') => {
      const v = await prod.virtualMachines.get(group, name);
      const collection = `${name}-rpc`;
      await prod.restorePointCollections.createOrUpdate(group, collection, {
        location: v.location,
        source: { id: v.id ?? '' },
      });
      try {
        const poller = prod.restorePoints.create(
          group,
          collection,
          `rp-${mode}`,
          { consistencyMode: mode },
          testPollingOptions,
        );
        return (await complete(poller, clock, '2h')).provisioningState;
      } catch (error) {
        if (error instanceof RestError) return error.code; // refused at the PUT
        // A failed LRO: core-lro reports "The long-running operation has failed. <code>. <message>".
        return /has failed\. (\w+)\./.exec(error instanceof Error ? error.message : '')?.[1] ?? String(error);
      }
    };
    const expectations: [string, 'ApplicationConsistent' | 'CrashConsistent', string | undefined][] = [
      ['vm-batch-0', 'ApplicationConsistent', 'OperationNotAllowed'], // Uniform scale set member
      ['vm-cvm-01', 'ApplicationConsistent', 'OperationNotAllowed'], // Confidential VM
      ['vm-legacy-01', 'ApplicationConsistent', 'OperationNotAllowed'], // unmanaged disks
      ['vm-stopped-01', 'ApplicationConsistent', 'OperationNotAllowed'], // deallocated
      ['vm-cluster-01', 'ApplicationConsistent', 'VMRestorePointClientError'], // shared disk, both modes
      ['vm-ephemeral-01', 'CrashConsistent', 'VMRestorePointClientError'], // ephemeral OS disk, both modes
      ['vm-sql-01', 'CrashConsistent', 'VMRestorePointClientError'], // Ultra in crash mode
      ['vm-analytics-01', 'CrashConsistent', 'VMRestorePointClientError'], // Premium SSD v2 in crash mode
      ['vm-logs-01', 'CrashConsistent', 'VMRestorePointClientError'], // write accelerator in crash mode
      ['vm-agent-down-01', 'ApplicationConsistent', 'VMAgentStatusCommunicationError'], // agent not ready
      ['vm-sql-01', 'ApplicationConsistent', 'Succeeded'], // Ultra is fine in app mode
      ['vm-boost-01', 'CrashConsistent', 'Succeeded'], // Azure Boost: allowed, consistency not guaranteed
      ['vm-cache-rw-01', 'CrashConsistent', 'Succeeded'], // ReadWrite caching: allowed, not guaranteed
      ['vm-api-01', 'ApplicationConsistent', 'Succeeded'], // Flexible scale set member
      ['vm-web-01', 'ApplicationConsistent', 'Succeeded'], // availability set member
    ];
    const outcomes: string[] = [];
    for (const [name, mode] of expectations) outcomes.push(`${name} ${mode}: ${String(await attempt(name, mode))}`);
    expect(outcomes).toEqual(expectations.map(([name, mode, expected]) => `${name} ${mode}: ${String(expected)}`));
  }, 120_000);

  it('retries a throttled PUT after its Retry-After and carries on', async () => {
    const fault = emulator.core.handle({
      method: 'POST',
      url: '/_emulator/faults',
      body: JSON.stringify({
        method: 'PUT',
        pathPattern: '/disks/throttled-',
        status: 429,
        retryAfterSeconds: 0,
        times: 2,
      }),
      baseUrl: emulator.url,
    });
    expect(fault.status).toBeLessThan(300);
    const fleet = parseFleet({
      subscriptions: [
        {
          id: '00000000-0000-4000-8000-0000000029a0',
          resourceGroups: [
            {
              name: 'rg-throttled',
              location: 'westeurope',
              disks: [{ name: 'throttled-1', sku: 'Premium_LRS', sizeGB: 8 }],
            },
          ],
        },
      ],
    });
    const before = emulator.core.requests().length;
    expect((await apply(fleet)).counts.disk).toBe(1);
    const puts = emulator.core
      .requests()
      .slice(before)
      .filter((r) => r.method === 'PUT')
      .map((r) => r.status);
    expect(puts).toEqual([429, 429, 202]);
  });

  it('names the fleet path and the resource when the emulator refuses a request', async () => {
    const fleet = parseFleet({
      subscriptions: [
        {
          id: '00000000-0000-4000-8000-00000000f1ee',
          resourceGroups: [
            {
              name: 'rg-bad',
              location: 'westeurope',
              disks: [{ name: 'far-away', location: 'northeurope', sku: 'Premium_LRS', sizeGB: 32 }],
              virtualMachines: [
                {
                  name: 'vm-bad',
                  size: 'Standard_D2s_v5',
                  osDisk: { disk: { name: 'vm-bad-os', sku: 'Premium_LRS', sizeGB: 32 } },
                  dataDisks: [{ lun: 0, disk: 'far-away' }],
                },
              ],
            },
          ],
        },
      ],
    });
    const failure = await apply(fleet).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(FleetApplyError);
    const message = (failure as FleetApplyError).message;
    expect(message).toContain('subscriptions[0].resourceGroups[0].virtualMachines[0]');
    expect(message).toContain('/virtualMachines/vm-bad');
    expect(message).toMatch(/PUT answered 400 InvalidParameter/);
  });
});
