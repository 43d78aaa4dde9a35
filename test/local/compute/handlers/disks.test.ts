import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPollingOptions } from '../../../helpers/computeClient';
import {
  complete,
  expectRestError,
  linuxVm,
  startTestEmulator,
  vmWithCollection,
  type TestEmulator,
} from '../fixtures';

describe('Disks', () => {
  let t: TestEmulator;
  beforeAll(async () => {
    t = await startTestEmulator();
  });
  afterAll(async () => t.emulator.stop());

  it('creates an empty disk through 202 + Azure-AsyncOperation + Location, then gets and lists it', async () => {
    const { client } = t.client();
    const poller = client.disks.createOrUpdate(
      'rg',
      'd1',
      {
        location: 'westus',
        sku: { name: 'StandardSSD_LRS' },
        creationData: { createOption: 'Empty' },
        diskSizeGB: 128,
      },
      testPollingOptions,
    );
    await poller.submitted();
    expect((await client.disks.get('rg', 'd1')).provisioningState).toBe('Updating');
    await t.clock.advance('1m');
    const disk = await poller;
    expect(disk.provisioningState).toBe('Succeeded');
    expect(disk.diskSizeBytes).toBe(128 * 1024 ** 3);
    expect(disk.diskState).toBe('Unattached');
    const names: string[] = [];
    for await (const d of client.disks.listByResourceGroup('rg')) names.push(d.name ?? '');
    expect(names).toEqual(['d1']);
    const all: string[] = [];
    for await (const d of client.disks.list()) all.push(d.name ?? '');
    expect(all).toEqual(['d1']);
  });

  it('refuses to shrink a disk, to change its creationData, and an Empty disk without a size', async () => {
    const { client } = t.client();
    await complete(
      client.disks.createOrUpdate(
        'rg',
        'd2',
        { location: 'westus', creationData: { createOption: 'Empty' }, diskSizeGB: 64 },
        testPollingOptions,
      ),
      t.clock,
    );
    await expectRestError(
      client.disks.createOrUpdate(
        'rg',
        'd2',
        { location: 'westus', creationData: { createOption: 'Empty' }, diskSizeGB: 32 },
        testPollingOptions,
      ),
      {
        status: 400,
        code: 'InvalidParameter',
        message: /can only be increased/,
      },
    );
    await expectRestError(
      client.disks.createOrUpdate(
        'rg',
        'd2',
        { location: 'westus', creationData: { createOption: 'FromImage' }, diskSizeGB: 64 },
        testPollingOptions,
      ),
      {
        status: 409,
        code: 'PropertyChangeNotAllowed',
      },
    );
    await expectRestError(
      client.disks.createOrUpdate(
        'rg',
        'd3',
        { location: 'westus', creationData: { createOption: 'Empty' } },
        testPollingOptions,
      ),
      {
        status: 400,
        code: 'InvalidParameter',
        message: /diskSizeGB/,
      },
    );
  });

  it('restores a disk from a disk restore point (createOption Restore) with the source size and OS type', async () => {
    const { client } = t.client();
    const { collectionName } = await vmWithCollection(client, t.clock, 'rg', 'vm-restore', linuxVm('westus', [200]));
    const rp = await complete(
      client.restorePoints.create('rg', collectionName, 'rp1', {}, testPollingOptions),
      t.clock,
    );
    const osDrp = rp.sourceMetadata?.storageProfile?.osDisk?.diskRestorePoint?.id ?? '';
    const dataDrp = rp.sourceMetadata?.storageProfile?.dataDisks?.[0]?.diskRestorePoint?.id ?? '';
    const os = await complete(
      client.disks.createOrUpdate(
        'rg',
        'restored-os',
        {
          location: 'westus',
          sku: { name: 'Premium_LRS' },
          creationData: { createOption: 'Restore', sourceResourceId: osDrp },
        },
        testPollingOptions,
      ),
      t.clock,
    );
    expect(os.creationData?.createOption).toBe('Restore');
    expect(os.creationData?.sourceResourceId).toBe(osDrp);
    expect(os.osType).toBe('Linux');
    const data = await complete(
      client.disks.createOrUpdate(
        'rg',
        'restored-data',
        { location: 'westus', creationData: { createOption: 'Restore', sourceResourceId: dataDrp } },
        testPollingOptions,
      ),
      t.clock,
    );
    expect(data.diskSizeGB).toBe(200);
    await expectRestError(
      client.disks.createOrUpdate(
        'rg',
        'restored-far',
        { location: 'eastus', creationData: { createOption: 'Restore', sourceResourceId: dataDrp } },
        testPollingOptions,
      ),
      { status: 400, code: 'InvalidParameter', message: /region of the restore point/ },
    );
    await expectRestError(
      client.disks.createOrUpdate(
        'rg',
        'restored-missing',
        { location: 'westus', creationData: { createOption: 'Restore', sourceResourceId: `${dataDrp}x` } },
        testPollingOptions,
      ),
      { status: 404, code: 'NotFound' },
    );
  });

  it('refuses to delete an attached disk, and deletes a detached one', async () => {
    const { client, subscriptionId } = t.client();
    await vmWithCollection(client, t.clock, 'rg', 'vm-attached');
    await expectRestError(client.disks.delete('rg', 'vm-attached_DataDisk_0', testPollingOptions), {
      status: 409,
      code: 'OperationNotAllowed',
      message: /is attached to VM/,
    });
    await complete(client.virtualMachines.delete('rg', 'vm-attached', testPollingOptions), t.clock);
    const detached = await client.disks.get('rg', 'vm-attached_DataDisk_0');
    expect(detached.diskState).toBe('Unattached');
    expect(detached.managedBy).toBeUndefined();
    await complete(client.disks.delete('rg', 'vm-attached_DataDisk_0', testPollingOptions), t.clock);
    await expectRestError(client.disks.get('rg', 'vm-attached_DataDisk_0'), { status: 404, code: 'ResourceNotFound' });
    void subscriptionId;
  });

  it('refuses a disk name outside DiskRP’s pattern', async () => {
    const { client } = t.client();
    await expectRestError(
      client.disks.createOrUpdate(
        'rg',
        'bad.name',
        { location: 'westus', creationData: { createOption: 'Empty' }, diskSizeGB: 1 },
        testPollingOptions,
      ),
      {
        status: 400,
        code: 'InvalidResourceName',
      },
    );
  });
});
