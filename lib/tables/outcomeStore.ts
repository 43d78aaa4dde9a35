import { odata, type TableClient, type TableEntityResult, type TransactionAction } from '@azure/data-tables';
import { OPERATIONS, type Operation, outcomeRowKey, rowKeyBoundSince, vmPartitionKey } from '../tableKeys';
import { ValidationError, type ValidationIssue } from '../validation';
import { redactSecrets } from '../redact';
import { fitJsonArray, MAX_PROPERTY_CHARS, truncateText } from './entityText';

/**
 * Table `RpoOutcomes` (DESIGN §5): one entity per operation on one VM.
 * PartitionKey = {@link vmPartitionKey}(vmId); RowKey = inverted startedAt + operation + restore point name
 * + runId (see {@link outcomeRowKey}): a retried write of the same outcome lands on the same row. Writes are upserts in entity group transactions
 * of at most 100 per partition, so a retried batch is idempotent.
 */

export const OUTCOME_STATUSES = ['Succeeded', 'Failed', 'Skipped', 'Missed'] as const;
export type OutcomeStatus = (typeof OUTCOME_STATUSES)[number];
export const TRIGGERS = ['timer', 'eventGrid', 'http'] as const;
export type Trigger = (typeof TRIGGERS)[number];

export interface ExcludedDisk {
  readonly id: string;
  readonly reason: string;
}

/** One outcome as the app handles it; stored with `excludedDisks` and `warnings` as JSON strings. */
export interface Outcome {
  readonly vmId: string;
  readonly operation: Operation;
  readonly status: OutcomeStatus;
  readonly trigger: Trigger;
  readonly runId: string;
  /** ISO 8601; orders the rows (newest first). */
  readonly startedAt: string;
  readonly policy?: string;
  readonly restorePointId?: string;
  /** As created (`ApplicationConsistent`, `FileSystemConsistent`, `CrashConsistent`). */
  readonly consistencyMode?: string;
  /** App-consistent failed for a VM-side reason and crash-consistent was taken instead. */
  readonly fallback?: boolean;
  readonly excludedDisks?: readonly ExcludedDisk[];
  readonly warnings?: readonly string[];
  readonly attempts?: number;
  /** How many HTTP 429s were met. */
  readonly throttled?: number;
  readonly finishedAt?: string;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  readonly copyTargetRegion?: string;
  readonly copyPercent?: number;
}

/** The entity as stored (DESIGN §5 field names). */
export interface OutcomeEntity {
  partitionKey: string;
  rowKey: string;
  vmId: string;
  operation: Operation;
  status: OutcomeStatus;
  trigger: Trigger;
  runId: string;
  startedAt: string;
  policy?: string;
  restorePointId?: string;
  consistencyMode?: string;
  fallback?: boolean;
  /** JSON `[{ id, reason }]`. */
  excludedDisks?: string;
  /** JSON array of strings. */
  warnings?: string;
  attempts?: number;
  throttled?: number;
  finishedAt?: string;
  errorCode?: string;
  errorMessage?: string;
  copyTargetRegion?: string;
  copyPercent?: number;
}

/** Entity group transactions: ≤ 100 operations and ≤ 4 MiB; we cut at 3 MiB of JSON to leave room for the envelope. */
export const MAX_BATCH_OPERATIONS = 100;
const MAX_BATCH_BYTES = 3 * 1024 * 1024;

const OPTIONAL_STRINGS = [
  'policy',
  'restorePointId',
  'consistencyMode',
  'finishedAt',
  'errorCode',
  'errorMessage',
  'copyTargetRegion',
] as const;
const OPTIONAL_COUNTS = ['attempts', 'throttled'] as const;

