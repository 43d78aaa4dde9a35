/**
 * Classifies what ARM and the Compute resource provider answer when a call fails, so callers know whether to
 * wait (throttled), retry (transient), give up (permanent) or treat the resource as gone (notFound).
 * Codes, bodies and headers: docs/azure-api.md §5 (errors) and §6 (throttling); A1/A2 of
 * docs/limits-reliability-security.md. Every message that leaves this module passes through {@link redactSecrets}.
 */
import { redactSecrets } from './redact';

export type ThrottleSource = 'arm' | 'compute' | 'unknown';

export type ArmErrorClass =
  | {
      readonly kind: 'throttled';
      readonly status: number;
      /** How long to leave the caller's scope (VM, subscription) alone. */
      readonly retryAfterSeconds: number;
      /** ARM's per-subscription/tenant token buckets, or a Compute RP policy (`policy` names it when known). */
      readonly source: ThrottleSource;
      readonly policy: string | undefined;
      readonly code: string;
      readonly message: string;
    }
  | {
      readonly kind: 'transient';
      readonly status: number | undefined;
      readonly code: string;
      readonly message: string;
      /** From `Retry-After` when the service sent one. */
      readonly retryAfterSeconds: number | undefined;
    }
  | { readonly kind: 'permanent'; readonly status: number | undefined; readonly code: string; readonly message: string }
  | { readonly kind: 'notFound'; readonly status: number | undefined; readonly code: string; readonly message: string };

/** Header bags as they come: a plain record, fetch `Headers`, or core-rest-pipeline `HttpHeaders`. */
export type HeadersLike =
  | Readonly<Record<string, string | readonly string[] | number | undefined>>
  | { get(name: string): string | null | undefined };

export interface ArmResponseLike {
  readonly status: number;
  readonly headers?: HeadersLike;
  /** Raw text or already-parsed JSON. */
  readonly body?: unknown;
}

export interface ClassifyOptions {
  /** Epoch milliseconds, to turn an HTTP-date `Retry-After` into seconds. Default: `Date.now()`. */
  readonly now?: number;
  /** Used when a 429 carries no usable `Retry-After`. Default 60 s, the ARM RPC client default. */
  readonly defaultRetryAfterSeconds?: number;
}

export const DEFAULT_RETRY_AFTER_SECONDS = 60;
/** Upper bound on any wait we derive from a header: a day. Protects against garbage dates and huge numbers. */
export const MAX_RETRY_AFTER_SECONDS = 24 * 60 * 60;

// Codes are compared in lower case: ARM documents codes as case-sensitive strings but services vary.
const NOT_FOUND_CODES = new Set(
  ['ResourceNotFound', 'NotFound', 'ResourceGroupNotFound', 'ParentResourceNotFound', 'SubscriptionNotFound'].map(lc),
);

/** "An internal execution error occurred. Please retry later." and kin; capacity that may free up. */
const TRANSIENT_CODES = new Set(
  [
    'InternalError',
    'InternalExecutionError',
    'InternalOperationError',
    'InternalDiskRestorePointError',
    'VMRestorePointInternalError',
    'InternalServerError',
    'ServiceUnavailable',
    'GatewayTimeout',
    'RetryableError',
    'RetryableErrorDueToAnotherOperation',
    'AnotherOperationInProgress',
    'OperationPreempted',
    'Conflict',
    'AllocationFailed',
    'ZonalAllocationFailed',
  ].map(lc),
);

/** Need a person or a different request: retrying the same call cannot help. */
const PERMANENT_CODES = new Set(
  [
    'DiskRestorePointUsedByCustomer',
    'DiskRestorePointClientError',
    'VMAgentStatusCommunicationError',
    'OSProvisioningClientError',
    'BadRequest',
    'InvalidParameter',
    'InvalidRequestContent',
    'InvalidApiVersionParameter',
    'AuthorizationFailed',
    'LinkedAuthorizationFailed',
    'InvalidAuthenticationToken',
    'InvalidAuthenticationTokenTenant',
    'ExpiredAuthenticationToken',
    'NotImplemented',
    'PropertyChangeNotAllowed',
  ].map(lc),
);

/** Statuses that answer the request's form, not the service's state: the same request fails again. */
const NEVER_ON_RETRY_STATUSES = new Set([501, 505]);

const NETWORK_ERROR_CODES = new Set([
  'ECONNRESET',
  'ETIMEDOUT',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ESOCKETTIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'REQUEST_SEND_ERROR',
]);

