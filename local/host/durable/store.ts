/**
 * Persistence for the Durable engine: instances, per-execution history and the pending-message
 * inbox (protocol doc §7, §9.3). The engine caches what it needs; a store only has to be durable.
 */
import type { HistoryEvent, RuntimeStatus } from './protocol';

export interface ParentRef {
  instanceId: string;
  executionId: string;
  name: string;
  taskScheduleId: number;
}

export interface InstanceRecord {
  instanceId: string;
  name: string;
  version: string;
  executionId: string;
  runtimeStatus: RuntimeStatus;
  /** JSON text, or null. */
  input: string | null;
  /** JSON text (or a terminate reason), or null. */
  output: string | null;
  customStatus: string | null;
  createdTime: number;
  lastUpdatedTime: number;
  completedTime: number | null;
  parent: ParentRef | null;
}

/** A message waiting for an orchestration episode (ExecutionStarted, TaskCompleted, EventRaised, …). */
export interface InboxMessage {
  /** Unique and increasing in arrival order within an instance (the Pending table RowKey). */
  id: string;
  instanceId: string;
  /** The execution it is for; null = whatever execution is current (raiseEvent, terminate). */
  executionId: string | null;
  event: HistoryEvent;
}

export interface DurableStore {
  readonly kind: 'memory' | 'table';
  /** Longest JSON text one value may have (Table storage: 64 KiB per property); undefined = no limit. */
  readonly maxValueLength?: number;
  getInstance(instanceId: string): Promise<InstanceRecord | undefined>;
  putInstance(record: InstanceRecord): Promise<void>;
  listInstances(): Promise<InstanceRecord[]>;
  /** The events of one execution, in order. */
  readHistory(instanceId: string, executionId: string): Promise<HistoryEvent[]>;
  /** Writes `events` at positions `fromIndex`… of the execution (rows beyond belong to older executions). */
  appendHistory(
    instanceId: string,
    executionId: string,
    fromIndex: number,
    events: readonly HistoryEvent[],
  ): Promise<void>;
  addMessages(messages: readonly InboxMessage[]): Promise<void>;
  /** Every pending message, ordered by id within an instance. */
  readMessages(): Promise<InboxMessage[]>;
  deleteMessages(instanceId: string, ids: readonly string[]): Promise<void>;
  /** Deletes the instance row, its history and its inbox; false when there was no instance. */
  purgeInstance(instanceId: string): Promise<boolean>;
  close(): Promise<void>;
}

interface StoredHistory {
  executionId: string;
  events: HistoryEvent[];
}

/** Everything in maps; copies on the way in and out so callers cannot alias stored state. */
export class MemoryStore implements DurableStore {
  readonly kind = 'memory' as const;
  private readonly instances = new Map<string, InstanceRecord>();
  private readonly histories = new Map<string, StoredHistory>();
  private readonly inbox = new Map<string, Map<string, InboxMessage>>();

  getInstance(instanceId: string): Promise<InstanceRecord | undefined> {
    const record = this.instances.get(instanceId);
    return Promise.resolve(record ? copyRecord(record) : undefined);
  }

  putInstance(record: InstanceRecord): Promise<void> {
    this.instances.set(record.instanceId, copyRecord(record));
    return Promise.resolve();
  }

  listInstances(): Promise<InstanceRecord[]> {
    return Promise.resolve([...this.instances.values()].map(copyRecord));
  }

  readHistory(instanceId: string, executionId: string): Promise<HistoryEvent[]> {
    const stored = this.histories.get(instanceId);
    if (!stored || stored.executionId !== executionId) return Promise.resolve([]);
    return Promise.resolve(stored.events.map((event) => ({ ...event })));
  }

  appendHistory(
    instanceId: string,
    executionId: string,
    fromIndex: number,
    events: readonly HistoryEvent[],
  ): Promise<void> {
    let stored = this.histories.get(instanceId);
    if (!stored || stored.executionId !== executionId) {
      stored = { executionId, events: [] };
      this.histories.set(instanceId, stored);
    }
    stored.events.length = Math.min(stored.events.length, fromIndex);
    for (const event of events) stored.events.push({ ...event });
    return Promise.resolve();
  }

  addMessages(messages: readonly InboxMessage[]): Promise<void> {
    for (const message of messages) {
      const box = this.inbox.get(message.instanceId) ?? new Map<string, InboxMessage>();
      box.set(message.id, { ...message, event: { ...message.event } });
      this.inbox.set(message.instanceId, box);
    }
    return Promise.resolve();
  }

  readMessages(): Promise<InboxMessage[]> {
    const all: InboxMessage[] = [];
    for (const box of this.inbox.values()) {
      all.push(...[...box.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
    }
    return Promise.resolve(all.map((m) => ({ ...m, event: { ...m.event } })));
  }

  deleteMessages(instanceId: string, ids: readonly string[]): Promise<void> {
    const box = this.inbox.get(instanceId);
    if (box) {
      for (const id of ids) box.delete(id);
      if (box.size === 0) this.inbox.delete(instanceId);
    }
    return Promise.resolve();
  }

  purgeInstance(instanceId: string): Promise<boolean> {
    const existed = this.instances.delete(instanceId);
    this.histories.delete(instanceId);
    this.inbox.delete(instanceId);
    return Promise.resolve(existed);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function copyRecord(record: InstanceRecord): InstanceRecord {
  return { ...record, parent: record.parent ? { ...record.parent } : null };
}

export function createMemoryStore(): DurableStore {
  return new MemoryStore();
}
