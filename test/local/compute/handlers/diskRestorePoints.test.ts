import type { ComputeManagementClient } from '@azure/arm-compute';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPollingOptions } from '../../../helpers/computeClient';
import {
  complete,
  expectRestError,
  linuxVm,
  rawRequest,
  startTestEmulator,
  vmWithCollection,
  type TestEmulator,
} from '../fixtures';

describe('DiskRestorePoint', () => {
  let t: TestEmulator;
  beforeAll(async () => {
    t = await startTestEmulator();
  });
  afterAll(async () => t.emulator.stop());

  async function pointWithDisks(
    client: ComputeManagementClient,
    name: string,
  ): Promise<{ collectionName: string; drpNames: string[] }> {
    const { collectionName } = await vmWithCollection(client, t.clock, 'rg', name, linuxVm('westus', [16]));
    await complete(client.restorePoints.create('rg', collectionName, 'rp1', {}, testPollingOptions), t.clock);
    const drpNames: string[] = [];
    for await (const drp of client.diskRestorePoint.listByRestorePoint('rg', collectionName, 'rp1'))
      drpNames.push(drp.name ?? '');
    return { collectionName, drpNames };
  }

  it('lists and gets the disk restore points of a restore point, named <disk>_<guid>', async () => {
    const { client, subscriptionId } = t.client();
    const { collectionName, drpNames } = await pointWithDisks(client, 'vm-list');
    expect(drpNames).toHaveLength(2);
    expect(drpNames[1]).toMatch(/^vm-list_DataDisk_0_[0-9a-f-]{36}$/);
    const drp = await client.diskRestorePoint.get('rg', collectionName, 'rp1', drpNames[1] ?? '');
    expect(drp.sourceResourceId).toBe(
      `/subscriptions/${subscriptionId}/resourceGroups/rg/providers/Microsoft.Compute/disks/vm-list_DataDisk_0`,
    );
    // snapshotAccessState is newer than the SDK's model (arm-compute 24 drops it), so read the wire body.
    const wire = await rawRequest(t.emulator, 'GET', `${drp.id ?? ''}?api-version=2025-04-01`);
    expect((wire.json as { properties?: { snapshotAccessState?: string } }).properties?.snapshotAccessState).toBe(
      'Available',
    );
    expect(drp.encryption?.type).toBe('EncryptionAtRestWithPlatformKey');
    const os = await client.diskRestorePoint.get('rg', collectionName, 'rp1', drpNames[0] ?? '');
    expect(os.osType).toBe('Linux');
    await expectRestError(client.diskRestorePoint.get('rg', collectionName, 'rp1', 'missing'), {
      status: 404,
      code: 'ResourceNotFound',
    });
  });

  it('grants a SAS (final state via Location) that blocks deleting the restore point with DiskRestorePointUsedByCustomer until revoked', async () => {
    const { client } = t.client();
    const { collectionName, drpNames } = await pointWithDisks(client, 'vm-sas');
    const drpName = drpNames[0] ?? '';
    const access = await complete(
      client.diskRestorePoint.grantAccess(
        'rg',
        collectionName,
        'rp1',
        drpName,
        { access: 'Read', durationInSeconds: 3600 },
        testPollingOptions,
      ),
      t.clock,
      '10s',
    );
    expect(access.accessSAS).toMatch(/^https:\/\/md-[0-9a-f]+\.z1\.blob\.storage\.azure\.net\//);
    await expectRestError(client.restorePoints.delete('rg', collectionName, 'rp1', testPollingOptions), {
      status: 409,
      code: 'DiskRestorePointUsedByCustomer',
      message:
        'There is an active shared access signature outstanding for disk restore point. Call EndGetAccess before deleting the restore point.',
    });
    await expectRestError(client.restorePointCollections.delete('rg', collectionName, testPollingOptions), {
      status: 409,
      code: 'DiskRestorePointUsedByCustomer',
    });
    await complete(
      client.diskRestorePoint.revokeAccess('rg', collectionName, 'rp1', drpName, testPollingOptions),
      t.clock,
      '10s',
    );
    await complete(client.restorePoints.delete('rg', collectionName, 'rp1', testPollingOptions), t.clock);
    await expectRestError(client.restorePoints.get('rg', collectionName, 'rp1'), {
      status: 404,
      code: 'ResourceNotFound',
    });
  });

  it('lets the restore point be deleted once the SAS has expired', async () => {
    const { client } = t.client();
    const { collectionName, drpNames } = await pointWithDisks(client, 'vm-expire');
    await complete(
      client.diskRestorePoint.grantAccess(
        'rg',
        collectionName,
        'rp1',
        drpNames[0] ?? '',
        { access: 'Read', durationInSeconds: 60 },
        testPollingOptions,
      ),
      t.clock,
      '10s',
    );
    await t.clock.advance('2m');
    await complete(client.restorePoints.delete('rg', collectionName, 'rp1', testPollingOptions), t.clock);
  });

  it('refuses Write access and a missing duration with InvalidParameter', async () => {
    const { client } = t.client();
    const { collectionName, drpNames } = await pointWithDisks(client, 'vm-bad-access');
    await expectRestError(
      client.diskRestorePoint.grantAccess(
        'rg',
        collectionName,
        'rp1',
        drpNames[0] ?? '',
        { access: 'Write', durationInSeconds: 60 },
        testPollingOptions,
      ),
      { status: 400, code: 'InvalidParameter', message: /'Read'/ },
    );
    await expectRestError(
      client.diskRestorePoint.grantAccess(
        'rg',
        collectionName,
        'rp1',
        drpNames[0] ?? '',
        { access: 'Read' } as never,
        testPollingOptions,
      ),
      { status: 400, code: 'InvalidParameter', message: /durationInSeconds/ },
    );
  });
});
