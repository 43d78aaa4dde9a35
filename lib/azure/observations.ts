import { header, type HeadersLike } from '../armErrors';
import type { ArmOperationKind } from '../pacing/armBuckets';
import type { ComputeOperation } from '../pacing/computePolicies';

/**
 * What ARM's answers say about the limits RPO paces against (docs/pacing.md): the remaining tokens of the
 * subscription's bucket for the request's kind, and the remaining counts of Compute's policies
 * (`x-ms-ratelimit-remaining-resource: Microsoft.Compute/<policy>;<n>`, several per response).
 */
export interface ArmObservation {
  readonly kind: ArmOperationKind;
  readonly status: number;
  readonly atMs: number;
  /** When the request was sent: an answer to a request sent after a count was seen is newer than that count. */
  readonly sentAtMs?: number;
  /** `x-ms-ratelimit-remaining-subscription-{reads|writes|deletes}`. */
  readonly bucketRemaining?: number;
  /** Compute policy → remaining count, for the subscription-wide policies (`…SubscriptionMaximum`). */
  readonly computePolicies: Readonly<Record<string, number>>;
  /** The Compute operation the request was (its policies are looked for on the answer), when it is one RPO paces. */
  readonly operation?: ComputeOperation;
  /** A Compute throttle: which policy, and its window when the body says so. */
  readonly computeThrottle?: {
    readonly policy: string;
    readonly retryAfterMs: number;
    readonly window?: { startMs: number; endMs: number; allowed: number };
  };
}

const BUCKET_HEADER: Record<ArmOperationKind, string> = {
  read: 'x-ms-ratelimit-remaining-subscription-reads',
  write: 'x-ms-ratelimit-remaining-subscription-writes',
  delete: 'x-ms-ratelimit-remaining-subscription-deletes',
};

const COLLECTION = String.raw`/providers/Microsoft\.Compute/restorePointCollections/[^/?]+`;
const OPERATIONS: readonly [string, RegExp, ComputeOperation][] = [
  ['PUT', new RegExp(`${COLLECTION}/restorePoints/[^/?]+(?:\\?|$)`, 'i'), 'createRestorePoint'],
  ['DELETE', new RegExp(`${COLLECTION}/restorePoints/[^/?]+(?:\\?|$)`, 'i'), 'deleteRestorePoint'],
  ['GET', new RegExp(`${COLLECTION}(?:/restorePoints/[^/?]+)?(?:\\?|$)`, 'i'), 'getRestorePoint'],
  ['PUT', new RegExp(`${COLLECTION}(?:\\?|$)`, 'i'), 'createCollection'],
  ['GET', /\/providers\/Microsoft\.Compute\/locations\/[^/]+\/operations\//i, 'getOperation'],
];

/** Which paced Compute operation a request is (lib/pacing/computePolicies COMPUTE_POLICIES_BY_OPERATION), if any. */
export function computeOperationOf(method: string, url: string): ComputeOperation | undefined {
  const m = method.toUpperCase();
  return OPERATIONS.find(([verb, pattern]) => verb === m && pattern.test(url))?.[2];
}

export function operationKind(method: string): ArmOperationKind {
  const m = method.toUpperCase();
  if (m === 'GET' || m === 'HEAD') return 'read';
  return m === 'DELETE' ? 'delete' : 'write';
}

/** Subscription-wide Compute policies: per-resource ones are paced by the per-VM gate instead. */
export function isSubscriptionPolicy(name: string): boolean {
  return /SubscriptionMaximum$/i.test(name);
}

/** `Microsoft.Compute/PutRestorePointSubscriptionMaximum;149, Microsoft.Compute/…;5` → { policy: count }. */
export function parseResourcePolicies(value: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of (value ?? '').split(',')) {
    const match = /^\s*(?:Microsoft\.Compute\/)?([A-Za-z0-9]+)\s*;\s*(\d+)\s*$/i.exec(part);
    if (match !== null) out[match[1] as string] = Number(match[2]);
  }
  return out;
}

/** Reads one response. `body` is the parsed body of a 429 (CRP's throttle body names its window). */
export function observe(
  method: string,
  status: number,
  headers: HeadersLike,
  atMs: number,
  body?: unknown,
  retryAfterSeconds?: number,
  sentAtMs?: number,
  url?: string,
): ArmObservation {
  const kind = operationKind(method);
  const operation = url === undefined ? undefined : computeOperationOf(method, url);
  const remainingText = header(headers, BUCKET_HEADER[kind]);
  const policies = Object.fromEntries(
    Object.entries(parseResourcePolicies(header(headers, 'x-ms-ratelimit-remaining-resource'))).filter(([name]) =>
      isSubscriptionPolicy(name),
    ),
  );
  const observation: ArmObservation = {
    kind,
    status,
    atMs,
    ...(sentAtMs !== undefined ? { sentAtMs } : {}),
    ...(operation !== undefined ? { operation } : {}),
    computePolicies: policies,
    ...(remainingText !== undefined && /^\d+$/.test(remainingText) ? { bucketRemaining: Number(remainingText) } : {}),
  };
  if (status !== 429) return observation;
  const throttle = computeThrottleOf(body, policies, (retryAfterSeconds ?? 60) * 1000);
  return throttle === undefined ? observation : { ...observation, computeThrottle: throttle };
}

function computeThrottleOf(
  body: unknown,
  policies: Record<string, number>,
  retryAfterMs: number,
): ArmObservation['computeThrottle'] {
  const details = (body as { details?: unknown; error?: { details?: unknown } } | undefined)?.details;
  const list = Array.isArray(details) ? (details as unknown[]) : [];
  for (const detail of list) {
    const d = detail as { code?: unknown; target?: unknown; message?: unknown };
    if (typeof d.target !== 'string' || String(d.code).toLowerCase() !== 'toomanyrequests') continue;
    let window: { startMs: number; endMs: number; allowed: number } | undefined;
    try {
      const info = JSON.parse(String(d.message)) as {
        startTime?: string;
        endTime?: string;
        allowedRequestCount?: number;
      };
      const startMs = Date.parse(info.startTime ?? '');
      const endMs = Date.parse(info.endTime ?? '');
      if (Number.isFinite(startMs) && Number.isFinite(endMs) && typeof info.allowedRequestCount === 'number') {
        window = { startMs, endMs, allowed: info.allowedRequestCount };
      }
    } catch {
      // The window is a bonus; the policy name and Retry-After are what matter.
    }
    return { policy: d.target, retryAfterMs, ...(window ? { window } : {}) };
  }
  const exhausted = Object.entries(policies).find(([, n]) => n <= 0)?.[0];
  return exhausted === undefined ? undefined : { policy: exhausted, retryAfterMs };
}
