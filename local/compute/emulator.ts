import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock';
import {
  ArmError,
  apiVersionTooOld,
  internalError,
  invalidApiVersion,
  invalidRequestContent,
  invalidSubscriptionId,
  missingApiVersion,
  notImplemented,
} from './armErrors';
import { authenticationError } from './auth';
import { idKey, intern, isGuid, ownCopy } from './armIds';
import { mergeComputePolicies, type ComputePolicyName } from './computePolicies';
import type { EmulatorEnv } from './env';
import { FaultInjector, parseFaultSpec } from './faults';
import type { ArmRequest, ArmResponse } from './http';
import { OperationTracker, type OperationRecord } from './lro';
import { MemoryComputeStore } from './memoryStore';
import { completeOperation } from './operationEffects';
import { matchRoute } from './routes';
import type { SimulationSettings } from './simulation';
import type {
  CollectionRecord,
  ComputeStore,
  DiskRecord,
  JsonObject,
  RestorePointRecord,
  SetRecord,
  VirtualMachineRecord,
} from './store';
import { RequestLog, type RequestLogEntry } from './requestLog';
import { PolicyCounters, SlidingWindows, SubscriptionBuckets, requestKind } from './throttling';
import { isObject } from './validation';

/** The oldest api-version the emulator serves (restore points need 2021-03-01, azure-api.md §1). */
export const MINIMUM_API_VERSION = '2021-03-01';

export type { RequestLogEntry } from './requestLog';

export interface RawRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  body: string;
  /** `https://127.0.0.1:8443`. */
  baseUrl: string;
  /** The `Authorization` header; ARM requests without `Bearer <token>` get 401 (admin routes need none). */
  authorization?: string | undefined;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body?: string;
}

export interface EmulatorSnapshot {
  version: 1;
  savedAt: string;
  collections: CollectionRecord[];
  restorePoints: RestorePointRecord[];
  disks: DiskRecord[];
  virtualMachines: VirtualMachineRecord[];
  availabilitySets: SetRecord[];
  scaleSets: SetRecord[];
  vmConfigs: [string, JsonObject][];
  operations: OperationRecord[];
  windows: Record<string, number[]>;
  /** Compute policy counters (absent in snapshots written before they were enforceable). */
  policyCounters?: Record<string, [number, number]>;
}

/**
 * The Compute emulator without its HTTP server: routes a request to its operation handler with
 * the ARM rules every operation shares (api-version, subscription id, faults, token buckets,
 * JSON body, CloudError shape), and keeps the request log.
 */
export class ComputeEmulatorCore implements EmulatorEnv {
  readonly store: ComputeStore = new MemoryComputeStore();
  readonly operations: OperationTracker;
  readonly windows = new SlidingWindows();
  readonly counters = new PolicyCounters();
  readonly faults = new FaultInjector();
  readonly setMembers = new Map<string, Set<string>>();
  operationFault: { code: string; message: string; status: number } | undefined = undefined;
  private readonly buckets: SubscriptionBuckets;
  private readonly log: RequestLog;
  private readonly changeListeners: (() => void)[] = [];
  /** `Microsoft.Compute/<policy>;<remaining>` entries of the request being handled. */
  private policyEntries: string[] = [];

  constructor(
    readonly clock: Clock,
    readonly settings: SimulationSettings,
  ) {
    this.buckets = new SubscriptionBuckets(settings.armThrottling);
    this.log = new RequestLog(settings.requestLogLimit);
    this.operations = new OperationTracker(
      clock,
      (operation) => completeOperation(this, operation),
      () => this.markChanged(),
    );
  }

  markChanged(): void {
    for (const listener of this.changeListeners) listener();
  }

  onChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  /** The request log, oldest first. */
  requests(): readonly RequestLogEntry[] {
    return this.log.entries();
  }

  clearRequests(): void {
    this.log.clear();
  }

  handle(raw: RawRequest): RawResponse {
    const url = splitUrl(raw.url, raw.baseUrl);
    if (url.pathname.toLowerCase().startsWith('/_emulator/')) return this.admin(raw, url);
    const requestId = randomUUID();
    let response: ArmResponse;
    try {
      const unauthenticated = authenticationError(raw.authorization);
      if (unauthenticated) throw unauthenticated;
      response = this.dispatch(raw, url);
    } catch (error) {
      response = errorResponse(error);
    } finally {
      this.operationFault = undefined;
      this.policyEntries = [];
    }
    const headers: Record<string, string> = {
      'x-ms-request-id': requestId,
      'x-ms-correlation-request-id': requestId,
      'cache-control': 'no-cache',
      ...response.headers,
    };
    let body: string | undefined;
    if (response.body !== undefined) {
      body = JSON.stringify(response.body);
      headers['content-type'] = 'application/json; charset=utf-8';
    }
    this.record(raw.method, url.pathname, response.status);
    return { status: response.status, headers, ...(body !== undefined ? { body } : {}) };
  }