/** Classifies a failed HTTP response from ARM / Compute. */
export function classifyArmResponse(response: ArmResponseLike, options: ClassifyOptions = {}): ArmErrorClass {
  const { status } = response;
  if (!Number.isInteger(status) || status < 400 || status > 599) {
    throw new RangeError(`response.status must be an HTTP error status (400-599), got ${String(status)}`);
  }
  const body = parseBody(response.body);
  const cloud = cloudError(body);
  const code = cloud.code ?? defaultCode(status);
  const message = redactSecrets(cloud.message ?? textOf(response.body) ?? `HTTP ${status}`);
  const headers = response.headers;

  if (status === 429) {
    if (lc(code) === 'retryableerrorduetoanotheroperation') {
      return { kind: 'transient', status, code, message, retryAfterSeconds: retryAfterSeconds(headers, options) };
    }
    const { source, policy } = throttleSource(headers, body, cloud);
    const retryAfter =
      retryAfterSeconds(headers, options) ?? options.defaultRetryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
    return { kind: 'throttled', status, retryAfterSeconds: Math.max(1, retryAfter), source, policy, code, message };
  }
  if (status === 404) return { kind: 'notFound', status, code, message };
  // 501 Not Implemented and 505 HTTP Version Not Supported say the request itself can never work: whatever code
  // the body carries (or none, which would read as InternalServerError), retrying the same call cannot help.
  if (NEVER_ON_RETRY_STATUSES.has(status)) return { kind: 'permanent', status, code, message };

  const byCode = classifyCode(code, message);
  if (byCode === 'transient') {
    return { kind: 'transient', status, code, message, retryAfterSeconds: retryAfterSeconds(headers, options) };
  }
  if (byCode === 'permanent') return { kind: 'permanent', status, code, message };
  if (byCode === 'notFound') return { kind: 'notFound', status, code, message };

  if (status === 408 || status >= 500) {
    return { kind: 'transient', status, code, message, retryAfterSeconds: retryAfterSeconds(headers, options) };
  }
  return { kind: 'permanent', status, code, message };
}

/**
 * Classifies anything a Compute SDK call or our own HTTP code throws: `RestError` (status in `statusCode`,
 * headers and raw body on `response`, parsed CloudError on `details`), the plain `Error` core-lro throws when an
 * operation ends Failed ("The long-running operation has failed. {code}. {message}"), Node network errors.
 */
export function classifyError(error: unknown, options: ClassifyOptions = {}): ArmErrorClass {
  if (!isObject(error)) {
    return { kind: 'permanent', status: undefined, code: 'UnknownError', message: redactSecrets(String(error)) };
  }
  const status = typeof error.statusCode === 'number' ? error.statusCode : undefined;
  if (status !== undefined && status >= 400 && status <= 599) {
    const response = isObject(error.response) ? error.response : undefined;
    // arm-compute parses the body and keeps only `details` (CloudError); core-rest-pipeline keeps `bodyAsText`.
    const body =
      typeof response?.bodyAsText === 'string' && response.bodyAsText !== ''
        ? response.bodyAsText
        : cloudError(error.details).code !== undefined
          ? error.details
          : { error: { code: error.code, message: error.message } };
    return classifyArmResponse({ status, headers: asHeaders(response?.headers), body }, options);
  }

  const networkCode = networkErrorCode(error);
  if (networkCode !== undefined) {
    return {
      kind: 'transient',
      status: undefined,
      code: networkCode,
      message: redactSecrets(stringProp(error, 'message') ?? networkCode),
      retryAfterSeconds: undefined,
    };
  }
  if (error.name === 'AbortError') {
    return {
      kind: 'transient',
      status: undefined,
      code: 'Aborted',
      message: redactSecrets(stringProp(error, 'message') ?? 'aborted'),
      retryAfterSeconds: undefined,
    };
  }

  const { code, message } = errorCodeAndMessage(error);
  if (code !== undefined) {
    const text = message ?? code;
    const byCode = classifyCode(code, text);
    if (byCode === 'transient') return { kind: 'transient', status, code, message: text, retryAfterSeconds: undefined };
    if (byCode === 'notFound') return { kind: 'notFound', status, code, message: text };
    if (isThrottleMessage(text)) {
      const retryAfter = options.defaultRetryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
      return {
        kind: 'throttled',
        status: 429,
        retryAfterSeconds: retryAfter,
        source: 'unknown',
        policy: undefined,
        code,
        message: text,
      };
    }
    return { kind: 'permanent', status, code, message: text };
  }
  if (error.cause !== undefined && error.cause !== error) return classifyError(error.cause, options);
  return {
    kind: 'permanent',
    status,
    code: 'UnknownError',
    message: redactSecrets(stringProp(error, 'message') ?? 'unknown error'),
  };
}

