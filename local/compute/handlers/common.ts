import type { EmulatorEnv } from '../env';
import { operationUrls } from '../env';
import type { ArmRequest, ArmResponse } from '../http';
import { param } from '../http';
import type { OperationAction, OperationRecord } from '../lro';
import { idKey, type ResourceScope } from '../armIds';

export function scopeOf(request: ArmRequest): ResourceScope {
  return { subscriptionId: param(request, 'subscriptionId'), resourceGroup: param(request, 'resourceGroupName') };
}

/** The key of subscription-wide policies. */
export function subscriptionKey(request: ArmRequest): string {
  return param(request, 'subscriptionId').toLowerCase();
}

/**
 * RestorePoints_Get and RestorePointCollections_Get count against CRP's low-cost GET policies,
 * before the lookup, as a throttle is checked first.
 */
export function countLowCostGet(env: EmulatorEnv, request: ArmRequest): void {
  env.countPolicy('LowCostGetRestorePointSubscriptionMaximum', subscriptionKey(request));
  env.countPolicy('LowCostGetResource', idKey(request.path));
}

/**
 * A page of a list operation: `{ value, nextLink? }`. The nextLink is absolute and carries the
 * api-version, because the SDK follows it verbatim.
 */
export function page<T>(env: EmulatorEnv, request: ArmRequest, items: T[], render: (item: T) => unknown): ArmResponse {
  const skip = Math.max(0, Number.parseInt(request.query.get('$skiptoken') ?? '0', 10) || 0);
  const size = env.settings.pageSize;
  const value = items.slice(skip, skip + size).map(render);
  const body: { value: unknown[]; nextLink?: string } = { value };
  if (skip + size < items.length) {
    const query = new URLSearchParams(request.query);
    query.set('$skiptoken', String(skip + size));
    body.nextLink = `${request.baseUrl}${encodePath(request.path)}?${query.toString()}`;
  }
  return { status: 200, body };
}

function encodePath(path: string): string {
  return path
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
}

/** Starts a long-running operation at the request's region and api-version. */
export function startOperation(
  env: EmulatorEnv,
  request: ArmRequest,
  fields: { location: string; family: OperationRecord['family']; durationMs: number; action: OperationAction },
): OperationRecord {
  const now = env.clock.now();
  return env.operations.start({
    subscriptionId: param(request, 'subscriptionId'),
    location: fields.location,
    family: fields.family,
    apiVersion: request.apiVersion,
    completesAtMs: now + fields.durationMs,
    action: fields.action,
    ...(env.operationFault ? { failWith: env.operationFault } : {}),
  });
}

/** `Azure-AsyncOperation` (and, with `withLocation`, `Location`) headers of an operation. */
export function lroHeaders(
  request: ArmRequest,
  operation: OperationRecord,
  withLocation: boolean,
): Record<string, string> {
  const urls = operationUrls(request.baseUrl, operation);
  const headers: Record<string, string> = {
    'azure-asyncoperation': urls.asyncOperation,
    'azure-asyncnotification': 'Enabled',
  };
  if (withLocation) headers.location = urls.location;
  return headers;
}

/** 202 Accepted, no body, both polling headers (ARM RPC for DELETE and POST actions). */
export function accepted(request: ArmRequest, operation: OperationRecord): ArmResponse {
  return { status: 202, headers: lroHeaders(request, operation, true) };
}
