import { ArmError } from './armErrors';

/**
 * Fault injection for tests and demos (DESIGN §6: `POST /_emulator/faults`). A fault answers the
 * next `times` matching requests with `status` and a CloudError `{ code, message }` (plus
 * `Retry-After` when given) instead of running them. With `phase: 'operation'` (an emulator
 * extension) the request is accepted and its long-running operation ends Failed with that error.
 */
export interface FaultSpec {
  method?: string;
  /** A case-insensitive regular expression tested against the request path (no query string). */
  pathPattern?: string;
  status: number;
  code?: string;
  message?: string;
  retryAfterSeconds?: number;
  /** How many requests it answers; default 1. */
  times?: number;
  phase?: 'request' | 'operation';
}

interface ActiveFault {
  spec: FaultSpec;
  pattern?: RegExp;
  remaining: number;
}

const FAULT_FIELDS = new Set([
  'method',
  'pathPattern',
  'status',
  'code',
  'message',
  'retryAfterSeconds',
  'times',
  'phase',
]);

export function parseFaultSpec(input: unknown): FaultSpec {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new TypeError(
      'fault: the body must be a JSON object { method?, pathPattern?, status, code?, message?, retryAfterSeconds?, times? }',
    );
  }
  const body = input as Record<string, unknown>;
  // A misspelt field (e.g. `path` for `pathPattern`) would silently widen the fault to every request.
  const unknown = Object.keys(body).filter((key) => !FAULT_FIELDS.has(key));
  if (unknown.length > 0) {
    throw new TypeError(
      `fault: unknown field ${unknown.map((k) => `"${k}"`).join(', ')}; allowed: ${[...FAULT_FIELDS].join(', ')}`,
    );
  }
  const status = body.status;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599) {
    throw new RangeError('fault.status must be an integer HTTP status from 200 to 599');
  }
  const spec: FaultSpec = { status };
  for (const field of ['method', 'pathPattern', 'code', 'message'] as const) {
    const value = body[field];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value === '') throw new TypeError(`fault.${field} must be a non-empty string`);
    spec[field] = value;
  }
  for (const field of ['retryAfterSeconds', 'times'] as const) {
    const value = body[field];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < (field === 'times' ? 1 : 0)) {
      throw new RangeError(`fault.${field} must be an integer ≥ ${field === 'times' ? 1 : 0}`);
    }
    spec[field] = value;
  }
  if (body.phase !== undefined) {
    if (body.phase !== 'request' && body.phase !== 'operation')
      throw new TypeError("fault.phase must be 'request' or 'operation'");
    spec.phase = body.phase;
  }
  if (spec.pathPattern !== undefined) {
    try {
      new RegExp(spec.pathPattern, 'i');
    } catch {
      throw new SyntaxError(`fault.pathPattern "${spec.pathPattern}" is not a valid regular expression`);
    }
  }
  return spec;
}

export class FaultInjector {
  private faults: ActiveFault[] = [];

  add(spec: FaultSpec): void {
    this.faults.push({
      spec,
      pattern: spec.pathPattern === undefined ? undefined : new RegExp(spec.pathPattern, 'i'),
      remaining: spec.times ?? 1,
    });
  }

  clear(): void {
    this.faults = [];
  }

  get size(): number {
    return this.faults.length;
  }

  /** The fault for this request, consuming one use; undefined when none matches. */
  match(method: string, path: string, phase: 'request' | 'operation'): ArmError | undefined {
    if (this.faults.length === 0) return undefined;
    const fault = this.faults.find(
      (f) =>
        (f.spec.phase ?? 'request') === phase &&
        (f.spec.method === undefined || f.spec.method.toUpperCase() === method) &&
        (f.pattern === undefined || f.pattern.test(path)),
    );
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults = this.faults.filter((f) => f !== fault);
    const { status, code, message, retryAfterSeconds } = fault.spec;
    const error = new ArmError(
      status,
      code ?? defaultCode(status),
      message ?? `Fault injected by the Compute emulator (${status}).`,
    );
    if (retryAfterSeconds !== undefined) error.withHeaders({ 'retry-after': String(retryAfterSeconds) });
    return error;
  }
}

function defaultCode(status: number): string {
  if (status === 429) return 'TooManyRequests';
  if (status === 409) return 'Conflict';
  if (status === 404) return 'NotFound';
  if (status === 503) return 'ServiceUnavailable';
  if (status >= 500) return 'InternalServerError';
  return 'BadRequest';
}
