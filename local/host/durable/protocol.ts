/**
 * The legacy out-of-proc orchestrator protocol spoken by `durable-functions` 3.x (protocol doc §5):
 * DTFx history events (PascalCase JSON, numeric EventType), orchestrator actions and state.
 */

/** DTFx `EventType` (DurableTask.Core/History). */
export enum EventType {
  ExecutionStarted = 0,
  ExecutionCompleted = 1,
  ExecutionFailed = 2,
  ExecutionTerminated = 3,
  TaskScheduled = 4,
  TaskCompleted = 5,
  TaskFailed = 6,
  SubOrchestrationInstanceCreated = 7,
  SubOrchestrationInstanceCompleted = 8,
  SubOrchestrationInstanceFailed = 9,
  TimerCreated = 10,
  TimerFired = 11,
  OrchestratorStarted = 12,
  OrchestratorCompleted = 13,
  EventSent = 14,
  EventRaised = 15,
  ContinueAsNew = 16,
  GenericEvent = 17,
  HistoryState = 18,
  ExecutionSuspended = 19,
  ExecutionResumed = 20,
}

/** DTFx `OrchestrationStatus`; the Instances table and the HTTP API use the names. */
export enum OrchestrationStatus {
  Running = 0,
  Completed = 1,
  ContinuedAsNew = 2,
  Failed = 3,
  Canceled = 4,
  Terminated = 5,
  Pending = 6,
  Suspended = 7,
}

export type RuntimeStatus = keyof typeof OrchestrationStatus;

export const TERMINAL_STATUSES: readonly RuntimeStatus[] = ['Completed', 'Failed', 'Canceled', 'Terminated'];

export function isTerminal(status: RuntimeStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export function isRuntimeStatus(value: string): value is RuntimeStatus {
  return Object.prototype.hasOwnProperty.call(OrchestrationStatus, value) && Number.isNaN(Number(value));
}

export interface OrchestrationInstanceRef {
  InstanceId: string;
  ExecutionId: string;
}

export interface ParentInstanceInfo {
  Name: string;
  Version: string;
  OrchestrationInstance: OrchestrationInstanceRef;
  TaskScheduleId: number;
}

/** One DTFx history event as the extension serialises it for the JS SDK (only the fields in use). */
export interface HistoryEvent {
  EventType: EventType;
  EventId: number;
  IsPlayed: boolean;
  /** ISO-8601 UTC. */
  Timestamp: string;
  Name?: string;
  Version?: string;
  /** JSON text (ExecutionStarted, TaskScheduled, SubOrchestrationInstanceCreated, EventRaised), or the terminate reason. */
  Input?: string | null;
  /** JSON text (TaskCompleted, SubOrchestrationInstanceCompleted, ExecutionCompleted, ContinueAsNew). */
  Result?: string | null;
  TaskScheduledId?: number;
  TimerId?: number;
  /** ISO-8601 UTC (TimerCreated, TimerFired). */
  FireAt?: string;
  Reason?: string;
  Details?: string;
  /** SubOrchestrationInstanceCreated: the child's instance id. */
  InstanceId?: string;
  OrchestrationInstance?: OrchestrationInstanceRef;
  ParentInstance?: ParentInstanceInfo | null;
  OrchestrationStatus?: OrchestrationStatus;
  Tags?: Record<string, string> | null;
  Correlation?: string | null;
  ScheduledStartTime?: string | null;
  Generation?: number;
  FailureDetails?: unknown;
}

/** Events that take a sequence number in DTFx and so mark something the orchestrator scheduled. */
export const SCHEDULING_EVENTS: ReadonlySet<EventType> = new Set([
  EventType.TaskScheduled,
  EventType.SubOrchestrationInstanceCreated,
  EventType.TimerCreated,
  EventType.EventSent,
]);

/** `durable-functions` `ActionType`. */
export enum ActionType {
  CallActivity = 0,
  CallActivityWithRetry = 1,
  CallSubOrchestrator = 2,
  CallSubOrchestratorWithRetry = 3,
  ContinueAsNew = 4,
  CreateTimer = 5,
  WaitForExternalEvent = 6,
  CallEntity = 7,
  CallHttp = 8,
  SignalEntity = 9,
  ScheduledSignalEntity = 10,
  WhenAny = 11,
  WhenAll = 12,
  LockEntities = 13,
  ReleaseEntities = 14,
}

export interface RetryOptionsJson {
  firstRetryIntervalInMilliseconds: number;
  maxNumberOfAttempts: number;
  backoffCoefficient?: number;
  maxRetryIntervalInMilliseconds?: number;
  retryTimeoutInMilliseconds?: number;
}

export interface OrchestratorAction {
  actionType: ActionType;
  functionName?: string;
  input?: unknown;
  retryOptions?: RetryOptionsJson;
  instanceId?: string;
  version?: string;
  fireAt?: string;
  isCanceled?: boolean;
  externalEventName?: string;
  compoundActions?: OrchestratorAction[];
}

/** What the orchestrator function returns (protocol doc §5.2). */
export interface OrchestratorState {
  isDone: boolean;
  actions: OrchestratorAction[][];
  output?: unknown;
  error?: string;
  customStatus?: unknown;
  schemaVersion?: number;
  failureDetails?: unknown;
}

/** Replay schemas: V4 (= 3) matches current Azure; without entity locks it is identical to V3. */
export const UPPER_SCHEMA_VERSION = 1;
export const UPPER_SCHEMA_VERSION_NEW = 3;
/** AzureStorage provider limits the extension passes to the SDK (§5.1, §5.8). */
export const MAXIMUM_SHORT_TIMER_MS = 6 * 86_400_000;
export const LONG_TIMER_INTERVAL_MS = 3 * 86_400_000;
export const DEFAULT_HTTP_ASYNC_SLEEP_MS = 30_000;

/** The orchestration trigger JSON (§5.1). */
export interface OrchestratorTrigger {
  history: HistoryEvent[];
  input: unknown;
  instanceId: string;
  isReplaying: boolean;
  parentInstanceId: string | null;
  upperSchemaVersion: number;
  upperSchemaVersionNew: number;
  longRunningTimerIntervalDuration: string;
  maximumShortTimerDuration: string;
  defaultHttpAsyncRequestSleepTimeMillseconds: number;
}

const OUT_OF_PROC_MARKER = '$OutOfProcData$:';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates an orchestrator's returned state (object or JSON text); errors name the field. */
export function parseOrchestratorState(value: unknown): OrchestratorState {
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new Error('orchestrator state: the returned value is not JSON');
    }
  }
  if (!isRecord(parsed)) throw new Error('orchestrator state: must be an object with isDone and actions');
  if (typeof parsed.isDone !== 'boolean') throw new Error('orchestrator state: isDone must be a boolean');
  if (!Array.isArray(parsed.actions) || !parsed.actions.every((a) => Array.isArray(a))) {
    throw new Error('orchestrator state: actions must be an array of action arrays (replay schema V2 or later)');
  }
  return parsed as unknown as OrchestratorState;
}