const LRO_FAILURE = /^The long-running operation has failed\. ([A-Za-z][\w.]*)\. ([\s\S]*)$/;

/**
 * Pulls `{ code, message }` out of whatever carries an ARM error: a CloudError body (`{error:{code,message}}`,
 * or the unwrapped CRP form `{code,message}`), a RestError, a core-lro failure, JSON text. Messages are redacted.
 */
export function errorCodeAndMessage(error: unknown): { code: string | undefined; message: string | undefined } {
  if (typeof error === 'string') {
    const parsed = parseBody(error);
    if (parsed !== error) return errorCodeAndMessage(parsed);
    const lro = LRO_FAILURE.exec(error);
    return lro === null ? { code: undefined, message: redactSecrets(error) } : fromLro(lro);
  }
  if (!isObject(error)) return { code: undefined, message: undefined };

  if (error.name === 'RestError' || typeof error.statusCode === 'number') {
    const response = isObject(error.response) ? error.response : undefined;
    const fromDetails = cloudError(error.details);
    const fromText = typeof response?.bodyAsText === 'string' ? cloudError(parseBody(response.bodyAsText)) : {};
    const code = fromDetails.code ?? fromText.code ?? stringProp(error, 'code');
    const message = fromDetails.message ?? fromText.message ?? stringProp(error, 'message');
    return { code, message: message === undefined ? undefined : redactSecrets(message) };
  }
  if (error instanceof Error) {
    const lro = LRO_FAILURE.exec(error.message);
    if (lro !== null) return fromLro(lro);
  }
  const cloud = cloudError(error);
  return { code: cloud.code, message: cloud.message === undefined ? undefined : redactSecrets(cloud.message) };
}

/**
 * Seconds to wait from `retry-after-ms` / `x-ms-retry-after-ms` (milliseconds) or `Retry-After` (seconds, or an
 * HTTP date as the SDK's LRO poller accepts). Undefined when absent or unreadable; clamped to [0, a day].
 */
export function retryAfterSeconds(headers: HeadersLike | undefined, options: ClassifyOptions = {}): number | undefined {
  if (headers === undefined) return undefined;
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const value = header(headers, name);
    if (value !== undefined && /^\d+$/.test(value)) return clampSeconds(Math.ceil(Number(value) / 1000));
  }
  const value = header(headers, 'retry-after');
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value)) return clampSeconds(Number(value));
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return clampSeconds(Math.ceil((date - (options.now ?? Date.now())) / 1000));
}

/** Reads a header case-insensitively from any of the supported bags; repeated values are comma-joined. */
export function header(headers: HeadersLike, name: string): string | undefined {
  if (typeof headers.get === 'function') {
    const value = (headers as { get(n: string): string | null | undefined }).get(name);
    return value === null || value === undefined ? undefined : String(value);
  }
  const record = headers as Readonly<Record<string, string | readonly string[] | number | undefined>>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(', ') : String(value);
}

function classifyCode(code: string, message: string): 'transient' | 'permanent' | 'notFound' | undefined {
  const c = lc(code);
  if (NOT_FOUND_CODES.has(c)) return 'notFound';
  if (c === 'operationnotallowed') {
    // "Changes were made to the Virtual Machine while ... Please try again later." vs "... exclude these disk(s)".
    if (/exclude/i.test(message)) return 'permanent';
    return /changes were made|try again later|retry later/i.test(message) ? 'transient' : 'permanent';
  }
  if (c === 'vmrestorepointclienterror') {
    // Only the concurrent-create variant goes away by itself; the others (shared disk, 500 limit, COM+/VSS...) need a fix.
    return /concurrent/i.test(message) ? 'transient' : 'permanent';
  }
  if (TRANSIENT_CODES.has(c)) return 'transient';
  if (PERMANENT_CODES.has(c)) return 'permanent';
  return undefined;
}

