/** How an episode treats the messages in an instance's inbox: suspension and redelivered completions. */
import { EventType, type HistoryEvent, type RuntimeStatus } from './protocol';
import type { InboxMessage } from './store';

export function isActive(status: RuntimeStatus): boolean {
  return status === 'Running' || status === 'Suspended';
}

/**
 * DTFx suspension: while suspended only resume, terminate and further suspends are processed; other
 * messages wait. If the batch ends resumed, everything in it is processed in arrival order.
 */
export function splitForSuspension(
  messages: readonly InboxMessage[],
  startsSuspended: boolean,
): { now: InboxMessage[]; deferred: InboxMessage[]; suspended: boolean } {
  let suspended = startsSuspended;
  const now: InboxMessage[] = [];
  const deferred: InboxMessage[] = [];
  for (const message of messages) {
    const type = message.event.EventType;
    if (type === EventType.ExecutionSuspended) {
      if (!suspended) now.push(message);
      suspended = true;
    } else if (type === EventType.ExecutionResumed) {
      if (suspended) now.push(message);
      suspended = false;
    } else if (type === EventType.ExecutionTerminated || !suspended) {
      now.push(message);
    } else {
      deferred.push(message);
    }
  }
  if (!suspended && deferred.length > 0) {
    // Resumed within the batch: the waiting messages go now, in the order they arrived.
    return { now: messages.filter((m) => now.includes(m) || deferred.includes(m)), deferred: [], suspended };
  }
  return { now, deferred, suspended };
}

/** Ids of tasks and timers whose completion history already holds. */
export function completedTaskIds(history: readonly HistoryEvent[]): Set<number> {
  const ids = new Set<number>();
  for (const event of history) {
    if (event.TaskScheduledId !== undefined) ids.add(event.TaskScheduledId);
    else if (event.EventType === EventType.TimerFired && event.TimerId !== undefined) ids.add(event.TimerId);
  }
  return ids;
}

export function isDuplicateCompletion(event: HistoryEvent, completed: ReadonlySet<number>): boolean {
  if (event.TaskScheduledId !== undefined) return completed.has(event.TaskScheduledId);
  if (event.EventType === EventType.TimerFired && event.TimerId !== undefined) return completed.has(event.TimerId);
  return false;
}