  private dispatch(raw: RawRequest, url: ParsedUrl): ArmResponse {
    const method = raw.method.toUpperCase();
    let segments: string[];
    try {
      segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      throw new ArmError(400, 'InvalidRequestUri', `The request URI '${url.pathname}' is not a valid URI.`);
    }
    const { match } = matchRoute(method, segments);
    if (!match) throw notImplemented(method, url.pathname);
    const rawApiVersion = url.searchParams.get('api-version');
    const apiVersion = rawApiVersion === null ? null : intern(rawApiVersion);
    if (!apiVersion) throw missingApiVersion();
    if (!/^\d{4}-\d{2}-\d{2}(-preview)?$/.test(apiVersion) || !isCalendarDate(apiVersion.slice(0, 10)))
      throw invalidApiVersion(apiVersion);
    if (apiVersion.slice(0, 10) < MINIMUM_API_VERSION) throw apiVersionTooOld(MINIMUM_API_VERSION);
    const subscriptionId = match.params.subscriptionId ?? '';
    if (!isGuid(subscriptionId)) throw invalidSubscriptionId(subscriptionId);
    const path = '/' + segments.join('/');
    const fault = this.faults.match(method, path, 'request');
    if (fault) throw fault;
    const rateHeaders = this.buckets.take(subscriptionId, requestKind(method), this.clock.now());
    let body: unknown;
    if (raw.body.trim() !== '' && method !== 'GET' && method !== 'DELETE') {
      try {
        body = JSON.parse(raw.body) as unknown;
      } catch (error) {
        throw invalidRequestContent(error instanceof Error ? error.message : String(error)).withHeaders(rateHeaders);
      }
    }
    const operationFault = this.faults.match(method, path, 'operation');
    if (operationFault) {
      this.operationFault = {
        code: operationFault.code,
        message: operationFault.message,
        status: operationFault.status,
      };
    }
    // Path parameters become stored names; decoded segments can be slices that keep the whole URL alive.
    for (const [name, value] of Object.entries(match.params)) {
      match.params[name] =
        name === 'subscriptionId' || name === 'resourceGroupName' || name === 'location'
          ? intern(value)
          : ownCopy(value);
    }
    const request: ArmRequest = {
      method,
      path,
      query: url.searchParams,
      params: match.params,
      body,
      apiVersion,
      baseUrl: raw.baseUrl,
    };
    try {
      const response = match.route.handler(this, request);
      return { ...response, headers: { ...rateHeaders, ...response.headers, ...this.policyHeader(undefined) } };
    } catch (error) {
      if (error instanceof ArmError) {
        const refused = error.extra.headers?.['x-ms-ratelimit-remaining-resource'];
        error.withHeaders({ ...rateHeaders, ...error.extra.headers, ...this.policyHeader(refused) });
      }
      throw error;
    }
  }

  countPolicy(policy: ComputePolicyName, key: string): void {
    const setting = this.settings.computePolicies[policy];
    this.policyEntries.push(this.counters.count(policy, key, setting, this.clock.now()));
  }

  takeWindow(policy: string, key: string, limit: number, windowMs: number, enforce: boolean): void {
    this.policyEntries.push(this.windows.take(policy, key, limit, windowMs, this.clock.now(), enforce));
  }

  /** Every policy the request counted against, and the one that refused it (`;0`), in one header. */
  private policyHeader(refused: string | undefined): Record<string, string> {
    const entries = refused === undefined ? this.policyEntries : [...this.policyEntries, refused];
    return entries.length === 0 ? {} : { 'x-ms-ratelimit-remaining-resource': entries.join(',') };
  }

  private record(method: string, path: string, status: number): void {
    this.log.add(method, path, status, this.clock.now());
  }

