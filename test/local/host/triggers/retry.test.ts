import { describe, expect, it } from 'vitest';
import type { RegisteredFunction } from '../../../../local/host/core/registry';
import { retryPolicyOf } from '../../../../local/host/triggers/retry';

function fnWith(retryOptions: unknown): RegisteredFunction {
  return {
    name: 'f',
    metadata: { name: 'f', bindings: {}, retryOptions },
    rawBindings: [],
    callback: () => undefined,
    trigger: { name: 't', type: 'timerTrigger' },
    scriptFile: undefined,
  };
}

describe('retryPolicyOf', () => {
  it('has no policy when the function registered none', () => {
    expect(retryPolicyOf(fnWith(undefined))).toBeUndefined();
  });

  it('waits the same delay before every fixed-delay retry', () => {
    const policy = retryPolicyOf(
      fnWith({ retryStrategy: 'fixedDelay', maxRetryCount: 3, delayInterval: { seconds: 2, nanos: 500_000_000 } }),
    );
    expect(policy?.maxRetryCount).toBe(3);
    expect([1, 2, 3].map((n) => policy?.delayMs(n))).toEqual([2500, 2500, 2500]);
  });

  it('doubles exponential back-off delays from the minimum up to the maximum', () => {
    const policy = retryPolicyOf(
      fnWith({
        retryStrategy: 'exponentialBackoff',
        maxRetryCount: -1,
        minimumInterval: { seconds: 1 },
        maximumInterval: { seconds: 5 },
      }),
    );
    expect([1, 2, 3, 4, 5].map((n) => policy?.delayMs(n))).toEqual([1000, 2000, 4000, 5000, 5000]);
  });

  it('rejects a bad policy, naming the function and the field', () => {
    expect(() => retryPolicyOf(fnWith({ retryStrategy: 'fixedDelay', maxRetryCount: -2 }))).toThrow(
      "Function 'f': retry.maxRetryCount must be an integer ≥ -1",
    );
    expect(() => retryPolicyOf(fnWith({ retryStrategy: 'sometimes', maxRetryCount: 1 }))).toThrow(
      "Function 'f': retry.strategy must be fixedDelay or exponentialBackoff",
    );
  });
});
