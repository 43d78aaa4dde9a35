import { randomUUID } from 'node:crypto';
import type { ComputeManagementClient } from '@azure/arm-compute';
import type { PipelineResponse } from '@azure/core-rest-pipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  COMPUTE_POLICY_NAMES,
  DEFAULT_COMPUTE_POLICIES,
  mergeComputePolicies,
  parseComputePolicyFlag,
} from '../../../local/compute/computePolicies';
import { testPollingOptions } from '../../helpers/computeClient';
import {
  complete,
  expectRestError,
  rawRequest,
  startTestEmulator,
  vmWithCollection,
  type TestEmulator,
} from './fixtures';

const TEN_MINUTES = 600_000;
const RESOURCE_HEADER = 'x-ms-ratelimit-remaining-resource';

describe('compute policy settings', () => {
  it('reports every policy with its invented default and enforces none by default', () => {
    expect(COMPUTE_POLICY_NAMES).toEqual(
      expect.arrayContaining([
        'PutRestorePointSubscriptionMaximum',
        'PutRestorePointResource',
        'PutRestorePointCollectionSubscriptionMaximum',
        'DeleteRestorePointSubscriptionMaximum',
        'LowCostGetRestorePointSubscriptionMaximum',
        'LowCostGetResource',
        'GetOperationSubscriptionMaximum',
      ]),
    );
    for (const name of COMPUTE_POLICY_NAMES) expect(DEFAULT_COMPUTE_POLICIES[name].enforce, name).toBe(false);
    expect(DEFAULT_COMPUTE_POLICIES.PutRestorePointSubscriptionMaximum).toEqual({
      limit: 150,
      windowMs: 60_000,
      enforce: false,
    });
  });

  it('merges a partial record over the current one and leaves the current one alone', () => {
    const merged = mergeComputePolicies(DEFAULT_COMPUTE_POLICIES, {
      PutRestorePointSubscriptionMaximum: { limit: 2, enforce: true },
    });
    expect(merged.PutRestorePointSubscriptionMaximum).toEqual({ limit: 2, windowMs: 60_000, enforce: true });
    expect(merged.LowCostGetResource).toEqual(DEFAULT_COMPUTE_POLICIES.LowCostGetResource);
    expect(DEFAULT_COMPUTE_POLICIES.PutRestorePointSubscriptionMaximum.limit).toBe(150);
  });

  it.each([
    [{ PutRestorePointSubscriptonMaximum: { limit: 1 } }, /unknown policy "PutRestorePointSubscriptonMaximum"/],
    [{ PutRestorePointResource: { limit: 1, window: 5 } }, /PutRestorePointResource: unknown field "window"/],
    [{ PutRestorePointResource: { limit: -1 } }, /PutRestorePointResource\.limit must be an integer ≥ 0/],
    [{ PutRestorePointResource: { windowMs: 0 } }, /PutRestorePointResource\.windowMs must be an integer ≥ 1/],
    [{ PutRestorePointResource: { enforce: 'yes' } }, /PutRestorePointResource\.enforce must be true or false/],
    [{ PutRestorePointResource: 3 }, /PutRestorePointResource must be an object/],
    [[1], /must be an object/],
  ])('refuses %j naming the policy or field', (input, message) => {
    expect(() => mergeComputePolicies(DEFAULT_COMPUTE_POLICIES, input, 'x')).toThrow(message);
  });

  it('reads the CLI form <policy>=<limit>/<window>[:report]', () => {
    expect(parseComputePolicyFlag('PutRestorePointSubscriptionMaximum=20/60s')).toEqual({
      PutRestorePointSubscriptionMaximum: { limit: 20, windowMs: 60_000, enforce: true },
    });
    expect(parseComputePolicyFlag('LowCostGetResource=5/1h30m:report')).toEqual({
      LowCostGetResource: { limit: 5, windowMs: 5_400_000, enforce: false },
    });
    expect(() => parseComputePolicyFlag('PutRestorePointSubscriptionMaximum=20')).toThrow(/<policy>=<limit>\/<window>/);
    expect(() => parseComputePolicyFlag('Nope=1/1s')).toThrow(/unknown policy "Nope"/);
    expect(() => parseComputePolicyFlag('LowCostGetResource=1/soon')).toThrow(/LowCostGetResource: window/);
  });
});

