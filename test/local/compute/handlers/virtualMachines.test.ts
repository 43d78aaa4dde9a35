import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPollingOptions } from '../../../helpers/computeClient';
import {
  complete,
  createVm,
  diskId,
  expectRestError,
  linuxVm,
  rawRequest,
  startTestEmulator,
  vmWithCollection,
  type TestEmulator,
} from '../fixtures';

describe('VirtualMachines', () => {
  let t: TestEmulator;
  beforeAll(async () => {
    t = await startTestEmulator();
  });
  afterAll(async () => t.emulator.stop());

  it('creates a VM (201 Creating + Azure-AsyncOperation) with implicit OS and data disks attached to it', async () => {
    const { client, subscriptionId } = t.client();
    const path = `/subscriptions/${subscriptionId}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1?api-version=2024-07-01`;
    const created = await rawRequest(
      t.emulator,
      'PUT',
      path,
      JSON.stringify({
        location: 'westus',
        properties: {
          storageProfile: {
            osDisk: { createOption: 'FromImage', name: 'vm1-os' },
            dataDisks: [{ lun: 0, createOption: 'Empty', diskSizeGB: 10 }],
          },
        },
      }),
    );
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ properties: { provisioningState: 'Creating' } });
    expect(String(created.headers['azure-asyncoperation'])).toContain('/operations/');
    await t.clock.advance('1m');
    const vm = await client.virtualMachines.get('rg', 'vm1');
    expect(vm.provisioningState).toBe('Succeeded');
    expect(vm.storageProfile?.osDisk?.managedDisk?.id).toBe(diskId(subscriptionId, 'rg', 'vm1-os'));
    expect(vm.storageProfile?.dataDisks?.[0]?.managedDisk?.id).toBe(diskId(subscriptionId, 'rg', 'vm1_DataDisk_0'));
    const disk = await client.disks.get('rg', 'vm1_DataDisk_0');
    expect(disk.managedBy).toBe(vm.id);
    expect(disk.diskState).toBe('Attached');
  });

  it('never returns the admin password', async () => {
    const { client } = t.client();
    const vm = await createVm(client, t.clock, 'rg', 'vm-secret', linuxVm('westus'));
    expect(vm.osProfile?.adminPassword).toBeUndefined();
    expect(JSON.stringify(await client.virtualMachines.get('rg', 'vm-secret'))).not.toContain('not-returned-1!');
  });

  it('reports the instance view on $expand=instanceView and on the instanceView route, with power state after deallocate', async () => {
    const { client } = t.client();
    await createVm(client, t.clock, 'rg', 'vm-iv', linuxVm('westus'));
    const expanded = await client.virtualMachines.get('rg', 'vm-iv', { expand: 'instanceView' });
    expect(expanded.instanceView?.statuses?.map((s) => s.code)).toEqual([
      'ProvisioningState/succeeded',
      'PowerState/running',
    ]);
    expect(expanded.instanceView?.vmAgent?.statuses?.[0]?.displayStatus).toBe('Ready');
    expect(expanded.instanceView?.disks).toHaveLength(2);
    await complete(client.virtualMachines.deallocate('rg', 'vm-iv', testPollingOptions), t.clock);
    const view = await client.virtualMachines.instanceView('rg', 'vm-iv');
    expect(view.statuses?.[1]).toMatchObject({ code: 'PowerState/deallocated', displayStatus: 'VM deallocated' });
    await complete(client.virtualMachines.powerOff('rg', 'vm-iv', testPollingOptions), t.clock);
    expect((await client.virtualMachines.instanceView('rg', 'vm-iv')).statuses?.[1]?.code).toBe('PowerState/stopped');
  });

  it('lists VMs by resource group and subscription, and scale set members with $filter', async () => {
    const { client, subscriptionId } = t.client();
    const set = await complete(
      client.virtualMachineScaleSets.createOrUpdate(
        'rg-a',
        'flex',
        { location: 'westus', orchestrationMode: 'Flexible' },
        testPollingOptions,
      ),
      t.clock,
    );
    await createVm(client, t.clock, 'rg-a', 'a1', linuxVm('westus', [], { virtualMachineScaleSet: { id: set.id } }));
    await createVm(client, t.clock, 'rg-a', 'a2', linuxVm('westus', []));
    await createVm(client, t.clock, 'rg-b', 'b1', linuxVm('eastus', []));
    const inA: string[] = [];
    for await (const vm of client.virtualMachines.list('rg-a')) inA.push(vm.name ?? '');
    expect(inA).toEqual(['a1', 'a2']);
    const all: string[] = [];
    for await (const vm of client.virtualMachines.listAll()) all.push(vm.name ?? '');
    expect(all.sort()).toEqual(['a1', 'a2', 'b1']);
    const members: string[] = [];
    for await (const vm of client.virtualMachines.listAll({ filter: `virtualMachineScaleSet/id eq '${set.id ?? ''}'` }))
      members.push(vm.name ?? '');
    expect(members).toEqual(['a1']);
    void subscriptionId;
  });

  it('creates a VM from restored disks: an attached restored OS disk and a data disk restored from a disk restore point', async () => {
    const { client, subscriptionId } = t.client();
    const { collectionName } = await vmWithCollection(client, t.clock, 'rg', 'vm-src', linuxVm('westus', [50]));
    const rp = await complete(
      client.restorePoints.create('rg', collectionName, 'rp1', {}, testPollingOptions),
      t.clock,
    );
    const osDrp = rp.sourceMetadata?.storageProfile?.osDisk?.diskRestorePoint?.id ?? '';
    const dataDrp = rp.sourceMetadata?.storageProfile?.dataDisks?.[0]?.diskRestorePoint?.id ?? '';
    await complete(
      client.disks.createOrUpdate(
        'rg',
        'restored-os',
        { location: 'westus', creationData: { createOption: 'Restore', sourceResourceId: osDrp } },
        testPollingOptions,
      ),
      t.clock,
    );
    const restored = await createVm(client, t.clock, 'rg', 'vm-restored', {
      location: 'westus',
      hardwareProfile: rp.sourceMetadata?.hardwareProfile ?? { vmSize: 'Standard_D2s_v5' },
      storageProfile: {
        osDisk: {
          createOption: 'Attach',
          osType: 'Linux',
          managedDisk: { id: diskId(subscriptionId, 'rg', 'restored-os') },
        },
        dataDisks: [{ lun: 0, createOption: 'Restore', name: 'restored-data', sourceResource: { id: dataDrp } }],
      },
    });
    expect(restored.storageProfile?.osDisk?.managedDisk?.id).toBe(diskId(subscriptionId, 'rg', 'restored-os'));
    const data = await client.disks.get('rg', 'restored-data');
    expect(data.creationData?.createOption).toBe('Restore');
    expect(data.creationData?.sourceResourceId).toBe(dataDrp);
    expect(data.diskSizeGB).toBe(50);
    expect(data.managedBy).toBe(restored.id);
  });

  it('refuses to attach a disk that another VM holds, and a disk that does not exist', async () => {
    const { client, subscriptionId } = t.client();
    await createVm(client, t.clock, 'rg', 'holder', linuxVm('westus', [8]));
    const vm = linuxVm('westus', []);
    vm.storageProfile!.dataDisks = [
      { lun: 0, createOption: 'Attach', managedDisk: { id: diskId(subscriptionId, 'rg', 'holder_DataDisk_0') } },
    ];
    await expectRestError(client.virtualMachines.createOrUpdate('rg', 'thief', vm, testPollingOptions), {
      status: 409,
      code: 'OperationNotAllowed',
      message: /already attached/,
    });
    vm.storageProfile!.dataDisks = [
      { lun: 0, createOption: 'Attach', managedDisk: { id: diskId(subscriptionId, 'rg', 'ghost') } },
    ];
    await expectRestError(client.virtualMachines.createOrUpdate('rg', 'thief', vm, testPollingOptions), {
      status: 404,
      code: 'NotFound',
    });
    await expectRestError(client.virtualMachines.get('rg', 'thief'), { status: 404, code: 'ResourceNotFound' });
  });

  it('detaches a data disk on update and deletes the VM through a long-running operation', async () => {
    const { client } = t.client();
    await createVm(client, t.clock, 'rg', 'vm-upd', linuxVm('westus', [8, 9]));
    const updated = await complete(
      client.virtualMachines.createOrUpdate('rg', 'vm-upd', linuxVm('westus', [8]), testPollingOptions),
      t.clock,
    );
    expect(updated.storageProfile?.dataDisks).toHaveLength(1);
    expect((await client.disks.get('rg', 'vm-upd_DataDisk_1')).diskState).toBe('Unattached');
    await complete(client.virtualMachines.delete('rg', 'vm-upd', testPollingOptions), t.clock);
    await expectRestError(client.virtualMachines.get('rg', 'vm-upd'), { status: 404, code: 'ResourceNotFound' });
  });

  it('requires an OS disk and a location', async () => {
    const { client } = t.client();
    await expectRestError(
      client.virtualMachines.createOrUpdate(
        'rg',
        'no-os',
        { location: 'westus', storageProfile: {} },
        testPollingOptions,
      ),
      {
        status: 400,
        code: 'InvalidParameter',
        message: /osDisk/,
      },
    );
    await expectRestError(
      client.virtualMachines.createOrUpdate(
        'rg',
        'no-loc',
        { location: '', storageProfile: linuxVm('westus').storageProfile },
        testPollingOptions,
      ),
      {
        status: 400,
        code: 'LocationRequired',
      },
    );
  });
});