/** Checks an outcome at runtime (no schema library): every problem, each naming its field. */
export function checkOutcome(value: unknown): Outcome {
  const issues: ValidationIssue[] = [];
  const issue = (field: string, rule: string, message: string): void => {
    issues.push({ field, rule, message });
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError('outcome', [{ field: '', rule: 'type', message: 'must be an object' }]);
  }
  const o = value as Record<string, unknown>;
  const requireString = (field: string): void => {
    if (typeof o[field] !== 'string' || o[field] === '') issue(field, 'required', 'must be a non-empty string');
  };
  const requireOneOf = (field: string, allowed: readonly string[]): void => {
    if (!allowed.includes(o[field] as string)) issue(field, 'enum', `must be one of ${allowed.join(', ')}`);
  };
  requireString('vmId');
  requireString('runId');
  requireOneOf('operation', OPERATIONS);
  requireOneOf('status', OUTCOME_STATUSES);
  requireOneOf('trigger', TRIGGERS);
  if (typeof o.startedAt !== 'string' || !Number.isFinite(Date.parse(o.startedAt))) {
    issue('startedAt', 'date', 'must be an ISO 8601 date-time');
  }
  for (const field of OPTIONAL_STRINGS) {
    if (o[field] !== undefined && typeof o[field] !== 'string') issue(field, 'type', 'must be a string');
  }
  if (typeof o.finishedAt === 'string' && !Number.isFinite(Date.parse(o.finishedAt))) {
    issue('finishedAt', 'date', 'must be an ISO 8601 date-time');
  }
  for (const field of OPTIONAL_COUNTS) {
    const n = o[field];
    if (n !== undefined && !(Number.isInteger(n) && (n as number) >= 0))
      issue(field, 'count', 'must be a whole number ≥ 0');
  }
  if (
    o.copyPercent !== undefined &&
    !(typeof o.copyPercent === 'number' && o.copyPercent >= 0 && o.copyPercent <= 100)
  ) {
    issue('copyPercent', 'range', 'must be a number from 0 to 100');
  }
  if (o.fallback !== undefined && typeof o.fallback !== 'boolean') issue('fallback', 'type', 'must be true or false');
  if (o.warnings !== undefined && !(Array.isArray(o.warnings) && o.warnings.every((w) => typeof w === 'string'))) {
    issue('warnings', 'type', 'must be a list of strings');
  }
  if (
    o.excludedDisks !== undefined &&
    !(
      Array.isArray(o.excludedDisks) &&
      o.excludedDisks.every(
        (d: unknown) =>
          typeof d === 'object' &&
          d !== null &&
          typeof (d as ExcludedDisk).id === 'string' &&
          typeof (d as ExcludedDisk).reason === 'string',
      )
    )
  ) {
    issue('excludedDisks', 'type', 'must be a list of { id, reason } strings');
  }
  if (issues.length > 0) throw new ValidationError('outcome', issues);
  return value as Outcome;
}

/** Last segment of a restore point id: the name in the RowKey. */
function restorePointNameOf(restorePointId: string | undefined): string {
  if (restorePointId === undefined) return '';
  const match = /\/restorePoints\/([^/]+)\/?$/i.exec(restorePointId);
  return match ? (match[1] as string) : '';
}

/** `rowKey` of an outcome: newest first, then operation, point name and run. */
export function outcomeRowKeyOf(outcome: Outcome): string {
  return outcomeRowKey(
    Date.parse(outcome.startedAt),
    outcome.operation,
    restorePointNameOf(outcome.restorePointId),
    outcome.runId,
  );
}

/** Builds the stored entity: keys, JSON columns, long text truncated with a marker, secrets redacted. */
export function toOutcomeEntity(outcome: Outcome): OutcomeEntity {
  checkOutcome(outcome);
  const text = (s: string): string => truncateText(s, MAX_PROPERTY_CHARS);
  const entity: OutcomeEntity = {
    partitionKey: vmPartitionKey(outcome.vmId),
    rowKey: outcomeRowKeyOf(outcome),
    vmId: text(outcome.vmId),
    operation: outcome.operation,
    status: outcome.status,
    trigger: outcome.trigger,
    runId: text(outcome.runId),
    startedAt: outcome.startedAt,
  };
  for (const field of OPTIONAL_STRINGS) {
    const value = outcome[field];
    if (value === undefined) continue;
    entity[field] = field === 'errorMessage' ? text(redactSecrets(value)) : text(value);
  }
  if (outcome.fallback !== undefined) entity.fallback = outcome.fallback;
  if (outcome.attempts !== undefined) entity.attempts = outcome.attempts;
  if (outcome.throttled !== undefined) entity.throttled = outcome.throttled;
  if (outcome.copyPercent !== undefined) entity.copyPercent = outcome.copyPercent;
  if (outcome.warnings !== undefined) {
    entity.warnings = fitJsonArray(
      outcome.warnings.map((w) => truncateText(redactSecrets(w), 4000)),
      (n) => `[${n} more warnings truncated]`,
    );
  }
  if (outcome.excludedDisks !== undefined) {
    entity.excludedDisks = fitJsonArray(
      outcome.excludedDisks.map((d) => ({
        id: truncateText(redactSecrets(d.id), 2000),
        reason: truncateText(redactSecrets(d.reason), 2000),
      })),
      (n) => ({ id: '', reason: `[${n} more excluded disks truncated]` }),
    );
  }
  return entity;
}

