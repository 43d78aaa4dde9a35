/**
 * Host-side replay: rebuilds what the extension's OutOfProcOrchestrationShim and DTFx do with the
 * actions an orchestrator returns, so that every scheduled task gets the same sequence number the
 * JS SDK assigned (protocol doc §5.6). The shim loop, the retry interceptor (§5.7), long timers
 * (§5.8) and WhenAll/WhenAny are modelled with a tiny synchronous task type: continuations run
 * inline when a history event settles a task, exactly like DTFx's single-threaded scheduler.
 */
import {
  ActionType,
  EventType,
  LONG_TIMER_INTERVAL_MS,
  MAXIMUM_SHORT_TIMER_MS,
  SCHEDULING_EVENTS,
  encodeDoubleEncodedInput,
  encodeRawInput,
  type HistoryEvent,
  type OrchestratorAction,
  type RetryOptionsJson,
} from './protocol';

type Outcome = { kind: 'completed' } | { kind: 'failed' } | { kind: 'canceled' };

class ReplayTask {
  outcome: Outcome | undefined;
  private continuations: Array<(outcome: Outcome) => void> = [];

  static settled(outcome: Outcome): ReplayTask {
    const task = new ReplayTask();
    task.outcome = outcome;
    return task;
  }

  settle(outcome: Outcome): void {
    if (this.outcome) return;
    this.outcome = outcome;
    const continuations = this.continuations;
    this.continuations = [];
    for (const continuation of continuations) continuation(outcome);
  }

  /** Like C# `await`: runs at once when already settled. */
  then(continuation: (outcome: Outcome) => void): void {
    if (this.outcome) continuation(this.outcome);
    else this.continuations.push(continuation);
  }
}

/** The orchestration is not deterministic, or used a feature this host does not provide. */
export class ReplayError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplayError';
  }
}

export interface ReplayInput {
  instanceId: string;
  executionId: string;
  /** The whole history of the current execution, this episode's new events included. */
  history: readonly HistoryEvent[];
  /** The single action list of a V2+ orchestrator state. */
  actions: readonly OrchestratorAction[];
  /** Timestamp for the scheduling events created in this episode. */
  nowIso: string;
}

export interface ReplayResult {
  /** Scheduling events for actions that are new in this episode, in sequence-number order. */
  newEvents: HistoryEvent[];
  /** The next sequence number (ExecutionCompleted / ContinueAsNew take it). */
  nextEventId: number;
  /** Set when the orchestrator called continueAsNew: the new execution's input (JSON text). */
  continueAsNewInput?: string | null;
}

function unsupported(action: OrchestratorAction): ReplayError {
  const names: Partial<Record<ActionType, string>> = {
    [ActionType.CallEntity]: 'callEntity (Durable entities)',
    [ActionType.SignalEntity]: 'signalEntity (Durable entities)',
    [ActionType.ScheduledSignalEntity]: 'signalEntity with a time (Durable entities)',
    [ActionType.LockEntities]: 'lock (Durable entity critical sections)',
    [ActionType.ReleaseEntities]: 'lock release (Durable entity critical sections)',
    [ActionType.CallHttp]: 'callHttp (durable HTTP)',
  };
  const what = names[action.actionType] ?? `action type ${String(action.actionType)}`;
  return new ReplayError(`${what} is not supported by the local host`);
}

