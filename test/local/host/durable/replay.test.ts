import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ActionType,
  EventType,
  extractOutOfProcState,
  type HistoryEvent,
  type OrchestratorAction,
} from '../../../../local/host/durable/protocol';
import { ReplayError, replayOrchestration } from '../../../../local/host/durable/replay';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const iso = (ms: number): string => new Date(ms).toISOString();

function ev(type: EventType, fields: Partial<HistoryEvent> = {}, at = T0): HistoryEvent {
  return { EventType: type, EventId: -1, IsPlayed: false, Timestamp: iso(at), ...fields };
}

const begin = (at = T0): HistoryEvent[] => [
  ev(EventType.OrchestratorStarted, {}, at),
  ev(EventType.ExecutionStarted, { Name: 'o', Input: null }, at),
];

const activity = (name: string): OrchestratorAction => ({ actionType: ActionType.CallActivity, functionName: name });

/** Runs one episode and appends what the host would write, like the engine does. */
function episode(history: HistoryEvent[], actions: OrchestratorAction[], at: number): HistoryEvent[] {
  const result = replayOrchestration({ instanceId: 'i', executionId: 'e', history, actions, nowIso: iso(at) });
  return [...history, ...result.newEvents, ev(EventType.OrchestratorCompleted, {}, at)];
}

