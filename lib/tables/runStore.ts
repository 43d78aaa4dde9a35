import { odata, type TableClient } from '@azure/data-tables';
import { decodeKeyPart, encodeKeyPart } from '../tableKeys';
import { ValidationError, type ValidationIssue } from '../validation';
import { redactSecrets } from '../redact';
import { truncateText } from './entityText';
import { type OutcomeStatus, OUTCOME_STATUSES, type Trigger, TRIGGERS } from './outcomeStore';
import { statusOf } from './tableClients';

/**
 * Table `RpoRuns`: one entity per orchestration run, with counts by outcome status.
 * PartitionKey = the run kind (`policyRun`, `backup`, …: few partitions, each listable on its own);
 * RowKey = the run id (its orchestration instance id), escaped like every key. Times are stored as
 * canonical ISO strings (`toISOString`) so that time filters compare correctly.
 */

export const RUN_KINDS = [
  'policyRun',
  'vmSetBackup',
  'vmBackup',
  'backup',
  'copyRestorePoint',
  'disasterRecovery',
  'restoreVm',
  'onboarding',
] as const;
export type RunKind = (typeof RUN_KINDS)[number];

/** `Missed`: a scheduled slot that nobody ran within its start window (recorded once, by scheduleTick). */
export const RUN_STATES = [
  'Pending',
  'Running',
  'Succeeded',
  'PartiallySucceeded',
  'Failed',
  'Canceled',
  'Missed',
] as const;
export type RunState = (typeof RUN_STATES)[number];

export type RunCounts = Readonly<Record<OutcomeStatus, number>>;

export interface RunRecord {
  readonly runId: string;
  readonly kind: RunKind;
  readonly state: RunState;
  readonly trigger: Trigger;
  readonly policy?: string;
  /** ISO 8601. */
  readonly startedAt: string;
  readonly finishedAt?: string;
  /** How many VMs (or operations) the run covers in total, when known. */
  readonly total?: number;
  readonly counts: RunCounts;
  /** Availability set / flexible scale set runs: first to last member creation time, in seconds. */
  readonly skewSeconds?: number;
  /** Short summary for an operator (truncated, secrets redacted). */
  readonly message?: string;
}

export function emptyCounts(): RunCounts {
  return { Succeeded: 0, Failed: 0, Skipped: 0, Missed: 0 };
}

function checkRun(run: RunRecord): void {
  const issues: ValidationIssue[] = [];
  if (typeof run.runId !== 'string' || run.runId === '')
    issues.push({ field: 'runId', rule: 'required', message: 'must be a non-empty string' });
  if (!RUN_KINDS.includes(run.kind))
    issues.push({ field: 'kind', rule: 'enum', message: `must be one of ${RUN_KINDS.join(', ')}` });
  if (!RUN_STATES.includes(run.state))
    issues.push({ field: 'state', rule: 'enum', message: `must be one of ${RUN_STATES.join(', ')}` });
  if (!TRIGGERS.includes(run.trigger))
    issues.push({ field: 'trigger', rule: 'enum', message: `must be one of ${TRIGGERS.join(', ')}` });
  for (const field of ['startedAt', 'finishedAt'] as const) {
    const value = run[field];
    if (
      (field === 'startedAt' || value !== undefined) &&
      !(typeof value === 'string' && Number.isFinite(Date.parse(value)))
    ) {
      issues.push({ field, rule: 'date', message: 'must be an ISO 8601 date-time' });
    }
  }
  if (run.total !== undefined && !(Number.isInteger(run.total) && run.total >= 0)) {
    issues.push({ field: 'total', rule: 'count', message: 'must be a whole number ≥ 0' });
  }
  for (const status of OUTCOME_STATUSES) {
    const n = run.counts?.[status];
    if (!(Number.isInteger(n) && n >= 0))
      issues.push({ field: `counts.${status}`, rule: 'count', message: 'must be a whole number ≥ 0' });
  }
  if (issues.length > 0) throw new ValidationError('run', issues);
}

type RunEntity = Record<string, string | number | undefined> & { partitionKey: string; rowKey: string };

function toEntity(run: RunRecord): RunEntity {
  checkRun(run);
  const entity: RunEntity = {
    partitionKey: run.kind,
    rowKey: encodeKeyPart(run.runId),
    runId: run.runId,
    kind: run.kind,
    state: run.state,
    trigger: run.trigger,
    // Canonical ISO so that `since` filters compare as strings.
    startedAt: new Date(run.startedAt).toISOString(),
    countSucceeded: run.counts.Succeeded,
    countFailed: run.counts.Failed,
    countSkipped: run.counts.Skipped,
    countMissed: run.counts.Missed,
  };
  if (run.policy !== undefined) entity.policy = run.policy;
  if (run.finishedAt !== undefined) entity.finishedAt = new Date(run.finishedAt).toISOString();
  if (run.total !== undefined) entity.total = run.total;
  if (run.skewSeconds !== undefined) entity.skewSeconds = run.skewSeconds;
  if (run.message !== undefined) entity.message = truncateText(redactSecrets(run.message), 4000);
  return entity;
}

function fromEntity(entity: Record<string, unknown>): RunRecord {
  const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
  const run: Record<string, unknown> = {
    runId: typeof entity.runId === 'string' ? entity.runId : decodeKeyPart(String(entity.rowKey)),
    kind: entity.kind ?? entity.partitionKey,
    state: entity.state,
    trigger: entity.trigger,
    startedAt: entity.startedAt,
    counts: {
      Succeeded: num(entity.countSucceeded),
      Failed: num(entity.countFailed),
      Skipped: num(entity.countSkipped),
      Missed: num(entity.countMissed),
    },
  };
  for (const field of ['policy', 'finishedAt', 'total', 'skewSeconds', 'message']) {
    if (entity[field] !== undefined && entity[field] !== null) run[field] = entity[field];
  }
  return run as unknown as RunRecord;
}

export class RunStore {
  constructor(private readonly client: TableClient) {}

  /** Creates or replaces the run's entity (a retried write is harmless). */
  async upsert(run: RunRecord): Promise<void> {
    await this.client.upsertEntity(toEntity(run), 'Replace');
  }

  /** The run, by kind and id; without a kind, looked up across kinds. */
  async get(runId: string, kind?: RunKind): Promise<RunRecord | undefined> {
    if (kind !== undefined) {
      try {
        return fromEntity(await this.client.getEntity(kind, encodeKeyPart(runId)));
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    }
    const entities = this.client.listEntities({ queryOptions: { filter: odata`RowKey eq ${encodeKeyPart(runId)}` } });
    for await (const entity of entities) return fromEntity(entity);
    return undefined;
  }

  /** Runs, newest first (by startedAt), optionally of one kind / policy / since a time, at most `top`. */
  async list(
    options: { kind?: RunKind; policy?: string; since?: Date | string; top?: number } = {},
  ): Promise<RunRecord[]> {
    const filters: string[] = [];
    if (options.kind !== undefined) filters.push(odata`PartitionKey eq ${options.kind}`);
    if (options.policy !== undefined) filters.push(odata`policy eq ${options.policy}`);
    if (options.since !== undefined) filters.push(odata`startedAt ge ${new Date(options.since).toISOString()}`);
    const entities = this.client.listEntities(
      filters.length > 0 ? { queryOptions: { filter: filters.join(' and ') } } : {},
    );
    const runs: RunRecord[] = [];
    for await (const entity of entities) runs.push(fromEntity(entity));
    runs.sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : a.runId < b.runId ? -1 : 1));
    return options.top === undefined ? runs : runs.slice(0, options.top);
  }
}