/** Reads an entity back into an {@link Outcome}. */
export function fromOutcomeEntity(entity: Record<string, unknown>): Outcome {
  const out: Record<string, unknown> = {
    vmId: entity.vmId,
    operation: entity.operation,
    status: entity.status,
    trigger: entity.trigger,
    runId: entity.runId,
    startedAt: entity.startedAt,
  };
  for (const field of [...OPTIONAL_STRINGS, ...OPTIONAL_COUNTS, 'fallback', 'copyPercent'] as const) {
    if (entity[field] !== undefined && entity[field] !== null) out[field] = entity[field];
  }
  if (typeof entity.warnings === 'string') out.warnings = JSON.parse(entity.warnings) as string[];
  if (typeof entity.excludedDisks === 'string') out.excludedDisks = JSON.parse(entity.excludedDisks) as ExcludedDisk[];
  return out as unknown as Outcome;
}

export interface ListOutcomesOptions {
  /** At most this many, newest first. */
  readonly top?: number;
  /** Only outcomes started at or after this time. */
  readonly since?: Date | string | number;
}

export class OutcomeStore {
  private submitted = 0;

  constructor(private readonly client: TableClient) {}

  /** Entity group transactions submitted by this store so far (for tests and metrics). */
  get transactionsSubmitted(): number {
    return this.submitted;
  }

  /**
   * Writes outcomes, grouped by VM partition, in transactions of at most 100 upserts (and < 4 MiB).
   * Validates all before writing any. Rows already written by an earlier attempt are simply replaced.
   */
  async writeOutcomes(outcomes: readonly Outcome[]): Promise<void> {
    const byPartition = new Map<string, Map<string, OutcomeEntity>>();
    for (const outcome of outcomes) {
      const entity = toOutcomeEntity(outcome);
      let rows = byPartition.get(entity.partitionKey);
      if (rows === undefined) {
        rows = new Map<string, OutcomeEntity>();
        byPartition.set(entity.partitionKey, rows);
      }
      // One operation per entity per transaction: a duplicate row in the input keeps its last version.
      rows.set(entity.rowKey, entity);
    }
    for (const rows of byPartition.values()) {
      for (const batch of batches([...rows.values()])) {
        const actions: TransactionAction[] = batch.map((entity) => ['upsert', { ...entity }, 'Replace']);
        await this.client.submitTransaction(actions);
        this.submitted++;
      }
    }
  }

  /** A VM's outcomes, newest first. */
  async listOutcomesForVm(vmId: string, options: ListOutcomesOptions = {}): Promise<Outcome[]> {
    const partitionKey = vmPartitionKey(vmId);
    let filter = odata`PartitionKey eq ${partitionKey}`;
    if (options.since !== undefined) {
      const since = new Date(options.since).getTime();
      if (!Number.isFinite(since)) {
        throw new ValidationError('outcome query', [{ field: 'since', rule: 'date', message: 'must be a date' }]);
      }
      filter += odata` and RowKey lt ${rowKeyBoundSince(since)}`;
    }
    const top = options.top;
    if (top !== undefined && !(Number.isInteger(top) && top >= 1)) {
      throw new ValidationError('outcome query', [
        { field: 'top', rule: 'minimum', message: 'must be a whole number ≥ 1' },
      ]);
    }
    const out: Outcome[] = [];
    const pages = this.client
      .listEntities<Record<string, unknown>>({ queryOptions: { filter } })
      .byPage({ maxPageSize: top === undefined ? 1000 : Math.min(top, 1000) });
    // Within a partition the service returns rows in RowKey order, which is newest first.
    for await (const page of pages) {
      for (const entity of page) {
        out.push(fromOutcomeEntity(entity));
        if (top !== undefined && out.length >= top) return out;
      }
    }
    return out;
  }

  /** Every outcome of one run (all VMs), newest first; a cross-partition query. */
  async listOutcomesForRun(runId: string): Promise<Outcome[]> {
    const out: { rowKey: string; outcome: Outcome }[] = [];
    const entities = this.client.listEntities<Record<string, unknown>>({
      queryOptions: { filter: odata`runId eq ${runId}` },
    });
    for await (const entity of entities as AsyncIterable<TableEntityResult<Record<string, unknown>>>) {
      out.push({ rowKey: entity.rowKey ?? '', outcome: fromOutcomeEntity(entity) });
    }
    return out
      .sort((a, b) => compareStrings(a.rowKey, b.rowKey) || compareStrings(a.outcome.vmId, b.outcome.vmId))
      .map((o) => o.outcome);
  }
}

function* batches(entities: readonly OutcomeEntity[]): Generator<OutcomeEntity[]> {
  let batch: OutcomeEntity[] = [];
  let bytes = 0;
  for (const entity of entities) {
    const size = Buffer.byteLength(JSON.stringify(entity), 'utf8') + 512;
    if (batch.length > 0 && (batch.length >= MAX_BATCH_OPERATIONS || bytes + size > MAX_BATCH_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(entity);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