  /** Admin routes of DESIGN §6 (outside ARM paths). */
  private admin(raw: RawRequest, url: ParsedUrl): RawResponse {
    const json = (status: number, body?: unknown): RawResponse => ({
      status,
      headers: body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const route = `${raw.method.toUpperCase()} ${url.pathname.toLowerCase().replace(/\/+$/, '')}`;
    switch (route) {
      case 'POST /_emulator/faults': {
        try {
          const spec = parseFaultSpec(JSON.parse(raw.body || 'null') as unknown);
          this.faults.add(spec);
          return json(201, spec);
        } catch (error) {
          return json(400, {
            error: { code: 'InvalidFault', message: error instanceof Error ? error.message : String(error) },
          });
        }
      }
      case 'DELETE /_emulator/faults':
        this.faults.clear();
        return json(204);
      case 'GET /_emulator/requests':
        return json(200, { value: this.requests() });
      case 'DELETE /_emulator/requests':
        this.clearRequests();
        return json(204);
      case 'GET /_emulator/compute-policies':
        return json(200, this.settings.computePolicies);
      case 'PUT /_emulator/compute-policies': {
        try {
          const body = JSON.parse(raw.body || 'null') as unknown;
          if (body === null)
            throw new TypeError(
              'compute-policies: the body must be a JSON object { <policy>: { limit?, windowMs?, enforce? } }',
            );
          this.settings.computePolicies = mergeComputePolicies(this.settings.computePolicies, body, 'compute-policies');
          return json(200, this.settings.computePolicies);
        } catch (error) {
          return json(400, {
            error: { code: 'InvalidComputePolicies', message: error instanceof Error ? error.message : String(error) },
          });
        }
      }
      case 'GET /_emulator/clock': {
        const now = this.clock.now();
        return json(200, { now: new Date(now).toISOString(), epochMs: now });
      }
      default:
        return json(404, {
          error: { code: 'NotFound', message: `No emulator admin route '${raw.method} ${url.pathname}'.` },
        });
    }
  }

  snapshot(): EmulatorSnapshot {
    return {
      version: 1,
      savedAt: new Date(this.clock.now()).toISOString(),
      collections: [...this.store.collections.values()],
      restorePoints: [...this.store.restorePoints.values()],
      disks: [...this.store.disks.values()],
      virtualMachines: [...this.store.virtualMachines.values()],
      availabilitySets: [...this.store.availabilitySets.values()],
      scaleSets: [...this.store.scaleSets.values()],
      vmConfigs: [...this.store.vmConfigs.entries()],
      operations: this.operations.records(),
      windows: this.windows.toJSON(),
      policyCounters: this.counters.toJSON(),
    };
  }

  /** Loads a snapshot into an empty emulator; running operations are re-armed on the clock. */
  load(snapshot: EmulatorSnapshot): void {
    if (!isObject(snapshot) || snapshot.version !== 1)
      throw new TypeError('compute snapshot: unsupported format (expected version 1)');
    for (const [key, config] of snapshot.vmConfigs) this.store.vmConfigs.set(key, config);
    for (const record of snapshot.availabilitySets) this.store.availabilitySets.put(record);
    for (const record of snapshot.scaleSets) this.store.scaleSets.put(record);
    for (const record of snapshot.disks) this.store.disks.put(record);
    for (const record of snapshot.virtualMachines) {
      this.store.virtualMachines.put(record);
      for (const field of ['availabilitySet', 'virtualMachineScaleSet'] as const) {
        const ref = record.properties[field];
        if (isObject(ref) && typeof ref.id === 'string') {
          const key = idKey(ref.id);
          let members = this.setMembers.get(key);
          if (!members) this.setMembers.set(key, (members = new Set()));
          members.add(idKey(record.id));
        }
      }
    }
    for (const record of snapshot.collections) this.store.collections.put(record);
    for (const record of snapshot.restorePoints) this.store.restorePoints.put(record);
    this.windows.load(snapshot.windows);
    if (snapshot.policyCounters) this.counters.load(snapshot.policyCounters);
    this.operations.load(snapshot.operations);
  }

  stop(): void {
    this.operations.stop();
  }
}

interface ParsedUrl {
  pathname: string;
  searchParams: URLSearchParams;
}

/** Path and query of a request target; the WHATWG URL parser only for absolute targets (it is the slow path). */
function splitUrl(target: string, baseUrl: string): ParsedUrl {
  if (!target.startsWith('/')) {
    const url = new URL(target, baseUrl);
    return { pathname: url.pathname, searchParams: url.searchParams };
  }
  const at = target.indexOf('?');
  return at < 0
    ? { pathname: target, searchParams: new URLSearchParams() }
    : { pathname: target.slice(0, at), searchParams: new URLSearchParams(target.slice(at + 1)) };
}

function errorResponse(error: unknown): ArmResponse {
  const armError = error instanceof ArmError ? error : internalError();
  if (!(error instanceof ArmError)) {
    // An emulator bug: say so on stderr, answer like Azure's internal error.
    console.error('compute emulator: unexpected error', error);
  }
  return { status: armError.status, body: armError.body(), headers: armError.extra.headers ?? {} };
}

/** `2021-13-45` has the shape of an api-version but names no day; ARM refuses it like any unknown version. */
function isCalendarDate(text: string): boolean {
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}
