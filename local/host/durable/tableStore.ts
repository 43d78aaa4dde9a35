/**
 * DurableStore on Table storage (Azurite) in the DurableTask.AzureStorage layout (protocol doc §7):
 * `{hub}Instances` (RowKey ""), `{hub}History` (RowKey = X16 sequence number, plus a `sentinel` row
 * written in the same batch), and a `{hub}Pending` inbox (RowKey = message id). Large-message blobs
 * are not used: a property must stay under Table storage's 64 KiB limit.
 */
import { RestError, TableClient, odata, type TableEntity, type TransactionAction } from '@azure/data-tables';
import {
  EventType,
  OrchestrationStatus,
  type HistoryEvent,
  type OrchestrationInstanceRef,
  type ParentInstanceInfo,
} from './protocol';
import type { DurableStore, InboxMessage, InstanceRecord, ParentRef } from './store';
import { isRuntimeStatus } from './protocol';

const MAX_BATCH_EVENTS = 99; // plus the sentinel: the 100-operation transaction limit
const SENTINEL = 'sentinel';

/** DTFx KeySanitation.EscapePartitionKey: `^ / \ # ?` and control characters are not allowed in keys. */
export function escapePartitionKey(value: string): string {
  let out = '';
  for (const c of value) {
    const code = c.charCodeAt(0);
    if (c === '^') out += '^^';
    else if (c === '/') out += '^0';
    else if (c === '\\') out += '^1';
    else if (c === '#') out += '^2';
    else if (c === '?') out += '^3';
    else if (code <= 0x1f || (code >= 0x7f && code <= 0x9f)) out += '^' + String.fromCharCode(code + 0xc0);
    else out += c;
  }
  return out;
}

/** Task hub names become table names: a letter, then letters and digits, 3–45 characters (DTFx rule). */
export function validateHubName(hubName: string): void {
  if (!/^[A-Za-z][A-Za-z0-9]{2,44}$/.test(hubName)) {
    throw new RangeError(
      `hubName "${hubName}" is invalid: it must start with a letter and contain 3–45 letters or digits`,
    );
  }
}

export function historyRowKey(index: number): string {
  return index.toString(16).toUpperCase().padStart(16, '0');
}

type Entity = TableEntity<Record<string, unknown>>;

function toDate(value: unknown): Date | undefined {
  if (value instanceof Date) return value;
  if (typeof value === 'string' || typeof value === 'number') {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? undefined : date;
  }
  if (typeof value === 'object' && value !== null && 'value' in value) return toDate(value.value);
  return undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function num(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value !== '' && Number.isFinite(Number(value))) return Number(value);
  if (typeof value === 'object' && value !== null && 'value' in value) return num(value.value);
  return undefined;
}

function json<T>(value: unknown): T | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    return JSON.parse(value) as T;
  } catch {
    return undefined;
  }
}

/** One history event as a DTFx table row: enum names, `_Timestamp`, complex values as JSON. */
export function historyEventToEntity(
  partitionKey: string,
  rowKey: string,
  executionId: string,
  event: HistoryEvent,
): Entity {
  const entity: Entity = {
    partitionKey,
    rowKey,
    ExecutionId: executionId,
    EventType: EventType[event.EventType],
    EventId: event.EventId,
    IsPlayed: event.IsPlayed,
    _Timestamp: new Date(event.Timestamp),
  };
  const put = (key: string, value: unknown): void => {
    if (value !== undefined && value !== null) entity[key] = value;
  };
  put('Name', event.Name);
  put('Version', event.Version);
  put('Input', event.Input);
  put('Result', event.Result);
  put('TaskScheduledId', event.TaskScheduledId);
  put('TimerId', event.TimerId);
  put('FireAt', event.FireAt === undefined ? undefined : new Date(event.FireAt));
  put('Reason', event.Reason);
  put('Details', event.Details);
  put('InstanceId', event.InstanceId);
  put('OrchestrationInstance', event.OrchestrationInstance ? JSON.stringify(event.OrchestrationInstance) : undefined);
  put('ParentInstance', event.ParentInstance ? JSON.stringify(event.ParentInstance) : undefined);
  put(
    'OrchestrationStatus',
    event.OrchestrationStatus === undefined ? undefined : OrchestrationStatus[event.OrchestrationStatus],
  );
  put('Tags', event.Tags ? JSON.stringify(event.Tags) : undefined);
  put('Generation', event.Generation);
  put('ScheduledStartTime', event.ScheduledStartTime ? new Date(event.ScheduledStartTime) : undefined);
  put('FailureDetails', event.FailureDetails === undefined ? undefined : JSON.stringify(event.FailureDetails));
  return entity;
}

