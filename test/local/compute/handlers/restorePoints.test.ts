import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMULATOR_TAGS } from '../../../../local/compute/server';
import { testPollingOptions } from '../../../helpers/computeClient';
import {
  complete,
  diskId,
  expectOperationFailure,
  expectRestError,
  linuxVm,
  rawRequest,
  startTestEmulator,
  vmWithCollection,
  type TestEmulator,
} from '../fixtures';

describe('RestorePoints', () => {
  let t: TestEmulator;
  beforeAll(async () => {
    t = await startTestEmulator();
  });
  afterAll(async () => t.emulator.stop());

  describe('RestorePoints_Create', () => {
    it('creates a point through the SDK poller and reports the captured VM and one disk restore point per disk', async () => {
      const { client } = t.client();
      const { vm, collectionName } = await vmWithCollection(
        client,
        t.clock,
        'rg',
        'vm-create',
        linuxVm('westus', [64, 128]),
      );
      const rp = await complete(
        client.restorePoints.create('rg', collectionName, 'rp1', {}, testPollingOptions),
        t.clock,
      );
      expect(rp.provisioningState).toBe('Succeeded');
      expect(rp.consistencyMode).toBe('FileSystemConsistent');
      expect(rp.sourceMetadata?.vmId).toBe(vm.vmId);
      expect(rp.sourceMetadata?.storageProfile?.osDisk?.diskRestorePoint?.id).toMatch(
        /\/diskRestorePoints\/vm-create_OsDisk_1_/,
      );
      expect(rp.sourceMetadata?.storageProfile?.dataDisks?.map((d) => d.diskSizeGB)).toEqual([64, 128]);
      expect(rp.sourceMetadata?.storageProfile?.dataDisks?.every((d) => d.diskRestorePoint?.id)).toBe(true);
    });

    it('answers 201 with provisioningState Creating and an absolute Azure-AsyncOperation URL, which reports InProgress until the clock passes creation', async () => {
      const { client, subscriptionId } = t.client();
      const { collectionName } = await vmWithCollection(client, t.clock, 'rg', 'vm-wire');
      const path = `/subscriptions/${subscriptionId}/resourceGroups/rg/providers/Microsoft.Compute/restorePointCollections/${collectionName}/restorePoints/rp1?api-version=2024-07-01`;
      const created = await rawRequest(t.emulator, 'PUT', path, '{}');
      expect(created.status).toBe(201);
      expect(created.headers['azure-asyncnotification']).toBe('Enabled');
      expect(created.headers.location).toBeUndefined();
      const body = created.json as {
        properties: {
          provisioningState: string;
          sourceMetadata: { storageProfile: { osDisk: Record<string, unknown> } };
        };
      };
      expect(body.properties.provisioningState).toBe('Creating');
      expect(body.properties.sourceMetadata.storageProfile.osDisk.diskRestorePoint).toBeUndefined();
      const statusUrl = String(created.headers['azure-asyncoperation']);
      expect(
        statusUrl.startsWith(
          `${t.emulator.url}/subscriptions/${subscriptionId}/providers/Microsoft.Compute/locations/westus/operations/`,
        ),
      ).toBe(true);
      const running = await rawRequest(t.emulator, 'GET', statusUrl);
      expect(running.status).toBe(200);
      expect(running.json).toMatchObject({ status: 'InProgress' });
      const get = await rawRequest(t.emulator, 'GET', path);
      expect(get.json).toMatchObject({ properties: { provisioningState: 'Creating' } });
      await t.clock.advance('5m');
      const done = await rawRequest(t.emulator, 'GET', statusUrl);
      expect(done.json).toMatchObject({ status: 'Succeeded' });
      expect((done.json as { endTime?: string }).endTime).toBeDefined();
    });

    it('takes longer for bigger disks', async () => {
      const { client, subscriptionId } = t.client();
      const small = await vmWithCollection(client, t.clock, 'rg', 'vm-small', linuxVm('westus', [32]));
      const big = await vmWithCollection(client, t.clock, 'rg', 'vm-big', linuxVm('westus', [32_767]));
      const put = (c: string) =>
        rawRequest(
          t.emulator,
          'PUT',
          `/subscriptions/${subscriptionId}/resourceGroups/rg/providers/Microsoft.Compute/restorePointCollections/${c}/restorePoints/rp?api-version=2025-04-01`,
          '{}',
        );
      const a = await put(small.collectionName);
      const b = await put(big.collectionName);
      await t.clock.advance('30s');
      const statusOf = async (r: { headers: Record<string, unknown> }) =>
        ((await rawRequest(t.emulator, 'GET', String(r.headers['azure-asyncoperation']))).json as { status: string })
          .status;
      expect(await statusOf(a)).toBe('Succeeded');
      expect(await statusOf(b)).toBe('InProgress');
      await t.clock.advance('15m');
      expect(await statusOf(b)).toBe('Succeeded');
    });

    it('returns the instance view with snapshot access state and replication status on $expand=instanceView', async () => {
      const { client } = t.client();
      const { collectionName } = await vmWithCollection(client, t.clock, 'rg', 'vm-iv');
      await complete(client.restorePoints.create('rg', collectionName, 'rp1', {}, testPollingOptions), t.clock);
      const rp = await client.restorePoints.get('rg', collectionName, 'rp1', { expand: 'instanceView' });
      expect(rp.instanceView?.diskRestorePoints).toHaveLength(2);
      expect(rp.instanceView?.diskRestorePoints?.[0]?.snapshotAccessState).toBe('Available');
      expect(rp.instanceView?.diskRestorePoints?.[0]?.replicationStatus?.completionPercent).toBe(100);
      expect(rp.instanceView?.statuses?.[0]?.code).toBe('ReplicationState/succeeded');
      const plain = await client.restorePoints.get('rg', collectionName, 'rp1');
      expect(plain.instanceView).toBeUndefined();
    });

    it('leaves out excluded disks', async () => {
      const { client, subscriptionId } = t.client();
      const { collectionName } = await vmWithCollection(client, t.clock, 'rg', 'vm-ex', linuxVm('westus', [10, 20]));
      const rp = await complete(
        client.restorePoints.create(
          'rg',
          collectionName,
          'rp1',
          { excludeDisks: [{ id: diskId(subscriptionId, 'rg', 'vm-ex_DataDisk_1') }] },
          testPollingOptions,
        ),
        t.clock,
      );
      expect(rp.excludeDisks?.[0]?.id).toBe(diskId(subscriptionId, 'rg', 'vm-ex_DataDisk_1'));
      expect(rp.sourceMetadata?.storageProfile?.dataDisks?.map((d) => d.name)).toEqual(['vm-ex_DataDisk_0']);
    });

    it('refuses an excludeDisks id that is not a disk of the VM', async () => {
      const { client, subscriptionId } = t.client();
      const { collectionName } = await vmWithCollection(client, t.clock, 'rg', 'vm-ex2');
      await expectRestError(
        client.restorePoints.create(
          'rg',
          collectionName,
          'rp1',
          { excludeDisks: [{ id: diskId(subscriptionId, 'rg', 'other') }] },
          testPollingOptions,
        ),
        { status: 400, code: 'InvalidParameter', message: /not attached/ },
      );
    });

    it('refuses to update an existing restore point', async () => {
      const { client } = t.client();
      const { collectionName } = await vmWithCollection(client, t.clock, 'rg', 'vm-upd');
      await complete(client.restorePoints.create('rg', collectionName, 'rp1', {}, testPollingOptions), t.clock);
      await expectRestError(client.restorePoints.create('rg', collectionName, 'rp1', {}, testPollingOptions), {
        status: 409,
        code: 'OperationNotAllowed',
        message: /Updating properties of an existing restore point is not allowed/,
      });
    });

    it('answers ParentResourceNotFound when the collection does not exist', async () => {
      const { client } = t.client();
      await expectRestError(client.restorePoints.create('rg', 'missing', 'rp1', {}, testPollingOptions), {
        status: 404,
        code: 'ParentResourceNotFound',
      });
    });
  });

  describe('Azure rules on creation', () => {
    const unsupported: [string, Record<string, unknown>, 'CrashConsistent' | undefined, RegExp][] = [
      ['a shared disk in application mode', { shared: true }, undefined, /shared disk/],
      ['a shared disk in crash mode', { shared: true }, 'CrashConsistent', /shared disk/],
      ['an Ultra disk in crash mode', { sku: 'UltraSSD_LRS' }, 'CrashConsistent', /Ultra disk/],
      ['a Premium SSD v2 disk in crash mode', { sku: 'PremiumV2_LRS' }, 'CrashConsistent', /Premium SSD v2 disk/],
      [
        'a write-accelerated disk in crash mode',
        { writeAccelerator: true },
        'CrashConsistent',
        /write accelerated disk/,
      ],
    ];
    for (const [label, disk, mode, message] of unsupported) {
      it(`refuses ${label} that is not excluded with VMRestorePointClientError, and accepts it once excluded`, async () => {
        const { client, subscriptionId } = t.client();
        const name = `vm-${label.replace(/\W+/g, '-')}`.slice(0, 60);
        const dataDiskName = `${name}-data`;
        await complete(
          client.disks.createOrUpdate(
            'rg',
            dataDiskName,
            {
              location: 'westus',
              sku: { name: (disk.sku as 'UltraSSD_LRS' | undefined) ?? 'Premium_LRS' },
              creationData: { createOption: 'Empty' },
              diskSizeGB: 16,
              ...(disk.shared ? { maxShares: 2 } : {}),
            },
            testPollingOptions,
          ),
          t.clock,
        );
        const vm = linuxVm('westus', []);
        vm.storageProfile!.dataDisks = [
          {
            lun: 0,
            createOption: 'Attach',
            managedDisk: { id: diskId(subscriptionId, 'rg', dataDiskName) },
            ...(disk.writeAccelerator ? { writeAcceleratorEnabled: true } : {}),
          },
        ];
        const { collectionName } = await vmWithCollection(client, t.clock, 'rg', name, vm);
        const body = mode ? { consistencyMode: mode } : {};
        await expectRestError(client.restorePoints.create('rg', collectionName, 'rp1', body, testPollingOptions), {
          status: 400,
          code: 'VMRestorePointClientError',
          message,
        });
        const rp = await complete(
          client.restorePoints.create(
            'rg',
            collectionName,
            'rp1',
            { ...body, excludeDisks: [{ id: diskId(subscriptionId, 'rg', dataDiskName) }] },
            testPollingOptions,
          ),
          t.clock,
        );
        expect(rp.provisioningState).toBe('Succeeded');
      });
    }

    it('accepts Ultra and Premium SSD v2 disks in application-consistent mode', async () => {
      const { client, subscriptionId } = t.client();
      await complete(
        client.disks.createOrUpdate(
          'rg',
          'ultra',
          { location: 'westus', sku: { name: 'UltraSSD_LRS' }, creationData: { createOption: 'Empty' }, diskSizeGB: 8 },
          testPollingOptions,
        ),
        t.clock,
      );
      const vm = linuxVm('westus', []);
      vm.storageProfile!.dataDisks = [
        { lun: 0, createOption: 'Attach', managedDisk: { id: diskId(subscriptionId, 'rg', 'ultra') } },
      ];
      const { collectionName } = await vmWithCollection(client, t.clock, 'rg', 'vm-ultra-app', vm);
      const rp = await complete(
        client.restorePoints.create('rg', collectionName, 'rp1', {}, testPollingOptions),
        t.clock,
      );
      expect(rp.provisioningState).toBe('Succeeded');
    });

    it('refuses an ephemeral OS disk in both modes', async () => {
      const { client } = t.client();
      const vm = linuxVm('westus', []);
      vm.storageProfile!.osDisk!.diffDiskSettings = { option: 'Local' };
      vm.storageProfile!.osDisk!.caching = 'ReadOnly';
      const { collectionName } = await vmWithCollection(client, t.clock, 'rg', 'vm-eph', vm);
      for (const body of [{}, { consistencyMode: 'CrashConsistent' as const }]) {
        await expectRestError(client.restorePoints.create('rg', collectionName, 'rp1', body, testPollingOptions), {
          status: 400,
          code: 'VMRestorePointClientError',
          message: /ephemeral OS disk/,
        });
      }
    });

    it('refuses members of a Uniform scale set but accepts members of a Flexible one', async () => {
      const { client, subscriptionId } = t.client();
      for (const mode of ['Uniform', 'Flexible'] as const) {
        await complete(
          client.virtualMachineScaleSets.createOrUpdate(
            'rg',
            `ss-${mode}`,
            { location: 'westus', orchestrationMode: mode },
            testPollingOptions,
          ),
          t.clock,
        );
      }
      const member = (mode: string) =>
        linuxVm('westus', [8], {
          virtualMachineScaleSet: {
            id: `/subscriptions/${subscriptionId}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/ss-${mode}`,
          },
        });
      const uniform = await vmWithCollection(client, t.clock, 'rg', 'vm-uniform', member('Uniform'));
      await expectRestError(client.restorePoints.create('rg', uniform.collectionName, 'rp1', {}, testPollingOptions), {
        status: 409,
        code: 'OperationNotAllowed',
        message: /Uniform orchestration mode/,
      });
      const flexible = await vmWithCollection(client, t.clock, 'rg', 'vm-flex', member('Flexible'));
      const rp = await complete(
        client.restorePoints.create('rg', flexible.collectionName, 'rp1', {}, testPollingOptions),
        t.clock,
      );
      expect(rp.provisioningState).toBe('Succeeded');
    });

    it('refuses Confidential VMs', async () => {
      const { client } = t.client();
      const vm = linuxVm('westus', [8], { securityProfile: { securityType: 'ConfidentialVM' } });
      const { collectionName } = await vmWithCollection(client, t.clock, 'rg', 'vm-cvm', vm);
      await expectRestError(client.restorePoints.create('rg', collectionName, 'rp1', {}, testPollingOptions), {
        status: 409,
        code: 'OperationNotAllowed',
        message: /Confidential VM/,
      });
    });

    it('refuses VMs with unmanaged disks', async () => {
      const { client } = t.client();
      const vm = linuxVm('westus', []);
      vm.storageProfile!.osDisk = {
        createOption: 'FromImage',
        osType: 'Linux',
        name: 'os',
        vhd: { uri: 'https://acct.blob.core.windows.net/vhds/os.vhd' },
      };
      const { collectionName } = await vmWithCollection(client, t.clock, 'rg', 'vm-vhd', vm);
      await expectRestError(client.restorePoints.create('rg', collectionName, 'rp1', {}, testPollingOptions), {
        status: 409,
        code: 'OperationNotAllowed',
        message: /unmanaged disks/,
      });
    });

    it('refuses a deallocated VM and accepts it again once started', async () => {
      const { client } = t.client();
      const { collectionName } = await vmWithCollection(client, t.clock, 'rg', 'vm-dealloc');
      await complete(client.virtualMachines.deallocate('rg', 'vm-dealloc', testPollingOptions), t.clock);
      await expectRestError(client.restorePoints.create('rg', collectionName, 'rp1', {}, testPollingOptions), {
        status: 409,
        code: 'OperationNotAllowed',
        message: /deallocated/,
      });
      await complete(client.virtualMachines.start('rg', 'vm-dealloc', testPollingOptions), t.clock);
      const rp = await complete(
        client.restorePoints.create('rg', collectionName, 'rp2', {}, testPollingOptions),
        t.clock,
      );
      expect(rp.provisioningState).toBe('Succeeded');
    });

    it('refuses a second creation on the same VM while one is in progress (VMRestorePointClientError)', async () => {
      const { client } = t.client();
      const { collectionName } = await vmWithCollection(client, t.clock, 'rg', 'vm-conc');
      const first = client.restorePoints.create(
        'rg',
        collectionName,
        'rp1',
        { consistencyMode: 'CrashConsistent' },
        testPollingOptions,
      );
      await first.submitted();
      await expectRestError(client.restorePoints.create('rg', collectionName, 'rp2', {}, testPollingOptions), {
        status: 409,
        code: 'VMRestorePointClientError',
        message:
          "RestorePoint creation failed since a concurrent 'Create RestorePoint' operation was triggered on the VM.",
      });
      await t.clock.advance('5m');
      await first;
    });

    it('enforces the minimum interval: 1 h between crash-consistent and 3 h between application-consistent points', async () => {
      const { client } = t.client();
      const { collectionName } = await vmWithCollection(client, t.clock, 'rg', 'vm-int');
      await complete(
        client.restorePoints.create(
          'rg',
          collectionName,
          'c1',
          { consistencyMode: 'CrashConsistent' },
          testPollingOptions,
        ),
        t.clock,
        '10m',
      );
      await expectRestError(
        client.restorePoints.create(
          'rg',
          collectionName,
          'c2',
          { consistencyMode: 'CrashConsistent' },
          testPollingOptions,
        ),
        {
          status: 409,
          code: 'OperationNotAllowed',
          message: /within 1 hour/,
        },
      );
      await complete(client.restorePoints.create('rg', collectionName, 'a1', {}, testPollingOptions), t.clock, '50m');
      const c3 = await complete(
        client.restorePoints.create(
          'rg',
          collectionName,
          'c3',
          { consistencyMode: 'CrashConsistent' },
          testPollingOptions,
        ),
        t.clock,
        '2h',
      );
      expect(c3.provisioningState).toBe('Succeeded');
      await expectRestError(client.restorePoints.create('rg', collectionName, 'a2', {}, testPollingOptions), {
        status: 409,
        code: 'OperationNotAllowed',
        message: /within 3 hour/,
      });
      await t.clock.advance('1h');
      const a3 = await complete(
        client.restorePoints.create('rg', collectionName, 'a3', {}, testPollingOptions),
        t.clock,
      );
      expect(a3.provisioningState).toBe('Succeeded');
    });

    it('answers the fourth PUT for one VM and mode within an hour with 429 OperationNotAllowed / TooManyRequests and Retry-After', async () => {
      const { client, subscriptionId } = t.client();
      const { collectionName } = await vmWithCollection(client, t.clock, 'rg', 'vm-thr');
      const path = `/subscriptions/${subscriptionId}/resourceGroups/rg/providers/Microsoft.Compute/restorePointCollections/${collectionName}/restorePoints`;
      const put = (name: string) =>
        rawRequest(
          t.emulator,
          'PUT',
          `${path}/${name}?api-version=2025-04-01`,
          JSON.stringify({ properties: { consistencyMode: 'CrashConsistent' } }),
        );
      const first = await put('r1');
      expect(first.status).toBe(201);
      expect(String(first.headers['x-ms-ratelimit-remaining-resource'])).toContain(
        'Microsoft.Compute/CreateCrashConsistentRestorePoint;2',
      );
      await t.clock.advance('10m');
      expect((await put('r2')).status).toBe(409); // interval refusal, still counted
      expect((await put('r3')).status).toBe(409);
      const throttled = await put('r4');
      expect(throttled.status).toBe(429);
      expect(Number(throttled.headers['retry-after'])).toBe(50 * 60);
      expect(throttled.json).toMatchObject({
        code: 'OperationNotAllowed',
        details: [{ code: 'TooManyRequests', target: 'CreateCrashConsistentRestorePoint' }],
      });
      // The SDK surfaces it as a RestError with status 429 and the code.
      await expectRestError(
        client.restorePoints.create(
          'rg',
          collectionName,
          'r5',
          { consistencyMode: 'CrashConsistent' },
          testPollingOptions,
        ),
        {
          status: 429,
          code: 'OperationNotAllowed',
        },
      );
      await t.clock.advance('50m');
      expect((await put('r6')).status).toBe(201);
    });

    it('caps restore points per VM at the configured maximum across collections', async () => {
      const small = await startTestEmulator({
        maxRestorePointsPerVm: 2,
        computeThrottling: false,
        minIntervalCrashConsistentMs: 0,
      });
      try {
        const { client, subscriptionId } = small.client();
        const { vm, collectionName } = await vmWithCollection(client, small.clock, 'rg', 'vm-cap');
        await client.restorePointCollections.createOrUpdate('rg', 'second', {
          location: 'westus',
          source: { id: vm.id },
        });
        await complete(
          client.restorePoints.create(
            'rg',
            collectionName,
            'r1',
            { consistencyMode: 'CrashConsistent' },
            testPollingOptions,
          ),
          small.clock,
        );
        await complete(
          client.restorePoints.create('rg', 'second', 'r2', { consistencyMode: 'CrashConsistent' }, testPollingOptions),
          small.clock,
        );
        await expectRestError(
          client.restorePoints.create(
            'rg',
            collectionName,
            'r3',
            { consistencyMode: 'CrashConsistent' },
            testPollingOptions,
          ),
          {
            status: 409,
            code: 'VMRestorePointClientError',
            message: /maximum allowed snapshot limit/,
          },
        );
        await complete(client.restorePoints.delete('rg', 'second', 'r2', testPollingOptions), small.clock);
        const r4 = await complete(
          client.restorePoints.create(
            'rg',
            collectionName,
            'r4',
            { consistencyMode: 'CrashConsistent' },
            testPollingOptions,
          ),
          small.clock,
        );
        expect(r4.provisioningState).toBe('Succeeded');
        void subscriptionId;
      } finally {
        await small.emulator.stop();
      }
    });

    it('defaults to Azure’s limit of 500 restore points per VM', () => {
      expect(t.emulator.core.settings.maxRestorePointsPerVm).toBe(500);
    });

    it('fails an application-consistent point with VMAgentStatusCommunicationError when the VM agent is not ready, but not a crash-consistent one', async () => {
      const { client } = t.client();
      const vm = linuxVm('westus', [8], { tags: { [EMULATOR_TAGS.vmAgent]: 'NotReady' } });
      const { collectionName } = await vmWithCollection(client, t.clock, 'rg', 'vm-agent', vm);
      await expectOperationFailure(
        complete(client.restorePoints.create('rg', collectionName, 'app', {}, testPollingOptions), t.clock),
        'VMAgentStatusCommunicationError',
        /VM agent/,
      );
      const view = await client.virtualMachines.instanceView('rg', 'vm-agent');
      expect(view.vmAgent?.statuses?.[0]?.displayStatus).toBe('Not Ready');
      const failed = await client.restorePoints.get('rg', collectionName, 'app');
      expect(failed.provisioningState).toBe('Failed');
      const crash = await complete(
        client.restorePoints.create(
          'rg',
          collectionName,
          'crash',
          { consistencyMode: 'CrashConsistent' },
          testPollingOptions,
        ),
        t.clock,
      );
      expect(crash.provisioningState).toBe('Succeeded');
    });

    it('fails creation with OperationNotAllowed when the VM’s disks change while it runs', async () => {
      const { client } = t.client();
      const vm = linuxVm('westus', [8, 8]);
      const { collectionName } = await vmWithCollection(client, t.clock, 'rg', 'vm-change', vm);
      const poller = client.restorePoints.create('rg', collectionName, 'rp1', {}, testPollingOptions);
      await poller.submitted();
      const detached = linuxVm('westus', [8]);
      await complete(
        client.virtualMachines.createOrUpdate('rg', 'vm-change', detached, testPollingOptions),
        t.clock,
        '11s',
      );
      await t.clock.advance('5m');
      await expectOperationFailure(poller, 'OperationNotAllowed', /Changes were made to the Virtual Machine/);
      expect((await client.restorePoints.get('rg', collectionName, 'rp1')).provisioningState).toBe('Failed');
    });
  });

  describe('instant access', () => {
    it('moves snapshots from InstantAccess to AvailableWithInstantAccess to Available, by disk type and duration', async () => {
      const { client, subscriptionId } = t.client();
      await complete(
        client.disks.createOrUpdate(
          'rg',
          'ia-pv2',
          {
            location: 'westus',
            sku: { name: 'PremiumV2_LRS' },
            creationData: { createOption: 'Empty' },
            diskSizeGB: 1024,
          },
          testPollingOptions,
        ),
        t.clock,
      );
      const vm = linuxVm('westus', []);
      vm.storageProfile!.dataDisks = [
        { lun: 0, createOption: 'Attach', managedDisk: { id: diskId(subscriptionId, 'rg', 'ia-pv2') } },
      ];
      const created = await createVmWithCollection(vm, 'vm-ia', true);
      const states = async () =>
        (
          await client.restorePoints.get('rg', created, 'rp1', { expand: 'instanceView' })
        ).instanceView?.diskRestorePoints?.map((d) => d.snapshotAccessState);
      const rp = await complete(
        client.restorePoints.create('rg', created, 'rp1', { instantAccessDurationMinutes: 60 }, testPollingOptions),
        t.clock,
        '1m',
      );
      expect(rp.instantAccessDurationMinutes).toBe(60);
      // OS disk (Premium SSD): copied at once; Premium SSD v2: 1024 GiB of background copy (~34 min).
      expect(await states()).toEqual(['AvailableWithInstantAccess', 'InstantAccess']);
      await t.clock.advance('40m');
      expect(await states()).toEqual(['AvailableWithInstantAccess', 'AvailableWithInstantAccess']);
      await t.clock.advance('30m');
      expect(await states()).toEqual(['Available', 'Available']);

      async function createVmWithCollection(body: typeof vm, name: string, instantAccess: boolean): Promise<string> {
        const { vm: made } = await vmWithCollection(client, t.clock, 'rg', name, body);
        await client.restorePointCollections.createOrUpdate('rg', `${name}-ia`, {
          location: 'westus',
          source: { id: made.id },
          instantAccess,
        });
        return `${name}-ia`;
      }
    });

    it('refuses instantAccessDurationMinutes outside 60–300, without an instant-access collection, and in crash mode', async () => {
      const { client } = t.client();
      const { collectionName } = await vmWithCollection(client, t.clock, 'rg', 'vm-ia-bad');
      await expectRestError(
        client.restorePoints.create(
          'rg',
          collectionName,
          'rp',
          { instantAccessDurationMinutes: 30 },
          testPollingOptions,
        ),
        {
          status: 400,
          code: 'InvalidParameter',
          message: /between 60 and 300/,
        },
      );
      await expectRestError(
        client.restorePoints.create(
          'rg',
          collectionName,
          'rp',
          { instantAccessDurationMinutes: 60 },
          testPollingOptions,
        ),
        {
          status: 400,
          code: 'InvalidParameter',
          message: /instantAccess enabled/,
        },
      );
    });
  });

  describe('RestorePoints_Delete', () => {
    it('deletes through 202 + Azure-AsyncOperation + Location, and the point is gone afterwards', async () => {
      const { client, subscriptionId } = t.client();
      const { collectionName } = await vmWithCollection(client, t.clock, 'rg', 'vm-del');
      await complete(client.restorePoints.create('rg', collectionName, 'rp1', {}, testPollingOptions), t.clock);
      const path = `/subscriptions/${subscriptionId}/resourceGroups/rg/providers/Microsoft.Compute/restorePointCollections/${collectionName}/restorePoints/rp1?api-version=2025-04-01`;
      const accepted = await rawRequest(t.emulator, 'DELETE', path);
      expect(accepted.status).toBe(202);
      expect(accepted.text).toBe('');
      const location = String(accepted.headers.location);
      expect(location).toBe(`${String(accepted.headers['azure-asyncoperation'])}&monitor=true`);
      expect((await rawRequest(t.emulator, 'GET', location)).status).toBe(202);
      expect((await rawRequest(t.emulator, 'GET', path)).json).toMatchObject({
        properties: { provisioningState: 'Deleting' },
      });
      await t.clock.advance('1m');
      expect((await rawRequest(t.emulator, 'GET', location)).status).toBe(204);
      await expectRestError(client.restorePoints.get('rg', collectionName, 'rp1'), {
        status: 404,
        code: 'ResourceNotFound',
      });
      // Deleting what is gone is a no-op (ARM RPC).
      expect((await rawRequest(t.emulator, 'DELETE', path)).status).toBe(204);
    });

    it('deletes through the SDK poller', async () => {
      const { client } = t.client();
      const { collectionName } = await vmWithCollection(client, t.clock, 'rg', 'vm-del2');
      await complete(client.restorePoints.create('rg', collectionName, 'rp1', {}, testPollingOptions), t.clock);
      await complete(client.restorePoints.delete('rg', collectionName, 'rp1', testPollingOptions), t.clock);
      await expectRestError(client.restorePoints.get('rg', collectionName, 'rp1'), {
        status: 404,
        code: 'ResourceNotFound',
      });
    });
  });

  describe('cross-region copy', () => {
    it('copies into a collection whose source is the source collection, growing completionPercent at the configured throughput, with CMK turned into PMK', async () => {
      const { client, subscriptionId } = t.client();
      const des = `/subscriptions/${subscriptionId}/resourceGroups/rg/providers/Microsoft.Compute/diskEncryptionSets/des1`;
      const vm = linuxVm('westus', [1024]);
      vm.storageProfile!.dataDisks![0]!.managedDisk = {
        storageAccountType: 'Premium_LRS',
        diskEncryptionSet: { id: des },
      };
      const { collectionName } = await vmWithCollection(client, t.clock, 'rg', 'vm-copy', vm);
      const source = await complete(
        client.restorePoints.create('rg', collectionName, 'rp1', {}, testPollingOptions),
        t.clock,
      );
      expect(source.sourceMetadata?.storageProfile?.dataDisks?.[0]?.diskRestorePoint?.encryption?.type).toBe(
        'EncryptionAtRestWithCustomerKey',
      );
      const sourceCollection = await client.restorePointCollections.get('rg', collectionName);
      const target = await client.restorePointCollections.createOrUpdate('rg-east', 'target', {
        location: 'eastus',
        source: { id: sourceCollection.id },
      });
      expect(target.source?.location).toBe('westus');
      const poller = client.restorePoints.create(
        'rg-east',
        'target',
        'rp1-copy',
        { sourceRestorePoint: { id: source.id } },
        testPollingOptions,
      );
      await poller.submitted();
      // 1054 GiB at 100 MiB/s ≈ 10,793 s.
      await t.clock.advance('1h');
      const midway = await client.restorePoints.get('rg-east', 'target', 'rp1-copy', { expand: 'instanceView' });
      expect(midway.provisioningState).toBe('Creating');
      const percent = midway.instanceView?.diskRestorePoints?.[0]?.replicationStatus?.completionPercent ?? -1;
      expect(percent).toBeGreaterThanOrEqual(30);
      expect(percent).toBeLessThanOrEqual(35);
      expect(midway.instanceView?.diskRestorePoints?.[0]?.snapshotAccessState).toBe('Pending');
      const drps = client.diskRestorePoint.listByRestorePoint('rg-east', 'target', 'rp1-copy');
      for await (const drp of drps) {
        expect(drp.completionPercent).toBe(percent);
        expect(drp.replicationState).toBe('InProgress');
      }
      await t.clock.advance('3h');
      const copy = await poller;
      expect(copy.provisioningState).toBe('Succeeded');
      expect(copy.sourceRestorePoint?.id).toBe(source.id);
      const dataDrp = copy.sourceMetadata?.storageProfile?.dataDisks?.[0]?.diskRestorePoint;
      expect(dataDrp?.encryption?.type).toBe('EncryptionAtRestWithPlatformKey');
      expect(dataDrp?.sourceDiskRestorePoint?.id).toBe(
        source.sourceMetadata?.storageProfile?.dataDisks?.[0]?.diskRestorePoint?.id,
      );
      const done = await client.restorePoints.get('rg-east', 'target', 'rp1-copy', { expand: 'instanceView' });
      expect(done.instanceView?.diskRestorePoints?.every((d) => d.replicationStatus?.completionPercent === 100)).toBe(
        true,
      );
    });

    it('allows 3 copies per hour into one target collection, then 429 with Retry-After', async () => {
      const fast = await startTestEmulator({
        minIntervalCrashConsistentMs: 0,
        computeThrottling: true,
        restorePointPutsPerVmPerHourPerMode: 100,
      });
      try {
        const { client } = fast.client();
        const { collectionName } = await vmWithCollection(
          client,
          fast.clock,
          'rg',
          'vm-copies',
          linuxVm('westus', [1]),
        );
        const sourceCollection = await client.restorePointCollections.get('rg', collectionName);
        await client.restorePointCollections.createOrUpdate('rg', 'target', {
          location: 'eastus',
          source: { id: sourceCollection.id },
        });
        for (let i = 1; i <= 4; i++) {
          const rp = await complete(
            client.restorePoints.create(
              'rg',
              collectionName,
              `s${i}`,
              { consistencyMode: 'CrashConsistent' },
              testPollingOptions,
            ),
            fast.clock,
            '1m',
          );
          if (i <= 3) {
            // 31 GiB at 100 MiB/s: 318 s.
            await complete(
              client.restorePoints.create(
                'rg',
                'target',
                `c${i}`,
                { sourceRestorePoint: { id: rp.id } },
                testPollingOptions,
              ),
              fast.clock,
              '6m',
            );
          } else {
            const error = await expectRestError(
              client.restorePoints.create(
                'rg',
                'target',
                `c${i}`,
                { sourceRestorePoint: { id: rp.id } },
                testPollingOptions,
              ),
              {
                status: 429,
                code: 'OperationNotAllowed',
              },
            );
            expect(Number(error.response?.headers.get('retry-after'))).toBeGreaterThan(0);
          }
        }
      } finally {
        await fast.emulator.stop();
      }
    });

    it('refuses to copy a restore point whose snapshots are still Pending', async () => {
      const { client, subscriptionId } = t.client();
      await complete(
        client.disks.createOrUpdate(
          'rg',
          'pv2',
          {
            location: 'westus',
            sku: { name: 'PremiumV2_LRS' },
            creationData: { createOption: 'Empty' },
            diskSizeGB: 1024,
          },
          testPollingOptions,
        ),
        t.clock,
      );
      const vm = linuxVm('westus', []);
      vm.storageProfile!.dataDisks = [
        { lun: 0, createOption: 'Attach', managedDisk: { id: diskId(subscriptionId, 'rg', 'pv2') } },
      ];
      const { collectionName } = await vmWithCollection(client, t.clock, 'rg', 'vm-pv2', vm);
      const rp = await complete(
        client.restorePoints.create('rg', collectionName, 'rp1', {}, testPollingOptions),
        t.clock,
      );
      const view = await client.restorePoints.get('rg', collectionName, 'rp1', { expand: 'instanceView' });
      expect(view.instanceView?.diskRestorePoints?.map((d) => d.snapshotAccessState)).toEqual(['Available', 'Pending']);
      const sourceCollection = await client.restorePointCollections.get('rg', collectionName);
      await client.restorePointCollections.createOrUpdate('rg', 'pv2-target', {
        location: 'eastus',
        source: { id: sourceCollection.id },
      });
      await expectRestError(
        client.restorePoints.create(
          'rg',
          'pv2-target',
          'copy',
          { sourceRestorePoint: { id: rp.id } },
          testPollingOptions,
        ),
        {
          status: 409,
          code: 'OperationNotAllowed',
          message: /Pending/,
        },
      );
    });
  });
});