/** Responses the SDK received, to read the headers it hides. */
function recordResponses(client: ComputeManagementClient): PipelineResponse[] {
  const responses: PipelineResponse[] = [];
  client.pipeline.addPolicy({
    name: 'recordResponses',
    sendRequest: async (request, next) => {
      const response = await next(request);
      responses.push(response);
      return response;
    },
  });
  return responses;
}

describe('PutRestorePointSubscriptionMaximum enforced at 2 per 10 minutes (real SDK)', () => {
  let t: TestEmulator;
  beforeAll(async () => {
    t = await startTestEmulator({
      computePolicies: { PutRestorePointSubscriptionMaximum: { limit: 2, windowMs: TEN_MINUTES, enforce: true } },
    });
  });
  afterAll(async () => t.emulator.stop());

  it('refuses the third restore point PUT in a subscription with CRP’s 429 and Retry-After, and accepts it once the window has passed', async () => {
    const { client } = t.client();
    const collections: string[] = [];
    for (const name of ['vm-a', 'vm-b', 'vm-c'])
      collections.push((await vmWithCollection(client, t.clock, 'rg', name)).collectionName);
    const responses = recordResponses(client);
    const put = (collection: string, name: string) =>
      client.restorePoints.create('rg', collection, name, {}, testPollingOptions);
    const lastPutHeader = () =>
      responses
        .filter((r) => r.request.method === 'PUT')
        .at(-1)
        ?.headers.get(RESOURCE_HEADER) ?? '';

    const windowStart = t.clock.now();
    await put(collections[0] ?? '', 'rp-1').submitted();
    expect(lastPutHeader()).toContain('Microsoft.Compute/PutRestorePointSubscriptionMaximum;1');
    await t.clock.advance('1m');
    await put(collections[1] ?? '', 'rp-1').submitted();
    expect(lastPutHeader()).toContain('Microsoft.Compute/PutRestorePointSubscriptionMaximum;0');

    const refused = await expectRestError(put(collections[2] ?? '', 'rp-1'), {
      status: 429,
      code: 'OperationNotAllowed',
    });
    expect(refused.response?.headers.get('retry-after')).toBe(String(9 * 60));
    expect(refused.response?.headers.get(RESOURCE_HEADER)).toContain(
      'Microsoft.Compute/PutRestorePointSubscriptionMaximum;0',
    );
    expect(JSON.parse(responses.at(-1)?.bodyAsText ?? '')).toEqual({
      code: 'OperationNotAllowed',
      message: 'The server rejected the request because too many requests have been received for this subscription.',
      details: [
        {
          code: 'TooManyRequests',
          target: 'PutRestorePointSubscriptionMaximum',
          message: JSON.stringify({
            operationGroup: 'PutRestorePointSubscriptionMaximum',
            startTime: new Date(windowStart).toISOString(),
            endTime: new Date(windowStart + TEN_MINUTES).toISOString(),
            allowedRequestCount: 2,
            measuredRequestCount: 3,
          }),
        },
      ],
    });
    // Still refused a second before the window frees.
    await t.clock.advance(9 * 60_000 - 1_000);
    await expectRestError(put(collections[2] ?? '', 'rp-1'), { status: 429, code: 'OperationNotAllowed' });

    await t.clock.advance('1s');
    const accepted = await complete(put(collections[2] ?? '', 'rp-1'), t.clock);
    expect(accepted.provisioningState).toBe('Succeeded');
    const header = responses.find(
      (r) => r.request.method === 'PUT' && r.status === 201 && r.request.url.includes('vm-c'),
    );
    expect(header?.headers.get(RESOURCE_HEADER)).toContain('Microsoft.Compute/PutRestorePointSubscriptionMaximum;1');
    // The refused PUTs never reached the VM's own 3-per-hour window.
    expect(header?.headers.get(RESOURCE_HEADER)).toContain(
      'Microsoft.Compute/CreateApplicationConsistentRestorePoint;2',
    );
  });

  it('counts per subscription: another subscription has its own window', async () => {
    const { client } = t.client();
    const { collectionName } = await vmWithCollection(client, t.clock, 'rg', 'vm-other');
    const point = await complete(
      client.restorePoints.create('rg', collectionName, 'rp', {}, testPollingOptions),
      t.clock,
    );
    expect(point.provisioningState).toBe('Succeeded');
  });
});