export function entityToHistoryEvent(entity: Record<string, unknown>): HistoryEvent {
  const typeName = str(entity.EventType) ?? '';
  const type = (EventType as unknown as Record<string, EventType | undefined>)[typeName];
  if (type === undefined) throw new Error(`history row ${String(entity.rowKey)}: unknown EventType "${typeName}"`);
  const event: HistoryEvent = {
    EventType: type,
    EventId: num(entity.EventId) ?? -1,
    IsPlayed: entity.IsPlayed === true,
    Timestamp: (toDate(entity._Timestamp) ?? new Date(0)).toISOString(),
  };
  const name = str(entity.Name);
  if (name !== undefined) event.Name = name;
  const version = str(entity.Version);
  if (version !== undefined) event.Version = version;
  if (type === EventType.ExecutionStarted || typeof entity.Input === 'string') event.Input = str(entity.Input) ?? null;
  if (typeof entity.Result === 'string') event.Result = entity.Result;
  const taskScheduledId = num(entity.TaskScheduledId);
  if (taskScheduledId !== undefined) event.TaskScheduledId = taskScheduledId;
  const timerId = num(entity.TimerId);
  if (timerId !== undefined) event.TimerId = timerId;
  const fireAt = toDate(entity.FireAt);
  if (fireAt) event.FireAt = fireAt.toISOString();
  const reason = str(entity.Reason);
  if (reason !== undefined) event.Reason = reason;
  const details = str(entity.Details);
  if (details !== undefined) event.Details = details;
  const instanceId = str(entity.InstanceId);
  if (instanceId !== undefined) event.InstanceId = instanceId;
  const orchestrationInstance = json<OrchestrationInstanceRef>(entity.OrchestrationInstance);
  if (orchestrationInstance) event.OrchestrationInstance = orchestrationInstance;
  if (type === EventType.ExecutionStarted)
    event.ParentInstance = json<ParentInstanceInfo>(entity.ParentInstance) ?? null;
  const status = str(entity.OrchestrationStatus);
  if (status !== undefined && isRuntimeStatus(status)) event.OrchestrationStatus = OrchestrationStatus[status];
  const tags = json<Record<string, string>>(entity.Tags);
  if (tags) event.Tags = tags;
  const generation = num(entity.Generation);
  if (generation !== undefined) event.Generation = generation;
  const failureDetails = json<unknown>(entity.FailureDetails);
  if (failureDetails !== undefined) event.FailureDetails = failureDetails;
  return event;
}

function instanceToEntity(record: InstanceRecord, hubName: string): Entity {
  const entity: Entity = {
    partitionKey: escapePartitionKey(record.instanceId),
    rowKey: '',
    InstanceId: record.instanceId,
    Name: record.name,
    Version: record.version,
    ExecutionId: record.executionId,
    RuntimeStatus: record.runtimeStatus,
    CustomStatus: record.customStatus ?? 'null',
    CreatedTime: new Date(record.createdTime),
    LastUpdatedTime: new Date(record.lastUpdatedTime),
    TaskHubName: hubName,
    Generation: 0,
  };
  if (record.input !== null) entity.Input = record.input;
  if (record.output !== null) entity.Output = record.output;
  if (record.completedTime !== null) entity.CompletedTime = new Date(record.completedTime);
  if (record.parent) entity.ParentInstance = JSON.stringify(record.parent);
  return entity;
}