/**
 * A failing orchestrator throws an error whose message ends with `$OutOfProcData$:` + state JSON
 * (§5.2); the host may wrap it, so the message and its `cause` chain are searched.
 */
export function extractOutOfProcState(error: unknown): OrchestratorState | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    const message = current instanceof Error ? current.message : typeof current === 'string' ? current : '';
    const at = message.indexOf(OUT_OF_PROC_MARKER);
    if (at >= 0) {
      try {
        return parseOrchestratorState(message.slice(at + OUT_OF_PROC_MARKER.length));
      } catch {
        // fall through to the cause
      }
    }
    current = current instanceof Error ? current.cause : undefined;
  }
  return undefined;
}

/** C# TimeSpan text (`d.hh:mm:ss`) for whole-second durations, as the extension sends them. */
export function timeSpanText(ms: number): string {
  const totalSeconds = Math.floor(ms / 1000);
  const days = Math.floor(totalSeconds / 86_400);
  const hh = Math.floor((totalSeconds % 86_400) / 3600);
  const mm = Math.floor((totalSeconds % 3600) / 60);
  const ss = totalSeconds % 60;
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${days > 0 ? `${days}.` : ''}${two(hh)}:${two(mm)}:${two(ss)}`;
}

/**
 * Activity and continueAsNew inputs arrive JSON-encoded when they are strings (`Utils.processInput`);
 * the extension hands the activity the original value, so decode once and serialise (§5.4).
 */
export function encodeDoubleEncodedInput(input: unknown): string | null {
  if (input === undefined) return null;
  if (typeof input === 'string') {
    try {
      JSON.parse(input);
      return input;
    } catch {
      return JSON.stringify(input);
    }
  }
  return JSON.stringify(input);
}

/** Raw inputs (sub-orchestrations) are serialised as they are. */
export function encodeRawInput(input: unknown): string | null {
  return input === undefined ? null : JSON.stringify(input);
}

/** Parses stored JSON text; text that is not JSON (e.g. a terminate reason) is returned as a string. */
export function parseJsonText(text: string | null | undefined): unknown {
  if (text === null || text === undefined) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
