/** The messages the engine sends between instances, and the rows it rebuilds from them. */
import { randomUUID } from 'node:crypto';
import { EventType, type HistoryEvent } from './protocol';
import type { InboxMessage, InstanceRecord, ParentRef } from './store';

export type NewMessage = Omit<InboxMessage, 'id'>;

/** DTFx/extension: a new execution id is a GUID in "N" format. */
export function newExecutionId(): string {
  return randomUUID().replace(/-/g, '');
}

/** A new event as a message carries it: no sequence number, not played. */
export function baseEvent(nowMs: number, type: EventType): HistoryEvent {
  return { EventType: type, EventId: -1, IsPlayed: false, Timestamp: new Date(nowMs).toISOString() };
}

/** The ExecutionStarted message that starts `record`'s execution (with its parent, for a sub-orchestration). */
export function startMessage(record: InstanceRecord, nowMs: number): NewMessage {
  const parent = record.parent;
  return {
    instanceId: record.instanceId,
    executionId: record.executionId,
    event: {
      ...baseEvent(nowMs, EventType.ExecutionStarted),
      OrchestrationInstance: { InstanceId: record.instanceId, ExecutionId: record.executionId },
      ParentInstance: parent
        ? {
            Name: parent.name,
            Version: '',
            OrchestrationInstance: { InstanceId: parent.instanceId, ExecutionId: parent.executionId },
            TaskScheduleId: parent.taskScheduleId,
          }
        : null,
      Name: record.name,
      Version: record.version,
      Input: record.input,
      Tags: null,
      Correlation: null,
      ScheduledStartTime: null,
      Generation: 0,
    },
  };
}

/** Rebuilds an instance row from its ExecutionStarted message (the row write was lost in a crash). */
export function recordFromStart(message: InboxMessage): InstanceRecord {
  const event = message.event;
  const parent = event.ParentInstance;
  const created = Date.parse(event.Timestamp);
  return {
    instanceId: message.instanceId,
    name: event.Name ?? '',
    version: event.Version ?? '',
    executionId: event.OrchestrationInstance?.ExecutionId ?? message.executionId ?? newExecutionId(),
    runtimeStatus: 'Pending',
    input: event.Input ?? null,
    output: null,
    customStatus: null,
    createdTime: created,
    lastUpdatedTime: created,
    completedTime: null,
    parent: parent
      ? {
          instanceId: parent.OrchestrationInstance.InstanceId,
          executionId: parent.OrchestrationInstance.ExecutionId,
          name: parent.Name,
          taskScheduleId: parent.TaskScheduleId,
        }
      : null,
  };
}

/** The finished child's result for its parent: SubOrchestrationInstanceCompleted or …Failed. */
export function parentNotification(child: InstanceRecord, nowMs: number): NewMessage {
  const parent = child.parent as ParentRef;
  const completed = child.runtimeStatus === 'Completed';
  const event: HistoryEvent = completed
    ? {
        ...baseEvent(nowMs, EventType.SubOrchestrationInstanceCompleted),
        TaskScheduledId: parent.taskScheduleId,
        Result: child.output ?? 'null',
      }
    : {
        ...baseEvent(nowMs, EventType.SubOrchestrationInstanceFailed),
        TaskScheduledId: parent.taskScheduleId,
        Reason:
          child.runtimeStatus === 'Terminated'
            ? `Sub-orchestration '${child.instanceId}' was terminated: ${child.output ?? ''}`
            : (child.output ?? `Sub-orchestration '${child.instanceId}' failed`),
        Details: '',
      };
  return { instanceId: parent.instanceId, executionId: parent.executionId, event };
}
