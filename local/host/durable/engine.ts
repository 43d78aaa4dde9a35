/**
 * The Durable engine: per-instance serialized episodes over a durable inbox, the activity
 * dispatcher, durable timers on the injected clock, sub-orchestrations, continue-as-new,
 * terminate, and recovery of every running instance on start (protocol doc §5, §9.3).
 */
import { randomBytes } from 'node:crypto';
import { ensureError } from '../../../lib/errors';
import type { Clock, ClockTimer } from '../../clock';
import {
  DEFAULT_HTTP_ASYNC_SLEEP_MS,
  EventType,
  LONG_TIMER_INTERVAL_MS,
  MAXIMUM_SHORT_TIMER_MS,
  OrchestrationStatus,
  UPPER_SCHEMA_VERSION,
  UPPER_SCHEMA_VERSION_NEW,
  extractOutOfProcState,
  isTerminal,
  parseJsonText,
  parseOrchestratorState,
  timeSpanText,
  type HistoryEvent,
  type OrchestratorState,
  type OrchestratorTrigger,
  type RuntimeStatus,
} from './protocol';
import { ReplayError, replayOrchestration, type ReplayResult } from './replay';
import { newExecutionId, parentNotification, recordFromStart, startMessage, type NewMessage } from './messages';
import { completedTaskIds, isActive, isDuplicateCompletion, splitForSuspension } from './inboxRules';
import { checkPayloadSize, tooLarge } from './limits';
import { Semaphore } from './semaphore';
import type { DurableStore, InboxMessage, InstanceRecord, ParentRef } from './store';

export interface DurableFunctionInvoker {
  /** Returns the orchestrator state (§5.2), as an object or JSON text; a failing orchestrator throws. */
  invokeOrchestrator(functionName: string, triggerJson: string): Promise<unknown>;
  /** Returns the activity's result value. */
  invokeActivity(functionName: string, inputJson: string | undefined): Promise<unknown>;
  /** Case-insensitive. */
  kindOf(functionName: string): 'orchestration' | 'activity' | 'entity' | 'other' | undefined;
}

export type DurableLogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface EngineOptions {
  store: DurableStore;
  clock: Clock;
  invoker: DurableFunctionInvoker;
  maxConcurrentActivityFunctions: number;
  maxConcurrentOrchestratorFunctions: number;
  log: (level: DurableLogLevel, message: string) => void;
}

function originalError(thrown: unknown): Error {
  const error = ensureError(thrown);
  const original = (error as { original?: unknown }).original;
  if (original instanceof Error) return original;
  return error;
}

export class DurableEngine {
  private readonly store: DurableStore;
  private readonly clock: Clock;
  private readonly invoker: DurableFunctionInvoker;
  private readonly log: EngineOptions['log'];
  private readonly instances = new Map<string, InstanceRecord>();
  private readonly histories = new Map<string, { executionId: string; events: HistoryEvent[] }>();
  private readonly inbox = new Map<string, InboxMessage[]>();
  private readonly readyQueue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly running = new Set<string>();
  private readonly episodes = new Set<Promise<void>>();
  private readonly timers = new Map<string, ClockTimer>();
  private readonly activitiesInFlight = new Set<string>();
  private readonly activitySlots: Semaphore;
  private readonly maxEpisodes: number;
  private readonly finishWaiters = new Map<string, Array<(record: InstanceRecord) => void>>();
  private state: 'new' | 'running' | 'stopped' = 'new';
  private messageSeq = 0;
  private writeBatch: { messages: InboxMessage[]; written: Promise<void> } | undefined;
  /** Per instance: the instance-row and inbox-cleanup writes of its last episode, in order. */
  private readonly tailWrites = new Map<string, Promise<void>>();
  private readonly messagePrefix = randomBytes(2).toString('hex');

  constructor(options: EngineOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.invoker = options.invoker;
    this.log = options.log;
    if (!(options.maxConcurrentActivityFunctions >= 1)) {
      throw new RangeError('maxConcurrentActivityFunctions must be a number ≥ 1');
    }
    if (!(options.maxConcurrentOrchestratorFunctions >= 1)) {
      throw new RangeError('maxConcurrentOrchestratorFunctions must be a number ≥ 1');
    }
    this.activitySlots = new Semaphore(options.maxConcurrentActivityFunctions);
    this.maxEpisodes = options.maxConcurrentOrchestratorFunctions;
  }

  get isRunning(): boolean {
    return this.state === 'running';
  }

  // ---------------------------------------------------------------- lifecycle

