import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectRestError,
  linuxVm,
  rawRequest,
  startTestEmulator,
  vmWithCollection,
  type TestEmulator,
} from './fixtures';

describe('ComputeEmulatorCore (ARM rules every operation shares)', () => {
  let t: TestEmulator;
  beforeAll(async () => {
    t = await startTestEmulator();
  });
  afterAll(async () => t.emulator.stop());

  const collections = (sub: string, query = '?api-version=2025-04-01') =>
    `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.Compute/restorePointCollections${query}`;

  it('accepts every api-version from 2021-03-01 on, including the SDK’s 2026 versions and previews', async () => {
    const sub = randomUUID();
    for (const version of ['2021-03-01', '2023-09-01', '2026-04-01', '2024-10-01-preview']) {
      const response = await rawRequest(t.emulator, 'GET', collections(sub, `?api-version=${version}`));
      expect(response.status, version).toBe(200);
    }
  });

  it('answers an older api-version with Azure’s BadRequest, and a missing or malformed one with 400', async () => {
    const sub = randomUUID();
    const old = await rawRequest(t.emulator, 'GET', collections(sub, '?api-version=2020-12-01'));
    expect(old.status).toBe(400);
    expect(old.json).toEqual({
      error: { code: 'BadRequest', message: "This request can be made with api-version '2021-03-01' or newer." },
    });
    const missing = await rawRequest(t.emulator, 'GET', collections(sub, ''));
    expect(missing.json).toMatchObject({ error: { code: 'MissingApiVersionParameter' } });
    const malformed = await rawRequest(t.emulator, 'GET', collections(sub, '?api-version=latest'));
    expect(malformed.json).toMatchObject({ error: { code: 'InvalidApiVersionParameter' } });
    const noSuchDay = await rawRequest(t.emulator, 'GET', collections(sub, '?api-version=2021-13-45'));
    expect(noSuchDay.json).toMatchObject({ error: { code: 'InvalidApiVersionParameter' } });
  });

  it('answers an unknown route with 501 NotImplemented in CloudError shape', async () => {
    const sub = randomUUID();
    const response = await rawRequest(
      t.emulator,
      'GET',
      `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.Compute/galleries?api-version=2025-04-01`,
    );
    expect(response.status).toBe(501);
    expect(response.json).toMatchObject({
      error: { code: 'NotImplemented', message: expect.stringContaining('galleries') as unknown },
    });
    const wrongMethod = await rawRequest(t.emulator, 'POST', collections(sub));
    expect(wrongMethod.status).toBe(501);
  });

  it('matches ARM paths case-insensitively and finds resources whatever the case of their names', async () => {
    const { client, subscriptionId } = t.client();
    const { collectionName } = await vmWithCollection(client, t.clock, 'MyRG', 'CaseVm');
    const path = `/SUBSCRIPTIONS/${subscriptionId.toUpperCase()}/resourcegroups/myrg/PROVIDERS/microsoft.compute/RESTOREPOINTCOLLECTIONS/${collectionName.toLowerCase()}?api-version=2025-04-01`;
    const response = await rawRequest(t.emulator, 'GET', path);
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({
      name: collectionName,
      id: expect.stringContaining('/resourceGroups/MyRG/') as unknown,
    });
  });

  it('answers malformed JSON with ARM’s InvalidRequestContent', async () => {
    const sub = randomUUID();
    const response = await rawRequest(
      t.emulator,
      'PUT',
      collections(sub).replace('Collections?', 'Collections/c1?'),
      '{"location": ',
    );
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({
      error: {
        code: 'InvalidRequestContent',
        message: expect.stringContaining('could not be deserialized') as unknown,
      },
    });
  });

  it('answers a wrongly typed field with 400 InvalidRequestFormat naming the field', async () => {
    const { client, subscriptionId } = t.client();
    const { collectionName } = await vmWithCollection(client, t.clock, 'rg', 'typed');
    const path = `/subscriptions/${subscriptionId}/resourceGroups/rg/providers/Microsoft.Compute/restorePointCollections/${collectionName}/restorePoints/rp?api-version=2025-04-01`;
    const response = await rawRequest(t.emulator, 'PUT', path, JSON.stringify({ properties: { excludeDisks: 'all' } }));
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({
      error: { code: 'InvalidRequestFormat', details: [{ target: 'properties.excludeDisks' }] },
    });
    const badEnum = await rawRequest(
      t.emulator,
      'PUT',
      path,
      JSON.stringify({ properties: { consistencyMode: 'Sloppy' } }),
    );
    expect(badEnum.json).toMatchObject({ error: { code: 'InvalidParameter', target: 'properties.consistencyMode' } });
    const notObject = await rawRequest(t.emulator, 'PUT', path, '[1]');
    expect(notObject.json).toMatchObject({ error: { code: 'InvalidRequestFormat' } });
  });

  it('refuses bad resource names and malformed subscription ids', async () => {
    const { client } = t.client();
    await expectRestError(
      client.restorePointCollections.createOrUpdate('rg', 'bad name!', { location: 'westus', source: { id: 'x' } }),
      {
        status: 400,
        code: 'InvalidResourceName',
      },
    );
    await expectRestError(
      client.restorePointCollections.createOrUpdate('rg', 'trailing-', { location: 'westus', source: { id: 'x' } }),
      {
        status: 400,
        code: 'InvalidResourceName',
      },
    );
    const response = await rawRequest(t.emulator, 'GET', collections('not-a-guid'));
    expect(response.json).toEqual({
      error: {
        code: 'InvalidSubscriptionId',
        message: "The provided subscription identifier 'not-a-guid' is malformed or invalid.",
      },
    });
  });

  it('refuses a source id that is not a VM or collection id with InvalidParameter', async () => {
    const { client } = t.client();
    await expectRestError(
      client.restorePointCollections.createOrUpdate('rg', 'c', {
        location: 'westus',
        source: { id: '/not/an/arm/id' },
      }),
      {
        status: 400,
        code: 'InvalidParameter',
        message: /source id/,
      },
    );
  });

  it('adds request ids and the subscription read/write counters to every ARM response', async () => {
    const sub = randomUUID();
    const first = await rawRequest(t.emulator, 'GET', collections(sub));
    expect(first.headers['x-ms-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.headers['x-ms-ratelimit-remaining-subscription-reads']).toBe('249');
    const second = await rawRequest(t.emulator, 'GET', collections(sub));
    expect(second.headers['x-ms-ratelimit-remaining-subscription-reads']).toBe('248');
    const write = await rawRequest(
      t.emulator,
      'PUT',
      collections(sub).replace('Collections?', 'Collections/w?'),
      JSON.stringify({ location: 'westus' }),
    );
    expect(write.headers['x-ms-ratelimit-remaining-subscription-writes']).toBe('199');
    const del = await rawRequest(t.emulator, 'DELETE', collections(sub).replace('Collections?', 'Collections/w?'));
    expect(del.headers['x-ms-ratelimit-remaining-subscription-deletes']).toBe('199');
  });

  it('keeps two emulators’ clocks and stores apart', async () => {
    const other = await startTestEmulator();
    try {
      const { client, subscriptionId } = t.client();
      await vmWithCollection(client, t.clock, 'rg', 'only-here', linuxVm('westus'));
      await expectRestError(other.client(subscriptionId).client.virtualMachines.get('rg', 'only-here'), {
        status: 404,
        code: 'ResourceNotFound',
      });
    } finally {
      await other.emulator.stop();
    }
  });
});
