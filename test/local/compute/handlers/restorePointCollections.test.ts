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

describe('RestorePointCollections', () => {
  let t: TestEmulator;
  beforeAll(async () => {
    t = await startTestEmulator({ pageSize: 2, maxCollectionsPerSubscriptionRegion: 3 });
  });
  afterAll(async () => t.emulator.stop());

  it('creates a collection synchronously (201, Succeeded) and updates only its tags (200)', async () => {
    const { client, subscriptionId } = t.client();
    const { vm } = await vmWithCollection(t.client(subscriptionId).client, t.clock, 'rg', 'vm1');
    const path = `/subscriptions/${subscriptionId}/resourceGroups/rg/providers/Microsoft.Compute/restorePointCollections/c1?api-version=2025-04-01`;
    const body = { location: 'westus', properties: { source: { id: vm.id } } };
    const created = await rawRequest(t.emulator, 'PUT', path, JSON.stringify(body));
    expect(created.status).toBe(201);
    expect(created.headers['azure-asyncoperation']).toBeUndefined();
    expect(created.json).toMatchObject({
      name: 'c1',
      type: 'Microsoft.Compute/restorePointCollections',
      location: 'westus',
      properties: { provisioningState: 'Succeeded', source: { id: vm.id, location: 'westus' } },
    });
    const updated = await client.restorePointCollections.createOrUpdate('rg', 'c1', {
      location: 'westus',
      source: { id: vm.id },
      tags: { team: 'a' },
    });
    expect(updated.tags).toEqual({ team: 'a' });
    const patched = await client.restorePointCollections.update('rg', 'c1', { tags: { team: 'b' } });
    expect(patched.tags).toEqual({ team: 'b' });
    expect(patched.restorePointCollectionId).toBe(updated.restorePointCollectionId);
  });

  it('refuses to change the source of an existing collection with PropertyChangeNotAllowed', async () => {
    const { client } = t.client();
    const { collectionName } = await vmWithCollection(client, t.clock, 'rg', 'vm-a');
    const other = await vmWithCollection(client, t.clock, 'rg', 'vm-b');
    await expectRestError(
      client.restorePointCollections.createOrUpdate('rg', collectionName, {
        location: 'westus',
        source: { id: other.vm.id },
      }),
      {
        status: 409,
        code: 'PropertyChangeNotAllowed',
        message: /source\.id/,
      },
    );
  });

  it('refuses a collection outside its source VM’s region, and a source that does not exist', async () => {
    const { client, subscriptionId } = t.client();
    const { vm } = await vmWithCollection(client, t.clock, 'rg', 'vm-region');
    await expectRestError(
      client.restorePointCollections.createOrUpdate('rg', 'elsewhere', { location: 'eastus', source: { id: vm.id } }),
      {
        status: 400,
        code: 'InvalidParameter',
      },
    );
    await expectRestError(
      client.restorePointCollections.createOrUpdate('rg', 'ghost', {
        location: 'westus',
        source: {
          id: `/subscriptions/${subscriptionId}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/ghost`,
        },
      }),
      { status: 404, code: 'ResourceNotFound' },
    );
  });

  it('refuses a body whose provisioningState differs from the collection’s with 400', async () => {
    const { subscriptionId, client } = t.client();
    const { vm, collectionName } = await vmWithCollection(client, t.clock, 'rg', 'vm-ps');
    const path = `/subscriptions/${subscriptionId}/resourceGroups/rg/providers/Microsoft.Compute/restorePointCollections/${collectionName}?api-version=2025-04-01`;
    const response = await rawRequest(
      t.emulator,
      'PUT',
      path,
      JSON.stringify({ location: 'westus', properties: { source: { id: vm.id }, provisioningState: 'Deleting' } }),
    );
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({
      error: { code: 'InvalidRequestContent', target: 'properties.provisioningState' },
    });
    const same = await rawRequest(
      t.emulator,
      'PUT',
      path,
      JSON.stringify({ location: 'westus', properties: { source: { id: vm.id }, provisioningState: 'Succeeded' } }),
    );
    expect(same.status).toBe(200);
  });

  it('limits collections per subscription and region (10,000 in Azure, 3 in this emulator instance)', async () => {
    const { client } = t.client();
    const { vm } = await vmWithCollection(client, t.clock, 'rg', 'vm-limit');
    await client.restorePointCollections.createOrUpdate('rg', 'l2', { location: 'westus', source: { id: vm.id } });
    await client.restorePointCollections.createOrUpdate('rg', 'l3', { location: 'westus', source: { id: vm.id } });
    await expectRestError(
      client.restorePointCollections.createOrUpdate('rg', 'l4', { location: 'westus', source: { id: vm.id } }),
      {
        status: 409,
        code: 'OperationNotAllowed',
        message: /maximum of 3 restore point collections in region 'westus'/,
      },
    );
  });

  it('gets a collection with its restore points on $expand=restorePoints', async () => {
    const { client } = t.client();
    const { collectionName } = await vmWithCollection(client, t.clock, 'rg', 'vm-expand');
    await complete(client.restorePoints.create('rg', collectionName, 'rp1', {}, testPollingOptions), t.clock);
    const plain = await client.restorePointCollections.get('rg', collectionName);
    expect(plain.restorePoints).toBeUndefined();
    const expanded = await client.restorePointCollections.get('rg', collectionName, { expand: 'restorePoints' });
    expect(expanded.restorePoints?.map((rp) => rp.name)).toEqual(['rp1']);
  });

  it('lists by resource group and by subscription across pages linked by an absolute nextLink', async () => {
    const { client, subscriptionId } = t.client();
    const { vm } = await vmWithCollection(client, t.clock, 'rg1', 'vm-list');
    await client.restorePointCollections.createOrUpdate('rg1', 'x2', { location: 'westus', source: { id: vm.id } });
    await client.restorePointCollections.createOrUpdate('rg1', 'x3', { location: 'westus', source: { id: vm.id } });
    const other = await vmWithCollection(client, t.clock, 'rg2', 'vm-list2', linuxVm('eastus'));
    void other;
    const names: string[] = [];
    for await (const collection of client.restorePointCollections.list('rg1')) names.push(collection.name ?? '');
    expect(names).toEqual(['vm-list-rpc', 'x2', 'x3']);
    const all: string[] = [];
    for await (const collection of client.restorePointCollections.listAll()) all.push(collection.name ?? '');
    expect(all.sort()).toEqual(['vm-list-rpc', 'vm-list2-rpc', 'x2', 'x3']);
    const first = await rawRequest(
      t.emulator,
      'GET',
      `/subscriptions/${subscriptionId}/resourceGroups/rg1/providers/Microsoft.Compute/restorePointCollections?api-version=2025-04-01`,
    );
    const nextLink = (first.json as { nextLink?: string }).nextLink ?? '';
    expect(nextLink.startsWith(`${t.emulator.url}/subscriptions/${subscriptionId}/resourceGroups/rg1/`)).toBe(true);
    expect(nextLink).toContain('api-version=2025-04-01');
  });

  it('deletes a collection and its restore points through a long-running operation', async () => {
    const { client } = t.client();
    const { collectionName } = await vmWithCollection(client, t.clock, 'rg', 'vm-delete');
    await complete(client.restorePoints.create('rg', collectionName, 'rp1', {}, testPollingOptions), t.clock);
    const poller = client.restorePointCollections.delete('rg', collectionName, testPollingOptions);
    await poller.submitted();
    expect((await client.restorePointCollections.get('rg', collectionName)).provisioningState).toBe('Deleting');
    await t.clock.advance('1m');
    await poller;
    await expectRestError(client.restorePointCollections.get('rg', collectionName), {
      status: 404,
      code: 'ResourceNotFound',
    });
    await expectRestError(client.restorePoints.get('rg', collectionName, 'rp1'), {
      status: 404,
      code: 'ResourceNotFound',
    });
  });

  it('answers a missing collection with ARM’s ResourceNotFound message', async () => {
    const { client } = t.client();
    await expectRestError(client.restorePointCollections.get('rg', 'nope'), {
      status: 404,
      code: 'ResourceNotFound',
      message:
        "The Resource 'Microsoft.Compute/restorePointCollections/nope' under resource group 'rg' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    });
  });
});