describe('AvailabilitySets and VirtualMachineScaleSets', () => {
  let t: TestEmulator;
  beforeAll(async () => {
    t = await startTestEmulator();
  });
  afterAll(async () => t.emulator.stop());

  it('creates an availability set and lists its member VMs', async () => {
    const { client } = t.client();
    const set = await client.availabilitySets.createOrUpdate('rg', 'as1', {
      location: 'westus',
      sku: { name: 'Aligned' },
      platformFaultDomainCount: 2,
    });
    expect(set.platformFaultDomainCount).toBe(2);
    for (const name of ['m1', 'm2', 'm3'])
      await createVm(client, t.clock, 'rg', name, linuxVm('westus', [], { availabilitySet: { id: set.id } }));
    const fetched = await client.availabilitySets.get('rg', 'as1');
    expect(fetched.virtualMachines?.map((vm) => vm.id?.split('/').pop())).toEqual(['m1', 'm2', 'm3']);
    await expectRestError(client.availabilitySets.get('rg', 'as-missing'), { status: 404, code: 'ResourceNotFound' });
  });

  it('creates scale sets with their orchestration mode (Uniform when omitted) and refuses to change it', async () => {
    const { client } = t.client();
    const flexible = await complete(
      client.virtualMachineScaleSets.createOrUpdate(
        'rg',
        'flex',
        { location: 'westus', orchestrationMode: 'Flexible' },
        testPollingOptions,
      ),
      t.clock,
    );
    expect(flexible.orchestrationMode).toBe('Flexible');
    const uniform = await complete(
      client.virtualMachineScaleSets.createOrUpdate('rg', 'uni', { location: 'westus' }, testPollingOptions),
      t.clock,
    );
    expect(uniform.orchestrationMode).toBe('Uniform');
    expect((await client.virtualMachineScaleSets.get('rg', 'flex')).orchestrationMode).toBe('Flexible');
    await expectRestError(
      client.virtualMachineScaleSets.createOrUpdate(
        'rg',
        'flex',
        { location: 'westus', orchestrationMode: 'Uniform' },
        testPollingOptions,
      ),
      {
        status: 400,
        code: 'InvalidParameter',
      },
    );
  });

  it('refuses a VM whose set does not exist', async () => {
    const { client, subscriptionId } = t.client();
    const vm = linuxVm('westus', [], {
      availabilitySet: {
        id: `/subscriptions/${subscriptionId}/resourceGroups/rg/providers/Microsoft.Compute/availabilitySets/none`,
      },
    });
    await expectRestError(client.virtualMachines.createOrUpdate('rg', 'orphan', vm, testPollingOptions), {
      status: 404,
      code: 'ResourceNotFound',
    });
  });
});