function entityToInstance(entity: Record<string, unknown>): InstanceRecord {
  const status = str(entity.RuntimeStatus) ?? 'Pending';
  const customStatus = str(entity.CustomStatus);
  return {
    instanceId: str(entity.InstanceId) ?? '',
    name: str(entity.Name) ?? '',
    version: str(entity.Version) ?? '',
    executionId: str(entity.ExecutionId) ?? '',
    runtimeStatus: isRuntimeStatus(status) ? status : 'Pending',
    input: str(entity.Input) ?? null,
    output: str(entity.Output) ?? null,
    customStatus: customStatus === undefined || customStatus === 'null' ? null : customStatus,
    createdTime: toDate(entity.CreatedTime)?.getTime() ?? 0,
    lastUpdatedTime: toDate(entity.LastUpdatedTime)?.getTime() ?? 0,
    completedTime: toDate(entity.CompletedTime)?.getTime() ?? null,
    parent: json<ParentRef>(entity.ParentInstance) ?? null,
  };
}

function isStatus(error: unknown, status: number): boolean {
  return error instanceof RestError && error.statusCode === status;
}

export class TableStore implements DurableStore {
  readonly kind = 'table' as const;
  /** 64 KiB of UTF-16 is 32,768 characters; the rest is room for the event around the value. */
  readonly maxValueLength = 30_000;

  private constructor(
    private readonly hubName: string,
    private readonly instances: TableClient,
    private readonly history: TableClient,
    private readonly pending: TableClient,
  ) {}

  static async open(connectionString: string, hubName: string): Promise<TableStore> {
    validateHubName(hubName);
    const client = (table: string): TableClient =>
      TableClient.fromConnectionString(connectionString, table, { allowInsecureConnection: true });
    const store = new TableStore(
      hubName,
      client(`${hubName}Instances`),
      client(`${hubName}History`),
      client(`${hubName}Pending`),
    );
    for (const table of [store.instances, store.history, store.pending]) {
      try {
        await table.createTable();
      } catch (error) {
        if (!isStatus(error, 409)) throw error;
      }
    }
    return store;
  }

