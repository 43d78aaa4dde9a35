/**
 * Function-level retry policies (`retry` in app.timer options): the host re-runs a failed
 * invocation after a fixed or exponentially growing delay on the host clock, telling the handler
 * which attempt it is through `context.retryContext`. Durable triggers never use this.
 */
import type { Clock } from '../../clock';
import { InvocationError, type InvocationRequest, type InvocationResult } from '../core/invoke';
import type { RegisteredFunction } from '../core/registry';
import type { LoadedFunctionsApp } from '../load/appLoader';
import type { HostLogger } from '../log';

export interface RetryPolicy {
  /** -1 = retry indefinitely. */
  maxRetryCount: number;
  /** Delay before retry number `retry` (1-based). */
  delayMs(retry: number): number;
}

interface RpcDuration {
  seconds?: number | string | null;
  nanos?: number | null;
}

function durationMs(value: unknown, field: string): number {
  const d = value as RpcDuration | null | undefined;
  const ms = Number(d?.seconds ?? 0) * 1000 + Number(d?.nanos ?? 0) / 1e6;
  if (!Number.isFinite(ms) || ms < 0) throw new Error(`retry.${field} must be a duration ≥ 0`);
  return ms;
}

/** The function's retry policy from its registration metadata, if it has one. */
export function retryPolicyOf(fn: RegisteredFunction): RetryPolicy | undefined {
  const options = fn.metadata.retryOptions as Record<string, unknown> | undefined;
  if (!options) return undefined;
  const maxRetryCount = Number(options.maxRetryCount);
  if (!Number.isInteger(maxRetryCount) || maxRetryCount < -1) {
    throw new Error(`Function '${fn.name}': retry.maxRetryCount must be an integer ≥ -1`);
  }
  if (options.retryStrategy === 'fixedDelay') {
    const delay = durationMs(options.delayInterval, 'delayInterval');
    return { maxRetryCount, delayMs: () => delay };
  }
  if (options.retryStrategy === 'exponentialBackoff') {
    const min = durationMs(options.minimumInterval, 'minimumInterval');
    const max = durationMs(options.maximumInterval, 'maximumInterval');
    return { maxRetryCount, delayMs: (retry) => Math.min(max, min * 2 ** (retry - 1)) };
  }
  throw new Error(`Function '${fn.name}': retry.strategy must be fixedDelay or exponentialBackoff`);
}

/** Invokes `fn`, retrying failed invocations as its retry policy says; rejects with the last failure. */
export async function invokeWithRetry(
  app: LoadedFunctionsApp,
  fn: RegisteredFunction,
  request: InvocationRequest,
  policy: RetryPolicy | undefined,
  clock: Clock,
  logger: HostLogger,
): Promise<InvocationResult> {
  for (let retry = 0; ; retry++) {
    try {
      const retryContext = policy ? { retryCount: retry, maxRetryCount: policy.maxRetryCount } : undefined;
      return await app.invoke(fn, { ...request, ...(retryContext ? { retryContext } : {}) });
    } catch (error) {
      const retriesLeft = policy && (policy.maxRetryCount === -1 || retry < policy.maxRetryCount);
      if (!(error instanceof InvocationError) || !policy || !retriesLeft) throw error;
      const delay = policy.delayMs(retry + 1);
      logger.log('warn', `${fn.name}: retry ${retry + 1} of ${policy.maxRetryCount} in ${delay} ms`);
      await clock.sleep(delay);
    }
  }
}