describe('compute policies by default and through the admin route', () => {
  let t: TestEmulator;
  beforeAll(async () => {
    t = await startTestEmulator({
      computePolicies: { PutRestorePointSubscriptionMaximum: { limit: 2, windowMs: TEN_MINUTES } },
    });
  });
  afterAll(async () => t.emulator.stop());

  const api = '?api-version=2025-04-01';
  const rg = (sub: string) => `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.Compute`;

  it('only counts and reports a policy that is not enforced', async () => {
    const { client } = t.client();
    const responses = recordResponses(client);
    const collections: string[] = [];
    for (const name of ['vm-1', 'vm-2', 'vm-3'])
      collections.push((await vmWithCollection(client, t.clock, 'rg', name)).collectionName);
    for (const collectionName of collections)
      await complete(client.restorePoints.create('rg', collectionName, 'rp', {}, testPollingOptions), t.clock, '1m');
    const headers = responses
      .filter((r) => r.request.method === 'PUT' && r.request.url.includes('/restorePoints/'))
      .map((r) => /PutRestorePointSubscriptionMaximum;\d+/.exec(r.headers.get(RESOURCE_HEADER) ?? '')?.[0]);
    expect(headers).toEqual([
      'PutRestorePointSubscriptionMaximum;1',
      'PutRestorePointSubscriptionMaximum;0',
      'PutRestorePointSubscriptionMaximum;0',
    ]);
  });

  it('reports each policy an operation counts against, with the true remaining count, on every answer', async () => {
    const { client, subscriptionId: sub } = t.client();
    const { collectionName, vm } = await vmWithCollection(client, t.clock, 'rg', 'vm-h');
    await t.clock.advance('2m'); // fresh windows
    const resourceHeader = async (method: string, target: string, body?: unknown) =>
      String(
        (await rawRequest(t.emulator, method, target, body === undefined ? undefined : JSON.stringify(body))).headers[
          RESOURCE_HEADER
        ],
      );
    const collection = `${rg(sub)}/restorePointCollections/c2`;
    expect(
      await resourceHeader('PUT', `${collection}${api}`, { location: 'westus', properties: { source: { id: vm.id } } }),
    ).toBe(
      'Microsoft.Compute/PutRestorePointCollectionResource;14,Microsoft.Compute/PutRestorePointCollectionSubscriptionMaximum;149',
    );
    expect(await resourceHeader('GET', `${collection}${api}`)).toBe(
      'Microsoft.Compute/LowCostGetRestorePointSubscriptionMaximum;599,Microsoft.Compute/LowCostGetResource;32',
    );
    const point = `${rg(sub)}/restorePointCollections/${collectionName}/restorePoints/rp`;
    const created = await rawRequest(t.emulator, 'PUT', `${point}${api}`, '{}');
    expect(created.headers[RESOURCE_HEADER]).toBe(
      'Microsoft.Compute/PutRestorePointResource;5,Microsoft.Compute/PutRestorePointSubscriptionMaximum;1,Microsoft.Compute/CreateApplicationConsistentRestorePoint;2',
    );
    const operation = String(created.headers['azure-asyncoperation']);
    expect(await resourceHeader('GET', operation)).toBe(
      'Microsoft.Compute/GetOperationSubscriptionMaximum;14999,Microsoft.Compute/GetOperationResource;59',
    );
    expect(await resourceHeader('GET', `${operation}&monitor=true`)).toBe(
      'Microsoft.Compute/GetOperationSubscriptionMaximum;14998,Microsoft.Compute/GetOperationResource;58',
    );
    expect(await resourceHeader('GET', `${point}${api}`)).toBe(
      'Microsoft.Compute/LowCostGetRestorePointSubscriptionMaximum;598,Microsoft.Compute/LowCostGetResource;32',
    );
    // A refusal after the policies were counted carries them too (404 of an absent point).
    const absent = await rawRequest(t.emulator, 'GET', `${point}-absent${api}`);
    expect(absent.status).toBe(404);
    expect(absent.headers[RESOURCE_HEADER]).toBe(
      'Microsoft.Compute/LowCostGetRestorePointSubscriptionMaximum;597,Microsoft.Compute/LowCostGetResource;32',
    );
    await t.clock.advance('5m');
    expect(await resourceHeader('DELETE', `${point}${api}`)).toBe(
      'Microsoft.Compute/DeleteRestorePointSubscriptionMaximum;359',
    );
  });

  it('enforces a policy switched on through PUT /_emulator/compute-policies and lists them with GET', async () => {
    const sub = randomUUID();
    const target = `${rg(sub)}/restorePointCollections${api}`.replace('Collections?', 'Collections/c?');
    const changed = await rawRequest(
      t.emulator,
      'PUT',
      '/_emulator/compute-policies',
      JSON.stringify({ LowCostGetRestorePointSubscriptionMaximum: { limit: 1, enforce: true } }),
    );
    expect(changed.status).toBe(200);
    expect(changed.json).toMatchObject({
      LowCostGetRestorePointSubscriptionMaximum: { limit: 1, windowMs: 60_000, enforce: true },
      PutRestorePointSubscriptionMaximum: { limit: 2, windowMs: TEN_MINUTES, enforce: false },
    });
    try {
      expect((await rawRequest(t.emulator, 'GET', target)).status).toBe(404);
      const throttled = await rawRequest(t.emulator, 'GET', target);
      expect(throttled.status).toBe(429);
      expect(throttled.headers['retry-after']).toBe('60');
      expect(throttled.headers[RESOURCE_HEADER]).toBe('Microsoft.Compute/LowCostGetRestorePointSubscriptionMaximum;0');
      expect(throttled.json).toMatchObject({
        code: 'OperationNotAllowed',
        details: [{ code: 'TooManyRequests', target: 'LowCostGetRestorePointSubscriptionMaximum' }],
      });
      const listed = await rawRequest(t.emulator, 'GET', '/_emulator/compute-policies');
      expect(listed.json).toEqual(t.emulator.core.settings.computePolicies);
      expect(Object.keys(listed.json as object)).toEqual([...COMPUTE_POLICY_NAMES]);
    } finally {
      await rawRequest(
        t.emulator,
        'PUT',
        '/_emulator/compute-policies',
        JSON.stringify({ LowCostGetRestorePointSubscriptionMaximum: { enforce: false } }),
      );
    }
  });

  it.each([
    ['{"PutRestorePointResource":{"limit":1,"enforced":true}}', /PutRestorePointResource: unknown field "enforced"/],
    ['{"HighCostGet30Min":{"limit":1}}', /unknown policy "HighCostGet30Min"/],
    ['', /the body must be a JSON object/],
    ['not json', /JSON/],
  ])('refuses the admin body %j with 400 naming what is wrong', async (body, message) => {
    const before = structuredClone(t.emulator.core.settings.computePolicies);
    const response = await rawRequest(t.emulator, 'PUT', '/_emulator/compute-policies', body);
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ error: { code: 'InvalidComputePolicies' } });
    expect((response.json as { error: { message: string } }).error.message).toMatch(message);
    expect(t.emulator.core.settings.computePolicies).toEqual(before);
  });
});