  /** Loads the inbox and every unfinished instance, then resumes their work (§9.3 recovery scan). */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error('a durable runtime can only be started once');
    this.state = 'running';
    for (const message of await this.store.readMessages()) this.pushInbox(message);
    for (const record of await this.store.listInstances()) this.instances.set(record.instanceId, record);
    for (const record of [...this.instances.values()]) {
      if (isTerminal(record.runtimeStatus)) continue;
      await this.recoverInstance(record);
    }
    for (const instanceId of this.inbox.keys()) this.schedule(instanceId);
  }

  /** Stops dispatching; waits for running episodes to commit. Late activity results are dropped (re-run on recovery). */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    for (const timer of this.timers.values()) timer.cancel();
    this.timers.clear();
    this.readyQueue.length = 0;
    this.queued.clear();
    await Promise.allSettled([...this.episodes]);
    await Promise.allSettled([...this.tailWrites.values()]);
    await this.writeBatch?.written.catch(() => undefined);
  }

  private async recoverInstance(record: InstanceRecord): Promise<void> {
    const history = await this.loadHistory(record);
    if (await this.repairFinishedRow(record, history)) return;
    const done = new Set<number>();
    const pending = this.inbox.get(record.instanceId) ?? [];
    for (const event of [...history, ...pending.map((m) => m.event)]) {
      if (event.TaskScheduledId !== undefined) done.add(event.TaskScheduledId);
      if (event.EventType === EventType.TimerFired && event.TimerId !== undefined) done.add(event.TimerId);
    }
    let resumed = 0;
    for (const event of history) {
      if (done.has(event.EventId)) continue;
      if (event.EventType === EventType.TaskScheduled) {
        this.dispatchActivity(record.instanceId, record.executionId, event);
        resumed++;
      } else if (event.EventType === EventType.TimerCreated) {
        this.armTimer(record.instanceId, record.executionId, event);
        resumed++;
      } else if (event.EventType === EventType.SubOrchestrationInstanceCreated) {
        await this.reconcileChild(record, event);
        resumed++;
      }
    }
    this.log(
      'info',
      `durable: resumed ${record.name} '${record.instanceId}' (${record.runtimeStatus}, ${history.length} events, ` +
        `${resumed} pending tasks, ${pending.length} inbox messages)`,
    );
  }

  /**
   * History is written before the instance row: after a crash between the two, the row can still say
   * Running for an execution that history shows finished or continued as new. Bring the row up to date.
   */
  private async repairFinishedRow(record: InstanceRecord, history: readonly HistoryEvent[]): Promise<boolean> {
    let end: HistoryEvent | undefined;
    for (let i = history.length - 1; i >= 0 && !end; i--) {
      const event = history[i];
      if (event?.EventType === EventType.ExecutionCompleted || event?.EventType === EventType.ContinueAsNew)
        end = event;
    }
    if (!end) return false;
    const status = OrchestrationStatus[end.OrchestrationStatus ?? OrchestrationStatus.Completed] as RuntimeStatus;
    const now = this.clock.now();
    if (end.EventType === EventType.ExecutionCompleted) {
      const repaired: InstanceRecord = {
        ...record,
        runtimeStatus: status,
        output: end.Result ?? null,
        lastUpdatedTime: now,
        completedTime: now,
      };
      await this.store.putInstance(repaired);
      this.instances.set(record.instanceId, repaired);
      if (repaired.parent) await this.enqueue([parentNotification(repaired, this.clock.now())]);
      this.log('info', `durable: repaired the row of '${record.instanceId}' to ${status} from its history`);
      return true;
    }
    const next = (this.inbox.get(record.instanceId) ?? []).find(
      (m) => m.event.EventType === EventType.ExecutionStarted && m.executionId !== record.executionId,
    );
    const continued: InstanceRecord = {
      ...record,
      runtimeStatus: 'ContinuedAsNew',
      executionId: next?.executionId ?? newExecutionId(),
      input: end.Result ?? null,
      output: null,
      lastUpdatedTime: now,
    };
    await this.store.putInstance(continued);
    this.cacheNewInstance(continued);
    if (!next) await this.enqueue([startMessage(continued, this.clock.now())]);
    this.log('info', `durable: '${record.instanceId}' continues as new after a restart`);
    return true;
  }

  /** A child that is missing is started; a finished child whose result the parent lacks is delivered. */
  private async reconcileChild(parent: InstanceRecord, created: HistoryEvent): Promise<void> {
    const childId = created.InstanceId ?? '';
    const child = await this.getInstance(childId);
    const ours =
      child?.parent?.instanceId === parent.instanceId &&
      child.parent.executionId === parent.executionId &&
      child.parent.taskScheduleId === created.EventId;
    if (!child || !ours) {
      // Missing, or the id now belongs to another run: start it, or tell the parent the id is taken.
      const start = await this.prepareChild(parent, created);
      if (start.record) {
        await this.store.putInstance(start.record);
        this.cacheNewInstance(start.record);
      }
      await this.enqueue([start.message]);
      return;
    }
    if (ours && isTerminal(child.runtimeStatus)) {
      await this.enqueue([parentNotification(child, this.clock.now())]);
    }
  }

  // ---------------------------------------------------------------- inbox and scheduling

  private newMessageId(): string {
    const time = Date.now().toString(16).padStart(12, '0');
    const seq = (this.messageSeq++).toString(16).padStart(8, '0');
    return `${time}${seq}${this.messagePrefix}`;
  }

  private pushInbox(message: InboxMessage): void {
    const box = this.inbox.get(message.instanceId);
    if (box) box.push(message);
    else this.inbox.set(message.instanceId, [message]);
  }

  /** Durably adds messages to inboxes, then wakes their instances. */
  async enqueue(messages: readonly NewMessage[]): Promise<void> {
    this.deliver(await this.persistMessages(messages));
  }

  /**
   * Writes messages durably. Writes requested in the same turn of the event loop (e.g. a burst of
   * activity results) share one store call, so a table store can batch them per partition.
   */
  private async persistMessages(messages: readonly NewMessage[]): Promise<InboxMessage[]> {
    if (messages.length === 0) return [];
    if (this.state !== 'running') throw new Error('the durable runtime is not running');
    const withIds: InboxMessage[] = messages.map((m) => ({ ...m, id: this.newMessageId() }));
    let batch = this.writeBatch;
    if (!batch) {
      const messagesInBatch: InboxMessage[] = [];
      const written = new Promise<void>((resolve, reject) => {
        setImmediate(() => {
          this.writeBatch = undefined;
          this.store.addMessages(messagesInBatch).then(resolve, reject);
        });
      });
      batch = { messages: messagesInBatch, written };
      this.writeBatch = batch;
    }
    batch.messages.push(...withIds);
    await batch.written;
    return withIds;
  }

  private deliver(messages: readonly InboxMessage[]): void {
    if (this.state !== 'running') return;
    for (const message of messages) this.pushInbox(message);
    for (const instanceId of new Set(messages.map((m) => m.instanceId))) this.schedule(instanceId);
  }

  private schedule(instanceId: string): void {
    if (this.state !== 'running' || this.queued.has(instanceId)) return;
    if (this.isParked(instanceId)) return; // suspended: messages wait until a resume or terminate arrives
    if (this.running.has(instanceId)) return; // re-checked when the running episode ends
    this.queued.add(instanceId);
    this.readyQueue.push(instanceId);
    this.pump();
  }

  private pump(): void {
    while (this.state === 'running' && this.running.size < this.maxEpisodes && this.readyQueue.length > 0) {
      const instanceId = this.readyQueue.shift() as string;
      this.queued.delete(instanceId);
      this.running.add(instanceId);
      const episode = this.runEpisodeSafely(instanceId).then((committed) => {
        this.running.delete(instanceId);
        this.episodes.delete(episode);
        // After a failed checkpoint only the delayed retry reschedules: no tight loop on a broken store.
        if (committed && (this.inbox.get(instanceId)?.length ?? 0) > 0) this.schedule(instanceId);
        this.pump();
      });
      this.episodes.add(episode);
    }
  }

  private isParked(instanceId: string): boolean {
    if (this.instances.get(instanceId)?.runtimeStatus !== 'Suspended') return false;
    return !(this.inbox.get(instanceId) ?? []).some(
      (m) =>
        m.event.EventType === EventType.ExecutionResumed ||
        m.event.EventType === EventType.ExecutionTerminated ||
        m.event.EventType === EventType.ExecutionSuspended,
    );
  }

  private async runEpisodeSafely(instanceId: string): Promise<boolean> {
    try {
      await this.runEpisode(instanceId);
      return true;
    } catch (thrown) {
      const error = ensureError(thrown);
      this.log('error', `durable: episode of '${instanceId}' failed to commit, retrying in 1 s: ${error.message}`);
      // The inbox keeps the messages; try again later rather than spinning.
      setTimeout(() => this.schedule(instanceId), 1000).unref();
      return false;
    }
  }

  // ---------------------------------------------------------------- state access

  async getInstance(instanceId: string): Promise<InstanceRecord | undefined> {
    const cached = this.instances.get(instanceId);
    if (cached) return cached;
    const stored = await this.store.getInstance(instanceId);
    if (stored) this.instances.set(instanceId, stored);
    return stored;
  }

  async listInstances(): Promise<InstanceRecord[]> {
    const stored = await this.store.listInstances();
    return stored.map((record) => this.instances.get(record.instanceId) ?? record);
  }

  async historyOf(record: InstanceRecord): Promise<HistoryEvent[]> {
    return [...(await this.loadHistory(record))];
  }

  private cacheNewInstance(record: InstanceRecord): void {
    this.instances.set(record.instanceId, record);
    this.histories.set(record.instanceId, { executionId: record.executionId, events: [] });
  }

  private async loadHistory(record: InstanceRecord): Promise<HistoryEvent[]> {
    const cached = this.histories.get(record.instanceId);
    if (cached && cached.executionId === record.executionId) return cached.events;
    const events = await this.store.readHistory(record.instanceId, record.executionId);
    this.histories.set(record.instanceId, { executionId: record.executionId, events });
    return events;
  }

  /** Resolves once the instance reaches Completed, Failed, Terminated or Canceled. */
  async waitForFinish(instanceId: string, timeoutMs: number): Promise<InstanceRecord> {
    const finished = new Promise<InstanceRecord>((resolve, reject) => {
      const waiters = this.finishWaiters.get(instanceId) ?? [];
      const timer = setTimeout(() => {
        const list = this.finishWaiters.get(instanceId);
        if (list) list.splice(list.indexOf(waiter), 1);
        const status = this.instances.get(instanceId)?.runtimeStatus ?? 'unknown';
        reject(new Error(`instance '${instanceId}' did not finish within ${timeoutMs} ms (status: ${status})`));
      }, timeoutMs);
      const waiter = (record: InstanceRecord): void => {
        clearTimeout(timer);
        resolve(record);
      };
      waiters.push(waiter);
      this.finishWaiters.set(instanceId, waiters);
    });
    // Registered first, then checked: a commit in between cannot be missed.
    const record = await this.getInstance(instanceId);
    if (record && isTerminal(record.runtimeStatus)) {
      await this.tailWrites.get(instanceId);
      this.notifyFinished(record);
    }
    return finished;
  }

  private notifyFinished(record: InstanceRecord): void {
    const waiters = this.finishWaiters.get(record.instanceId) ?? [];
    this.finishWaiters.delete(record.instanceId);
    for (const waiter of waiters) waiter(record);
  }

  // ---------------------------------------------------------------- client operations

  /** Creates (or re-creates a finished) instance and queues its ExecutionStarted message. */
  async startOrchestration(
    name: string,
    instanceId: string,
    input: string | null,
    version = '',
  ): Promise<InstanceRecord> {
    checkPayloadSize(this.store, 'the input', input);
    const existing = await this.getInstance(instanceId);
    if (existing && !isTerminal(existing.runtimeStatus)) {
      throw new ConflictError(
        `An Orchestration instance with the status ${existing.runtimeStatus} already exists (instance id '${instanceId}')`,
      );
    }
    const now = this.clock.now();
    const record: InstanceRecord = {
      instanceId,
      name,
      version,
      executionId: newExecutionId(),
      runtimeStatus: 'Pending',
      input,
      output: null,
      customStatus: null,
      createdTime: now,
      lastUpdatedTime: now,
      completedTime: null,
      parent: null,
    };
    // Message first (an ExecutionStarted without its row still starts: the row is rebuilt from it),
    // then the row, and only then may an episode run.
    const [message] = await this.persistMessages([startMessage(record, this.clock.now())]);
    await this.store.putInstance(record);
    this.cacheNewInstance(record);
    if (message) this.deliver([message]);
    this.log('info', `durable: started ${name} '${instanceId}'`);
    return record;
  }

  async raiseEvent(record: InstanceRecord, eventName: string, inputJson: string | null): Promise<void> {
    checkPayloadSize(this.store, 'the event data', inputJson);
    await this.enqueue([
      {
        instanceId: record.instanceId,
        executionId: null,
        event: { ...this.baseEvent(EventType.EventRaised), Name: eventName, Input: inputJson },
      },
    ]);
  }

  /** Suspends (ExecutionSuspended) or resumes (ExecutionResumed) an instance; while suspended, messages wait. */
  async suspendOrResume(record: InstanceRecord, suspend: boolean, reason: string): Promise<void> {
    const type = suspend ? EventType.ExecutionSuspended : EventType.ExecutionResumed;
    await this.enqueue([
      { instanceId: record.instanceId, executionId: null, event: { ...this.baseEvent(type), Reason: reason } },
    ]);
  }

  async terminate(record: InstanceRecord, reason: string): Promise<void> {
    await this.enqueue([
      {
        instanceId: record.instanceId,
        executionId: null,
        event: { ...this.baseEvent(EventType.ExecutionTerminated), Input: reason },
      },
    ]);
  }

  async purge(instanceId: string): Promise<boolean> {
    await this.tailWrites.get(instanceId); // the last checkpoint lands first, then everything goes
    for (const [key, timer] of this.timers) {
      if (key.startsWith(`${instanceId}\n`)) {
        timer.cancel();
        this.timers.delete(key);
      }
    }
    this.inbox.delete(instanceId);
    this.instances.delete(instanceId);
    this.histories.delete(instanceId);
    return this.store.purgeInstance(instanceId);
  }

  // ---------------------------------------------------------------- episodes

  private baseEvent(type: EventType): HistoryEvent {
    return { EventType: type, EventId: -1, IsPlayed: false, Timestamp: new Date(this.clock.now()).toISOString() };
  }

  private async runEpisode(instanceId: string): Promise<void> {
    const messages = [...(this.inbox.get(instanceId) ?? [])];
    if (messages.length === 0 || this.state !== 'running') return;
    const startMessage = messages.find((m) => m.event.EventType === EventType.ExecutionStarted);
    let record = await this.getInstance(instanceId);
    if (!record && startMessage) record = recordFromStart(startMessage);
    if (!record) {
      await this.consume(instanceId, messages);
      return;
    }
    const history = await this.loadHistory(record);
    const current = record;
    const freshStart =
      startMessage !== undefined &&
      history.length === 0 &&
      (startMessage.executionId ?? startMessage.event.OrchestrationInstance?.ExecutionId) === current.executionId;
    const completed = completedTaskIds(history);
    const relevant = messages.filter((m) => {
      if (m.event.EventType === EventType.ExecutionStarted) return freshStart && m === startMessage;
      if (isDuplicateCompletion(m.event, completed)) return false; // redelivered after a crash
      if (isTerminal(current.runtimeStatus)) return false;
      if (history.length === 0 && !freshStart) return false; // never started: nothing to deliver to
      return m.executionId === null || m.executionId === current.executionId;
    });
    const {
      now: processNow,
      deferred,
      suspended,
    } = splitForSuspension(relevant, current.runtimeStatus === 'Suspended');
    const consumed = messages.filter((m) => !deferred.includes(m));
    if (processNow.length === 0) {
      await this.consume(instanceId, consumed);
      return;
    }

    const now = this.clock.now();
    const nowIso = new Date(now).toISOString();
    const newEvents: HistoryEvent[] = [
      { EventType: EventType.OrchestratorStarted, EventId: -1, IsPlayed: false, Timestamp: nowIso },
      ...processNow.map((m) => ({ ...m.event, IsPlayed: false })),
    ];
    const terminate = processNow.find((m) => m.event.EventType === EventType.ExecutionTerminated);
    const outcome = terminate
      ? this.terminatedOutcome(terminate.event.Input ?? '')
      : await this.executeOrchestrator(current, history, newEvents, nowIso);
    if (suspended && outcome.status === 'Running') outcome.status = 'Suspended';

    await this.commit(current, history, newEvents, outcome, consumed, now);
  }

  /** Table storage keeps at most 64 KiB per property; this host has no large-message blobs. */
  private oversizeProblem(state: OrchestratorState | undefined, replay: ReplayResult): string | undefined {
    const limit = this.store.maxValueLength;
    if (limit === undefined || !state) return undefined;
    const checks: Array<[string, string | null | undefined]> = [
      [
        'its output',
        state.isDone && replay.continueAsNewInput === undefined ? JSON.stringify(state.output ?? null) : null,
      ],
      ['its custom status', state.customStatus === undefined ? null : JSON.stringify(state.customStatus)],
      ['the continueAsNew input', replay.continueAsNewInput],
      ...replay.newEvents.map((e): [string, string | null | undefined] => [`the input of '${e.Name ?? ''}'`, e.Input]),
    ];
    for (const [what, text] of checks) {
      if (text && text.length > limit) return tooLarge(what, text.length, limit);
    }
    return undefined;
  }

  private terminatedOutcome(reason: string): EpisodeOutcome {
    return {
      status: 'Terminated',
      output: reason,
      replay: { newEvents: [], nextEventId: -1 },
      customStatus: undefined,
    };
  }

  private async executeOrchestrator(
    record: InstanceRecord,
    history: readonly HistoryEvent[],
    newEvents: readonly HistoryEvent[],
    nowIso: string,
  ): Promise<EpisodeOutcome> {
    const full = [...history, ...newEvents];
    const name = record.name;
    let state: OrchestratorState | undefined;
    let failure: string | undefined;
    if (this.invoker.kindOf(name) !== 'orchestration') {
      failure = `The function '${name}' doesn't exist, is disabled, or is not an orchestrator function.`;
    } else {
      const started = full.find((e) => e.EventType === EventType.ExecutionStarted);
      const trigger: OrchestratorTrigger = {
        history: full.map((event, index) => ({ ...event, IsPlayed: index < history.length })),
        input: parseJsonText(started?.Input),
        instanceId: record.instanceId,
        isReplaying: history.length > 0,
        parentInstanceId: record.parent?.instanceId ?? null,
        upperSchemaVersion: UPPER_SCHEMA_VERSION,
        upperSchemaVersionNew: UPPER_SCHEMA_VERSION_NEW,
        longRunningTimerIntervalDuration: timeSpanText(LONG_TIMER_INTERVAL_MS),
        maximumShortTimerDuration: timeSpanText(MAXIMUM_SHORT_TIMER_MS),
        defaultHttpAsyncRequestSleepTimeMillseconds: DEFAULT_HTTP_ASYNC_SLEEP_MS,
      };
      try {
        state = parseOrchestratorState(await this.invoker.invokeOrchestrator(name, JSON.stringify(trigger)));
      } catch (thrown) {
        state = extractOutOfProcState(thrown);
        // The SDK's message prefix is the literal `false` (§5.2 pitfall): the reason is state.error.
        failure = state?.error ?? originalError(thrown).message;
      }
    }
    let replay: ReplayResult = { newEvents: [], nextEventId: -1 };
    if (state) {
      try {
        if (state.actions.length > 1) {
          throw new ReplayError(
            `orchestrator state: expected one action list (schema V2+), got ${state.actions.length}`,
          );
        }
        replay = replayOrchestration({
          instanceId: record.instanceId,
          executionId: record.executionId,
          history: full,
          actions: state.actions[0] ?? [],
          nowIso,
        });
      } catch (thrown) {
        if (!(thrown instanceof ReplayError)) throw thrown;
        failure = failure ? `${failure} (${thrown.message})` : thrown.message;
      }
    }
    const customStatus = state ? state.customStatus : undefined;
    if (failure === undefined) failure = this.oversizeProblem(state, replay);
    if (failure !== undefined) {
      return { status: 'Failed', output: `Orchestrator function '${name}' failed: ${failure}`, replay, customStatus };
    }
    if (state?.isDone && replay.continueAsNewInput !== undefined) {
      return { status: 'ContinuedAsNew', output: replay.continueAsNewInput, replay, customStatus };
    }
    if (state?.isDone) {
      return { status: 'Completed', output: JSON.stringify(state.output ?? null), replay, customStatus };
    }
    return { status: 'Running', output: null, replay, customStatus };
  }

  private async commit(
    record: InstanceRecord,
    history: HistoryEvent[],
    newEvents: HistoryEvent[],
    outcome: EpisodeOutcome,
    consumed: readonly InboxMessage[],
    now: number,
  ): Promise<void> {
    const nowIso = new Date(now).toISOString();
    const appended: HistoryEvent[] = [...newEvents, ...outcome.replay.newEvents];
    if (!isActive(outcome.status)) {
      const completion: HistoryEvent = {
        EventType: outcome.status === 'ContinuedAsNew' ? EventType.ContinueAsNew : EventType.ExecutionCompleted,
        EventId: outcome.replay.nextEventId,
        IsPlayed: false,
        Timestamp: nowIso,
        OrchestrationStatus: OrchestrationStatus[outcome.status],
        Result: outcome.output,
      };
      appended.push(completion);
    }
    appended.push({ EventType: EventType.OrchestratorCompleted, EventId: -1, IsPlayed: false, Timestamp: nowIso });

    const updated: InstanceRecord = {
      ...record,
      runtimeStatus: outcome.status,
      lastUpdatedTime: now,
      customStatus:
        outcome.status === 'Terminated'
          ? record.customStatus
          : outcome.customStatus === undefined
            ? null
            : JSON.stringify(outcome.customStatus),
      output: isActive(outcome.status) ? null : outcome.output,
      completedTime: isTerminal(outcome.status) ? now : null,
    };

    // 1. Outbox: children to start, the parent's result, the next execution.
    const outbox: NewMessage[] = [];
    const childRecords: InstanceRecord[] = [];
    if (isActive(outcome.status)) {
      for (const event of outcome.replay.newEvents) {
        if (event.EventType !== EventType.SubOrchestrationInstanceCreated) continue;
        const start = await this.prepareChild(record, event);
        if (start.record) childRecords.push(start.record);
        outbox.push(start.message);
      }
    }
    if (isTerminal(outcome.status) && record.parent) outbox.push(parentNotification(updated, this.clock.now()));
    if (outcome.status === 'ContinuedAsNew') {
      updated.executionId = newExecutionId();
      updated.input = outcome.output;
      updated.output = null;
      outbox.push(startMessage(updated, this.clock.now()));
    }
    await Promise.all(childRecords.map((child) => this.store.putInstance(child)));
    for (const child of childRecords) this.cacheNewInstance(child);
    if (this.state !== 'running') return;
    await this.enqueue(outbox);
    // 2. History (with the sentinel), 3. the instance row, 4. the consumed inbox rows.
    await this.store.appendHistory(record.instanceId, record.executionId, history.length, appended);
    this.forgetConsumed(record.instanceId, consumed);
    // 3 and 4 finish in the background, in order per instance; stop() waits for them. A crash before
    // they land replays the messages, and the episode drops completions history already has.
    this.writeTail(record.instanceId, async () => {
      await this.store.putInstance(updated);
      await this.store.deleteMessages(
        record.instanceId,
        consumed.map((m) => m.id),
      );
    });

    this.instances.set(record.instanceId, updated);
    if (outcome.status === 'ContinuedAsNew') {
      this.histories.set(record.instanceId, { executionId: updated.executionId, events: [] });
    } else if (isTerminal(outcome.status)) {
      this.histories.delete(record.instanceId); // read back from the store if anyone asks for it
    } else {
      for (const event of appended) history.push(event);
    }

    if (isActive(outcome.status)) {
      for (const event of outcome.replay.newEvents) {
        if (event.EventType === EventType.TaskScheduled)
          this.dispatchActivity(record.instanceId, record.executionId, event);
        else if (event.EventType === EventType.TimerCreated)
          this.armTimer(record.instanceId, record.executionId, event);
      }
    }
    if (!isActive(outcome.status)) {
      const level = outcome.status === 'Failed' ? 'warn' : 'info';
      this.log(
        level,
        `durable: ${record.name} '${record.instanceId}' ${outcome.status}` +
          (outcome.status === 'Failed' ? `: ${outcome.output ?? ''}` : ''),
      );
    }
    if (isTerminal(outcome.status)) {
      // Waiters hear of the end once its checkpoint (instance row included) is in the store.
      void (this.tailWrites.get(record.instanceId) ?? Promise.resolve()).then(() => this.notifyFinished(updated));
    }
  }

  private writeTail(instanceId: string, write: () => Promise<void>): void {
    const previous = this.tailWrites.get(instanceId) ?? Promise.resolve();
    const next = previous.then(write).catch((thrown: unknown) => {
      this.log('error', `durable: could not finish the checkpoint of '${instanceId}': ${ensureError(thrown).message}`);
    });
    this.tailWrites.set(instanceId, next);
    void next.finally(() => {
      if (this.tailWrites.get(instanceId) === next) this.tailWrites.delete(instanceId);
    });
  }

  private async consume(instanceId: string, messages: readonly InboxMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.store.deleteMessages(
      instanceId,
      messages.map((m) => m.id),
    );
    this.forgetConsumed(instanceId, messages);
  }

  private forgetConsumed(instanceId: string, messages: readonly InboxMessage[]): void {
    const ids = new Set(messages.map((m) => m.id));
    const remaining = (this.inbox.get(instanceId) ?? []).filter((m) => !ids.has(m.id));
    if (remaining.length > 0) this.inbox.set(instanceId, remaining);
    else this.inbox.delete(instanceId);
  }

  /** The child's row and ExecutionStarted message, or a failure for the parent if the id is taken. */
  private async prepareChild(
    parent: InstanceRecord,
    created: HistoryEvent,
  ): Promise<{ record?: InstanceRecord; message: NewMessage }> {
    const childId = created.InstanceId ?? '';
    const parentRef: ParentRef = {
      instanceId: parent.instanceId,
      executionId: parent.executionId,
      name: parent.name,
      taskScheduleId: created.EventId,
    };
    const existing = await this.getInstance(childId);
    if (existing && !isTerminal(existing.runtimeStatus)) {
      const same =
        existing.parent?.instanceId === parentRef.instanceId &&
        existing.parent.executionId === parentRef.executionId &&
        existing.parent.taskScheduleId === parentRef.taskScheduleId;
      if (same) return { message: startMessage(existing, this.clock.now()) }; // a replayed episode: harmless duplicate
      return {
        message: {
          instanceId: parent.instanceId,
          executionId: parent.executionId,
          event: {
            ...this.baseEvent(EventType.SubOrchestrationInstanceFailed),
            TaskScheduledId: created.EventId,
            Reason: `An orchestration instance with id '${childId}' is already ${existing.runtimeStatus}`,
            Details: '',
          },
        },
      };
    }
    const now = this.clock.now();
    const record: InstanceRecord = {
      instanceId: childId,
      name: created.Name ?? '',
      version: created.Version ?? '',
      executionId: newExecutionId(),
      runtimeStatus: 'Pending',
      input: created.Input ?? null,
      output: null,
      customStatus: null,
      createdTime: now,
      lastUpdatedTime: now,
      completedTime: null,
      parent: parentRef,
    };
    return { record, message: startMessage(record, this.clock.now()) };
  }

  // ---------------------------------------------------------------- activities and timers

  private dispatchActivity(instanceId: string, executionId: string, scheduled: HistoryEvent): void {
    const key = `${instanceId}\n${executionId}\n${scheduled.EventId}`;
    if (this.activitiesInFlight.has(key) || this.state !== 'running') return;
    this.activitiesInFlight.add(key);
    void this.runActivity(instanceId, executionId, scheduled).finally(() => this.activitiesInFlight.delete(key));
  }

  private async runActivity(instanceId: string, executionId: string, scheduled: HistoryEvent): Promise<void> {
    const release = await this.activitySlots.acquire();
    try {
      if (this.state !== 'running') return;
      const name = scheduled.Name ?? '';
      let event: HistoryEvent;
      if (this.invoker.kindOf(name) !== 'activity') {
        event = {
          ...this.baseEvent(EventType.TaskFailed),
          TaskScheduledId: scheduled.EventId,
          Reason: `The function '${name}' doesn't exist, is disabled, or is not an activity function.`,
          Details: '',
        };
      } else {
        try {
          // A missing input reaches the activity as JSON null, as the extension passes it.
          const value = await this.invoker.invokeActivity(name, scheduled.Input ?? 'null');
          const result = JSON.stringify(value === undefined ? null : value);
          const limit = this.store.maxValueLength;
          event =
            limit !== undefined && result.length > limit
              ? {
                  ...this.baseEvent(EventType.TaskFailed),
                  TaskScheduledId: scheduled.EventId,
                  Reason: `Activity function '${name}' failed: ${tooLarge('its result', result.length, limit)}`,
                  Details: '',
                }
              : { ...this.baseEvent(EventType.TaskCompleted), TaskScheduledId: scheduled.EventId, Result: result };
        } catch (thrown) {
          const error = originalError(thrown);
          event = {
            ...this.baseEvent(EventType.TaskFailed),
            TaskScheduledId: scheduled.EventId,
            Reason: `Activity function '${name}' failed: ${error.message}`,
            Details: JSON.stringify({
              $type: 'System.Exception',
              Message: error.message,
              StackTrace: error.stack ?? '',
            }),
          };
        }
      }
      if (this.state !== 'running') return; // stopped meanwhile: recovery re-runs it (at least once)
      await this.enqueueWithRetry([{ instanceId, executionId, event }], `the result of '${name}' for '${instanceId}'`);
    } catch (thrown) {
      this.log('error', `durable: activity for '${instanceId}' could not be recorded: ${ensureError(thrown).message}`);
    } finally {
      release();
    }
  }

  /**
   * Records an activity result or a fired timer. Nothing else would ever deliver it again in this
   * process (recovery runs only at start), so a failed write, e.g. a passing storage error, is retried
   * with backoff while the runtime runs; a duplicate after a half-done write is dropped on delivery.
   */
  private async enqueueWithRetry(messages: readonly NewMessage[], what: string): Promise<void> {
    for (let delayMs = 1_000; ; delayMs = Math.min(delayMs * 2, 30_000)) {
      try {
        await this.enqueue(messages);
        return;
      } catch (thrown) {
        if (this.state !== 'running') return; // the next start's recovery re-runs it
        this.log(
          'warn',
          `durable: ${what} could not be recorded, retrying in ${delayMs / 1000} s: ${ensureError(thrown).message}`,
        );
        await new Promise<void>((resolve) => setTimeout(resolve, delayMs).unref());
      }
    }
  }

  private armTimer(instanceId: string, executionId: string, created: HistoryEvent): void {
    const key = `${instanceId}\n${executionId}\n${created.EventId}`;
    if (this.timers.has(key) || this.state !== 'running') return;
    const fireAt = Date.parse(created.FireAt ?? '');
    const timer = this.clock.at(Number.isFinite(fireAt) ? fireAt : this.clock.now(), () => {
      this.timers.delete(key);
      if (this.state !== 'running') return;
      void this.enqueueWithRetry(
        [
          {
            instanceId,
            executionId,
            event: { ...this.baseEvent(EventType.TimerFired), TimerId: created.EventId, FireAt: created.FireAt ?? '' },
          },
        ],
        `a timer of '${instanceId}'`,
      );
    });
    this.timers.set(key, timer);
  }
}

interface EpisodeOutcome {
  status: RuntimeStatus;
  /** Completed: JSON text; Failed/Terminated: text; ContinuedAsNew: the new input. */
  output: string | null;
  replay: ReplayResult;
  customStatus: unknown;
}

/** An instance with that id is still running. */
export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}