  async getInstance(instanceId: string): Promise<InstanceRecord | undefined> {
    try {
      const entity = await this.instances.getEntity<Record<string, unknown>>(escapePartitionKey(instanceId), '');
      return entityToInstance(entity);
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  async putInstance(record: InstanceRecord): Promise<void> {
    await this.instances.upsertEntity(instanceToEntity(record, this.hubName), 'Replace');
  }

  async listInstances(): Promise<InstanceRecord[]> {
    const records: InstanceRecord[] = [];
    for await (const entity of this.instances.listEntities<Record<string, unknown>>({
      queryOptions: { filter: odata`RowKey eq ''` },
    })) {
      records.push(entityToInstance(entity));
    }
    return records;
  }

  async readHistory(instanceId: string, executionId: string): Promise<HistoryEvent[]> {
    const partitionKey = escapePartitionKey(instanceId);
    const rows: Array<Record<string, unknown>> = [];
    for await (const entity of this.history.listEntities<Record<string, unknown>>({
      queryOptions: { filter: odata`PartitionKey eq ${partitionKey} and ExecutionId eq ${executionId}` },
    })) {
      if (entity.rowKey !== SENTINEL) rows.push(entity);
    }
    rows.sort((a, b) => String(a.rowKey).localeCompare(String(b.rowKey)));
    return rows.map(entityToHistoryEvent);
  }

  async appendHistory(
    instanceId: string,
    executionId: string,
    fromIndex: number,
    events: readonly HistoryEvent[],
  ): Promise<void> {
    const partitionKey = escapePartitionKey(instanceId);
    for (let start = 0; start < events.length; start += MAX_BATCH_EVENTS) {
      const chunk = events.slice(start, start + MAX_BATCH_EVENTS);
      const actions: TransactionAction[] = chunk.map((event, i) => [
        'upsert',
        historyEventToEntity(partitionKey, historyRowKey(fromIndex + start + i), executionId, event),
        'Replace',
      ]);
      const last = start + chunk.length >= events.length;
      actions.push([
        'upsert',
        {
          partitionKey,
          rowKey: SENTINEL,
          ExecutionId: executionId,
          IsCheckpointComplete: last,
          CheckpointCompletedTimestamp: new Date(),
        },
        'Replace',
      ]);
      await this.history.submitTransaction(actions);
    }
  }

  async addMessages(messages: readonly InboxMessage[]): Promise<void> {
    const byPartition = new Map<string, InboxMessage[]>();
    for (const message of messages) {
      const key = escapePartitionKey(message.instanceId);
      byPartition.set(key, [...(byPartition.get(key) ?? []), message]);
    }
    await Promise.all(
      [...byPartition].map(async ([partitionKey, group]) => {
        const entities = group.map((message) => ({
          partitionKey,
          rowKey: message.id,
          InstanceId: message.instanceId,
          ExecutionId: message.executionId ?? '',
          EventType: EventType[message.event.EventType],
          Event: JSON.stringify(message.event),
        }));
        if (entities.length === 1 && entities[0]) {
          await this.pending.upsertEntity(entities[0], 'Replace');
          return;
        }
        for (let start = 0; start < entities.length; start += 100) {
          await this.pending.submitTransaction(
            entities.slice(start, start + 100).map((entity): TransactionAction => ['upsert', entity, 'Replace']),
          );
        }
      }),
    );
  }

  async readMessages(): Promise<InboxMessage[]> {
    const messages: InboxMessage[] = [];
    for await (const entity of this.pending.listEntities<Record<string, unknown>>()) {
      const event = json<HistoryEvent>(entity.Event);
      if (!event) continue;
      const executionId = str(entity.ExecutionId) ?? '';
      messages.push({
        id: String(entity.rowKey),
        instanceId: str(entity.InstanceId) ?? '',
        executionId: executionId === '' ? null : executionId,
        event,
      });
    }
    messages.sort((a, b) =>
      a.instanceId === b.instanceId ? a.id.localeCompare(b.id) : a.instanceId.localeCompare(b.instanceId),
    );
    return messages;
  }

  async deleteMessages(instanceId: string, ids: readonly string[]): Promise<void> {
    const partitionKey = escapePartitionKey(instanceId);
    for (let start = 0; start < ids.length; start += 100) {
      const chunk = ids.slice(start, start + 100);
      if (chunk.length === 1 && chunk[0] !== undefined) {
        await this.deleteIgnoringMissing(this.pending, partitionKey, chunk[0]);
        continue;
      }
      try {
        await this.pending.submitTransaction(
          chunk.map((rowKey): TransactionAction => ['delete', { partitionKey, rowKey }]),
        );
      } catch (error) {
        // A batch fails as a whole when one row is already gone (a replayed episode): delete one by one.
        if (!(error instanceof RestError)) throw error;
        for (const rowKey of chunk) await this.deleteIgnoringMissing(this.pending, partitionKey, rowKey);
      }
    }
  }

  async purgeInstance(instanceId: string): Promise<boolean> {
    const partitionKey = escapePartitionKey(instanceId);
    const existed = (await this.getInstance(instanceId)) !== undefined;
    for (const table of [this.history, this.pending]) {
      const keys: string[] = [];
      for await (const entity of table.listEntities({
        queryOptions: { filter: odata`PartitionKey eq ${partitionKey}`, select: ['RowKey'] },
      })) {
        keys.push(String(entity.rowKey));
      }
      for (let start = 0; start < keys.length; start += 100) {
        const chunk = keys.slice(start, start + 100);
        try {
          await table.submitTransaction(chunk.map((rowKey): TransactionAction => ['delete', { partitionKey, rowKey }]));
        } catch (error) {
          if (!(error instanceof RestError)) throw error;
          for (const rowKey of chunk) await this.deleteIgnoringMissing(table, partitionKey, rowKey);
        }
      }
    }
    if (existed) await this.deleteIgnoringMissing(this.instances, partitionKey, '');
    return existed;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private async deleteIgnoringMissing(table: TableClient, partitionKey: string, rowKey: string): Promise<void> {
    try {
      await table.deleteEntity(partitionKey, rowKey);
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
    }
  }
}

export async function createTableStore(connectionString: string, hubName: string): Promise<DurableStore> {
  return TableStore.open(connectionString, hubName);
}
