import { describe, expect, it } from 'vitest';
import { computeOperationOf, observe, parseResourcePolicies } from '../../../lib/azure/observations';
import { applyObservations, planReservation } from '../../../lib/azure/pacer';

describe('observing ARM answers', () => {
  it("reads Compute's policies from x-ms-ratelimit-remaining-resource, comma-joined or not", () => {
    expect(
      parseResourcePolicies(
        'Microsoft.Compute/PutRestorePointSubscriptionMaximum;149, Microsoft.Compute/PutRestorePointResource;5',
      ),
    ).toEqual({ PutRestorePointSubscriptionMaximum: 149, PutRestorePointResource: 5 });
    expect(parseResourcePolicies(undefined)).toEqual({});
  });

  it('keeps the subscription-wide policies and the bucket of the request kind', () => {
    const o = observe(
      'PUT',
      201,
      {
        'x-ms-ratelimit-remaining-subscription-writes': '42',
        'x-ms-ratelimit-remaining-resource':
          'Microsoft.Compute/PutRestorePointSubscriptionMaximum;7,Microsoft.Compute/PutRestorePointResource;2',
      },
      1_000,
    );
    expect(o).toMatchObject({
      kind: 'write',
      bucketRemaining: 42,
      computePolicies: { PutRestorePointSubscriptionMaximum: 7 },
    });
  });

  it("learns a Compute throttle's policy and window from CRP's 429 body", () => {
    const body = {
      code: 'OperationNotAllowed',
      details: [
        {
          code: 'TooManyRequests',
          target: 'PutRestorePointSubscriptionMaximum',
          message: JSON.stringify({
            startTime: '2026-03-02T08:00:00Z',
            endTime: '2026-03-02T08:10:00Z',
            allowedRequestCount: 20,
          }),
        },
      ],
    };
    const o = observe(
      'PUT',
      429,
      { 'x-ms-ratelimit-remaining-resource': 'Microsoft.Compute/PutRestorePointSubscriptionMaximum;0' },
      5,
      body,
      300,
    );
    expect(o.computeThrottle).toMatchObject({
      policy: 'PutRestorePointSubscriptionMaximum',
      retryAfterMs: 300_000,
      window: { allowed: 20 },
    });
    const state = applyObservations(undefined, [o]);
    expect(state.compute.PutRestorePointSubscriptionMaximum?.windowMs).toBe(600_000);
    // Nothing more of that policy is planned before the Retry-After has passed.
    expect(
      planReservation(state, { writes: 1, compute: { createRestorePoint: 1 } }, 10).startAtMs,
    ).toBeGreaterThanOrEqual(300_005);
  });
});

describe('which Compute operation a request is', () => {
  const collection =
    'https://management.azure.com/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/restorePointCollections/rpo-vm-1';
  it('names the restore point and collection calls RPO paces, and nothing else', () => {
    expect(computeOperationOf('PUT', `${collection}/restorePoints/rpo-p-202601010000?api-version=2024-11-01`)).toBe(
      'createRestorePoint',
    );
    expect(computeOperationOf('DELETE', `${collection}/restorePoints/p?api-version=1`)).toBe('deleteRestorePoint');
    expect(computeOperationOf('GET', `${collection}/restorePoints/p?$expand=instanceView`)).toBe('getRestorePoint');
    expect(computeOperationOf('GET', `${collection}?$expand=restorePoints`)).toBe('getRestorePoint');
    expect(computeOperationOf('PUT', `${collection}?api-version=1`)).toBe('createCollection');
    expect(
      computeOperationOf(
        'GET',
        'https://management.azure.com/subscriptions/s/providers/Microsoft.Compute/locations/westeurope/operations/abc?api-version=1',
      ),
    ).toBe('getOperation');
    expect(
      computeOperationOf(
        'GET',
        'https://management.azure.com/subscriptions/s/providers/Microsoft.Compute/restorePointCollections?api-version=1',
      ),
    ).toBeUndefined();
    expect(
      computeOperationOf(
        'GET',
        'https://management.azure.com/subscriptions/s/providers/Microsoft.Compute/virtualMachines',
      ),
    ).toBeUndefined();
  });

  it('takes a policy for not reported only when a successful answer to one of its operations lacks its count', () => {
    const answer = (status: number) =>
      observe('PUT', status, {}, 1_000, undefined, undefined, 900, `${collection}/restorePoints/p?api-version=1`);
    expect(applyObservations(undefined, [answer(500)]).compute.PutRestorePointSubscriptionMaximum).toBeUndefined();
    expect(applyObservations(undefined, [answer(201)]).compute.PutRestorePointSubscriptionMaximum?.unreported).toBe(
      true,
    );
  });
});