describe('replayOrchestration', () => {
  it('numbers new activities after the ones history already has', () => {
    let history = episode(begin(), [activity('a')], T0);
    history = [
      ...history,
      ev(EventType.OrchestratorStarted, {}, T0 + 1),
      ev(EventType.TaskCompleted, { TaskScheduledId: 0, Result: '1' }),
    ];
    const result = replayOrchestration({
      instanceId: 'i',
      executionId: 'e',
      history,
      actions: [activity('a'), activity('b')],
      nowIso: iso(T0 + 1),
    });
    expect(result.newEvents.map((e) => [EventType[e.EventType], e.EventId, e.Name])).toEqual([
      ['TaskScheduled', 1, 'b'],
    ]);
    expect(result.nextEventId).toBe(2);
  });

  it('retries with a timer after each failure and a dummy timer after the last (max 2)', () => {
    const retry: OrchestratorAction = {
      actionType: ActionType.CallActivityWithRetry,
      functionName: 'f',
      retryOptions: { firstRetryIntervalInMilliseconds: 1000, maxNumberOfAttempts: 2 },
    };
    let history = episode(begin(), [retry], T0);
    const fail = (id: number, at: number) => [
      ev(EventType.OrchestratorStarted, {}, at),
      ev(EventType.TaskFailed, { TaskScheduledId: id, Reason: 'x', Details: '' }, at),
    ];
    const fire = (id: number, at: number) => [
      ev(EventType.OrchestratorStarted, {}, at),
      ev(EventType.TimerFired, { TimerId: id }, at),
    ];
    history = episode([...history, ...fail(0, T0 + 10)], [retry], T0 + 10);
    history = episode([...history, ...fire(1, T0 + 1010)], [retry], T0 + 1010);
    history = episode([...history, ...fail(2, T0 + 1020)], [retry], T0 + 1020);
    const created = history
      .filter((e) => e.EventId >= 0)
      .map((e) => `${EventType[e.EventType]}#${e.EventId}@${e.FireAt ?? ''}`);
    expect(created).toEqual([
      'TaskScheduled#0@',
      `TimerCreated#1@${iso(T0 + 1010)}`,
      'TaskScheduled#2@',
      `TimerCreated#3@${iso(T0 + 1020)}`,
    ]);
  });

  it('numbers WhenAll children in order whatever order they complete in', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 12 })
          .chain((n) =>
            fc.tuple(fc.constant(n), fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n })),
          ),
        ([n, order]) => {
          const all: OrchestratorAction = {
            actionType: ActionType.WhenAll,
            compoundActions: [...Array(n).keys()].map((i) => activity(`a${i}`)),
          };
          let history = episode(begin(), [all], T0);
          for (const id of order) {
            history = [
              ...history,
              ev(EventType.OrchestratorStarted, {}, T0 + 1),
              ev(EventType.TaskCompleted, { TaskScheduledId: id, Result: 'null' }),
            ];
          }
          const result = replayOrchestration({
            instanceId: 'i',
            executionId: 'e',
            history,
            actions: [all, activity('next')],
            nowIso: iso(T0 + 2),
          });
          expect(result.newEvents.map((e) => e.EventId)).toEqual([n]);
        },
      ),
    );
  });

  it('gives a cancelled timer its id without ever waiting for it', () => {
    const timer: OrchestratorAction = {
      actionType: ActionType.CreateTimer,
      fireAt: iso(T0 + 3_600_000),
      isCanceled: true,
    };
    const event: OrchestratorAction = { actionType: ActionType.WaitForExternalEvent, externalEventName: 'go' };
    const result = replayOrchestration({
      instanceId: 'i',
      executionId: 'e',
      history: begin(),
      actions: [{ actionType: ActionType.WhenAny, compoundActions: [event, timer] }, activity('after')],
      nowIso: iso(T0),
    });
    expect(result.newEvents.map((e) => `${EventType[e.EventType]}#${e.EventId}`)).toEqual([
      'TimerCreated#0',
      'TaskScheduled#1',
    ]);
  });

  it('chains timers longer than 6 days in steps of at most 3 days', () => {
    const fireAt = T0 + 10 * 86_400_000;
    const action: OrchestratorAction = { actionType: ActionType.CreateTimer, fireAt: iso(fireAt), isCanceled: false };
    let history = episode(begin(), [action], T0);
    for (let chunk = 0; chunk < 3; chunk++) {
      const last = history.filter((e) => e.EventType === EventType.TimerCreated).at(-1) as HistoryEvent;
      const firedAt = Date.parse(last.FireAt ?? '');
      history = episode(
        [
          ...history,
          ev(EventType.OrchestratorStarted, {}, firedAt),
          ev(EventType.TimerFired, { TimerId: last.EventId }, firedAt),
        ],
        [action],
        firedAt,
      );
    }
    const days = history
      .filter((e) => e.EventType === EventType.TimerCreated)
      .map((e) => (Date.parse(e.FireAt ?? '') - T0) / 86_400_000);
    expect(days).toEqual([3, 6, 9, 10]);
  });

  it('reports non-determinism when the orchestrator asks for something else than history recorded', () => {
    const history = episode(begin(), [activity('a')], T0);
    expect(() =>
      replayOrchestration({ instanceId: 'i', executionId: 'e', history, actions: [activity('b')], nowIso: iso(T0) }),
    ).toThrow(/Non-Deterministic workflow detected: history has TaskScheduled 'a' with id 0/);
    expect(() =>
      replayOrchestration({ instanceId: 'i', executionId: 'e', history, actions: [], nowIso: iso(T0) }),
    ).toThrow(/no longer schedules/);
  });

  it('refuses every entity and HTTP action as not supported by the local host', () => {
    for (const type of [
      ActionType.CallEntity,
      ActionType.CallHttp,
      ActionType.SignalEntity,
      ActionType.ScheduledSignalEntity,
      ActionType.LockEntities,
      ActionType.ReleaseEntities,
    ]) {
      expect(() =>
        replayOrchestration({
          instanceId: 'i',
          executionId: 'e',
          history: begin(),
          actions: [{ actionType: type }],
          nowIso: iso(T0),
        }),
      ).toThrow(ReplayError);
      expect(() =>
        replayOrchestration({
          instanceId: 'i',
          executionId: 'e',
          history: begin(),
          actions: [{ actionType: type }],
          nowIso: iso(T0),
        }),
      ).toThrow(/not supported by the local host/);
    }
  });

  it('finds the orchestrator state in a failure message, also through a wrapping error', () => {
    const state = { isDone: false, actions: [[]], error: 'boom' };
    const inner = new Error(`false\n\n$OutOfProcData$:${JSON.stringify(state)}`);
    expect(extractOutOfProcState(inner)?.error).toBe('boom');
    expect(extractOutOfProcState(new Error('wrapped', { cause: inner }))?.error).toBe('boom');
    expect(extractOutOfProcState(new Error('plain'))).toBeUndefined();
  });
});