/** Rebuilds the extension's scheduling for one episode; throws ReplayError on non-determinism. */
export function replayOrchestration(input: ReplayInput): ReplayResult {
  const scheduled = new Map<number, HistoryEvent>();
  for (const event of input.history) {
    if (SCHEDULING_EVENTS.has(event.EventType)) scheduled.set(event.EventId, event);
  }
  const matched = new Set<number>();
  const newEvents: HistoryEvent[] = [];
  const openTasks = new Map<number, ReplayTask>();
  const eventWaiters = new Map<string, ReplayTask[]>();
  const bufferedEvents = new Map<string, number>();
  let nextId = 0;
  let currentUtc = 0;
  let continueAsNewInput: string | null | undefined;

  /** DTFx `idCounter++` plus the check that history recorded the same kind of thing under that id. */
  const takeId = (type: EventType, name: string | undefined, build: (id: number) => HistoryEvent): HistoryEvent => {
    const id = nextId++;
    const existing = scheduled.get(id);
    if (existing) {
      const sameName = name === undefined || (existing.Name ?? '').toLowerCase() === name.toLowerCase();
      if (existing.EventType !== type || !sameName) {
        throw new ReplayError(
          `Non-Deterministic workflow detected: history has ${EventType[existing.EventType]}` +
            `${existing.Name ? ` '${existing.Name}'` : ''} with id ${id}, but the orchestrator now asks for ` +
            `${EventType[type]}${name ? ` '${name}'` : ''}`,
        );
      }
      matched.add(id);
      return existing;
    }
    const event = build(id);
    newEvents.push(event);
    return event;
  };

  const open = (id: number): ReplayTask => {
    const task = new ReplayTask();
    openTasks.set(id, task);
    return task;
  };

  const scheduleTask = (action: OrchestratorAction): ReplayTask => {
    const name = action.functionName ?? '';
    const event = takeId(EventType.TaskScheduled, name, (id) => ({
      EventType: EventType.TaskScheduled,
      EventId: id,
      IsPlayed: false,
      Timestamp: input.nowIso,
      Name: name,
      Version: '',
      Input: encodeDoubleEncodedInput(action.input),
    }));
    return open(event.EventId);
  };

  const createSubOrchestration = (action: OrchestratorAction): ReplayTask => {
    const name = action.functionName ?? '';
    const event = takeId(EventType.SubOrchestrationInstanceCreated, name, (id) => ({
      EventType: EventType.SubOrchestrationInstanceCreated,
      EventId: id,
      IsPlayed: false,
      Timestamp: input.nowIso,
      Name: name,
      Version: action.version ?? '',
      // DTFx CreateSubOrchestrationInstanceCore: default child id is `{parentExecutionId}:{taskId}`.
      InstanceId: action.instanceId ? action.instanceId : `${input.executionId}:${id}`,
      Input: encodeRawInput(action.input),
    }));
    return open(event.EventId);
  };

  const singleTimer = (fireAtMs: number): ReplayTask => {
    const event = takeId(EventType.TimerCreated, undefined, (id) => ({
      EventType: EventType.TimerCreated,
      EventId: id,
      IsPlayed: false,
      Timestamp: input.nowIso,
      FireAt: new Date(fireAtMs).toISOString(),
    }));
    return open(event.EventId);
  };

  /** Extension `DurableOrchestrationContext.CreateTimer`: timers beyond 6 days become a chain of ≤3-day timers. */
  const longTimer = (fireAtMs: number): ReplayTask => {
    const result = new ReplayTask();
    let intervalFireAt = currentUtc + LONG_TIMER_INTERVAL_MS;
    const step = (): void => {
      if (!(currentUtc < fireAtMs)) {
        result.settle({ kind: 'completed' });
        return;
      }
      singleTimer(intervalFireAt).then(() => {
        const remaining = fireAtMs - currentUtc;
        if (remaining <= 0) {
          result.settle({ kind: 'completed' });
          return;
        }
        intervalFireAt = currentUtc + (remaining < LONG_TIMER_INTERVAL_MS ? remaining : LONG_TIMER_INTERVAL_MS);
        step();
      });
    };
    step();
    return result;
  };

  const createTimer = (action: OrchestratorAction): ReplayTask => {
    const fireAtMs = Date.parse(action.fireAt ?? '');
    if (!Number.isFinite(fireAtMs))
      throw new ReplayError(`createTimer: fireAt "${String(action.fireAt)}" is not a date`);
    if (action.isCanceled) {
      // A cancelled timer still takes its id (the JS assigned one when it was yielded); it never fires.
      const event = takeId(EventType.TimerCreated, undefined, (id) => ({
        EventType: EventType.TimerCreated,
        EventId: id,
        IsPlayed: false,
        Timestamp: input.nowIso,
        FireAt: new Date(fireAtMs).toISOString(),
      }));
      void event;
      return ReplayTask.settled({ kind: 'canceled' });
    }
    if (fireAtMs - currentUtc > MAXIMUM_SHORT_TIMER_MS) return longTimer(fireAtMs);
    return singleTimer(fireAtMs);
  };

  /** DTFx RetryInterceptor as the extension uses it; the last failure is followed by a "dummy" timer. */
  const withRetry = (options: RetryOptionsJson | undefined, attempt: () => ReplayTask): ReplayTask => {
    const max = options?.maxNumberOfAttempts ?? 1;
    const firstInterval = options?.firstRetryIntervalInMilliseconds ?? 0;
    const backoff = options?.backoffCoefficient || 1;
    const maxInterval = options?.maxRetryIntervalInMilliseconds || Number.POSITIVE_INFINITY;
    const retryTimeout = options?.retryTimeoutInMilliseconds || Number.POSITIVE_INFINITY;
    const result = new ReplayTask();
    const firstAttempt = currentUtc;
    let retryCount = 0;
    const run = (): void => {
      attempt().then((outcome) => {
        if (outcome.kind === 'completed') {
          result.settle(outcome);
          return;
        }
        if (retryCount + 1 >= max) {
          singleTimer(currentUtc).then(() => result.settle(outcome));
          return;
        }
        let delay = 0;
        if (currentUtc < firstAttempt + retryTimeout) {
          const next = firstInterval * Math.pow(backoff, retryCount);
          delay = next < maxInterval ? next : maxInterval;
        }
        if (delay <= 0) {
          result.settle(outcome);
          return;
        }
        singleTimer(currentUtc + delay).then(() => {
          retryCount++;
          run();
        });
      });
    };
    run();
    return result;
  };

  const waitForEvent = (action: OrchestratorAction): ReplayTask => {
    const key = (action.externalEventName ?? '').toLowerCase();
    const buffered = bufferedEvents.get(key) ?? 0;
    if (buffered > 0) {
      bufferedEvents.set(key, buffered - 1);
      return ReplayTask.settled({ kind: 'completed' });
    }
    const task = new ReplayTask();
    const waiters = eventWaiters.get(key) ?? [];
    waiters.push(task);
    eventWaiters.set(key, waiters);
    return task;
  };

  const whenAll = (children: ReplayTask[]): ReplayTask => {
    const result = new ReplayTask();
    let remaining = children.length;
    const outcomes: Outcome[] = [];
    if (remaining === 0) result.settle({ kind: 'completed' });
    for (const child of children) {
      child.then((outcome) => {
        outcomes.push(outcome);
        if (--remaining > 0) return;
        const failed = outcomes.some((o) => o.kind === 'failed');
        const canceled = outcomes.some((o) => o.kind === 'canceled');
        result.settle({ kind: failed ? 'failed' : canceled ? 'canceled' : 'completed' });
      });
    }
    return result;
  };

  const whenAny = (children: ReplayTask[]): ReplayTask => {
    const result = new ReplayTask();
    for (const child of children) child.then(() => result.settle({ kind: 'completed' }));
    return result;
  };

  const invoke = (action: OrchestratorAction): ReplayTask => {
    switch (action.actionType) {
      case ActionType.CallActivity:
        return scheduleTask(action);
      case ActionType.CallActivityWithRetry:
        return withRetry(action.retryOptions, () => scheduleTask(action));
      case ActionType.CallSubOrchestrator:
        return createSubOrchestration(action);
      case ActionType.CallSubOrchestratorWithRetry:
        return withRetry(action.retryOptions, () => createSubOrchestration(action));
      case ActionType.ContinueAsNew:
        continueAsNewInput = encodeDoubleEncodedInput(action.input);
        return ReplayTask.settled({ kind: 'completed' });
      case ActionType.CreateTimer:
        return createTimer(action);
      case ActionType.WaitForExternalEvent:
        return waitForEvent(action);
      case ActionType.WhenAny:
        return whenAny((action.compoundActions ?? []).map(invoke));
      case ActionType.WhenAll:
        return whenAll((action.compoundActions ?? []).map(invoke));
      default:
        throw unsupported(action);
    }
  };

  // The shim loop: one action per `yield`, each awaited (failures swallowed) before the next.
  let loopIndex = 0;
  const continueLoop = (): void => {
    while (loopIndex < input.actions.length) {
      const action = input.actions[loopIndex++];
      if (!action) continue;
      const task = invoke(action);
      if (!task.outcome) {
        task.then(() => continueLoop());
        return;
      }
    }
  };

  const settleOpen = (id: number | undefined, outcome: Outcome): void => {
    if (id === undefined) return;
    const task = openTasks.get(id);
    if (!task) return; // a completion for a cancelled timer or an abandoned task: ignored, as in DTFx
    openTasks.delete(id);
    task.settle(outcome);
  };

  for (const event of input.history) {
    switch (event.EventType) {
      case EventType.OrchestratorStarted:
        currentUtc = Math.max(currentUtc, Date.parse(event.Timestamp));
        break;
      case EventType.ExecutionStarted:
        continueLoop();
        break;
      case EventType.TaskCompleted:
      case EventType.SubOrchestrationInstanceCompleted:
        settleOpen(event.TaskScheduledId, { kind: 'completed' });
        break;
      case EventType.TaskFailed:
      case EventType.SubOrchestrationInstanceFailed:
        settleOpen(event.TaskScheduledId, { kind: 'failed' });
        break;
      case EventType.TimerFired:
        settleOpen(event.TimerId, { kind: 'completed' });
        break;
      case EventType.EventRaised: {
        const key = (event.Name ?? '').toLowerCase();
        const waiter = eventWaiters.get(key)?.shift();
        if (waiter) waiter.settle({ kind: 'completed' });
        else bufferedEvents.set(key, (bufferedEvents.get(key) ?? 0) + 1);
        break;
      }
      default:
        break;
    }
  }

  for (const [id, event] of scheduled) {
    if (!matched.has(id)) {
      throw new ReplayError(
        `Non-Deterministic workflow detected: history has ${EventType[event.EventType]}` +
          `${event.Name ? ` '${event.Name}'` : ''} with id ${id}, which the orchestrator no longer schedules`,
      );
    }
  }
  const result: ReplayResult = { newEvents, nextEventId: nextId };
  if (continueAsNewInput !== undefined) result.continueAsNewInput = continueAsNewInput;
  return result;
}