function throttleSource(
  headers: HeadersLike | undefined,
  body: unknown,
  cloud: CloudErrorParts,
): { source: ThrottleSource; policy: string | undefined } {
  // CRP: {"code":"OperationNotAllowed","details":[{"code":"TooManyRequests","target":"HighCostGet30Min",...}]}.
  const details = Array.isArray(cloud.details) ? (cloud.details as unknown[]) : [];
  const tooMany = details.find((d) => isObject(d) && lc(stringProp(d, 'code') ?? '') === 'toomanyrequests');
  if (isObject(tooMany)) return { source: 'compute', policy: stringProp(tooMany, 'target') };

  // x-ms-ratelimit-remaining-resource: Microsoft.Compute/HighCostGet30Min;0 (possibly several, comma-joined).
  const resource = headers === undefined ? undefined : header(headers, 'x-ms-ratelimit-remaining-resource');
  if (resource !== undefined) {
    const policies = resource.split(',').map((p) => p.trim().split(';'));
    const exhausted = policies.find(([, count]) => count !== undefined && Number(count.trim()) <= 0);
    const name = exhausted?.[0]?.trim();
    return { source: 'compute', policy: name === undefined ? undefined : name.replace(/^Microsoft\.Compute\//i, '') };
  }

  const code = lc(cloud.code ?? '');
  if (code === 'subscriptionrequeststhrottled' || code === 'tenantrequeststhrottled') {
    return { source: 'arm', policy: undefined };
  }
  if (headers !== undefined) {
    for (const scope of ['subscription', 'tenant']) {
      for (const op of ['reads', 'writes', 'deletes', 'global-reads', 'global-writes', 'global-deletes']) {
        const remaining = header(headers, `x-ms-ratelimit-remaining-${scope}-${op}`);
        if (remaining !== undefined && Number(remaining) <= 0) return { source: 'arm', policy: `${scope}-${op}` };
      }
    }
  }
  if (typeof body === 'string' ? isThrottleMessage(body) : isThrottleMessage(cloud.message)) {
    return { source: 'arm', policy: undefined };
  }
  return { source: 'unknown', policy: undefined };
}

function isThrottleMessage(text: string | undefined): boolean {
  return text !== undefined && /excessive volume of traffic|too many requests/i.test(text);
}

interface CloudErrorParts {
  code?: string;
  message?: string;
  details?: unknown;
}

/** `{error:{code,message,details}}` (ARM, CloudError) or `{code,message,details}` (CRP throttling, LRO status `error`). */
function cloudError(body: unknown): CloudErrorParts {
  if (!isObject(body)) return {};
  const inner = isObject(body.error) ? body.error : body;
  return { code: stringProp(inner, 'code'), message: stringProp(inner, 'message'), details: inner.details };
}

function parseBody(body: unknown): unknown {
  if (typeof body !== 'string') return body;
  const trimmed = body.trim();
  if (!trimmed.startsWith('{')) return body;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return body;
  }
}

/** Text of a non-JSON body, shortened: proxies and gateways answer with HTML pages. */
function textOf(body: unknown): string | undefined {
  if (typeof body !== 'string' || body.trim() === '') return undefined;
  const text = body
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

function defaultCode(status: number): string {
  switch (status) {
    case 400:
      return 'BadRequest';
    case 401:
      return 'Unauthorized';
    case 403:
      return 'Forbidden';
    case 404:
      return 'NotFound';
    case 409:
      return 'Conflict';
    case 429:
      return 'TooManyRequests';
    case 501:
      return 'NotImplemented';
    case 503:
      return 'ServiceUnavailable';
    case 505:
      return 'HttpVersionNotSupported';
    default:
      return status >= 500 ? 'InternalServerError' : `Http${status}`;
  }
}

function networkErrorCode(error: Record<string, unknown>): string | undefined {
  const code = stringProp(error, 'code');
  if (code !== undefined && NETWORK_ERROR_CODES.has(code.toUpperCase())) return code;
  // fetch() wraps the socket error: TypeError('fetch failed', { cause: { code: 'ECONNRESET' } }).
  if (isObject(error.cause)) return networkErrorCode(error.cause);
  return undefined;
}

function fromLro(match: RegExpExecArray): { code: string | undefined; message: string | undefined } {
  return { code: match[1], message: redactSecrets(match[2] ?? '') };
}

function asHeaders(value: unknown): HeadersLike | undefined {
  if (!isObject(value)) return undefined;
  if (typeof value.get === 'function') return value as { get(name: string): string | undefined };
  return value as Record<string, string | undefined>;
}

function clampSeconds(seconds: number): number {
  return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(0, seconds));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function stringProp(value: Record<string, unknown>, key: string): string | undefined {
  const v = value[key];
  return typeof v === 'string' ? v : undefined;
}

function lc(value: string): string {
  return value.toLowerCase();
}
