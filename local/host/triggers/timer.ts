/**
 * Timer triggers on the host's clock: 6-field NCRONTAB (seconds first, UTC) or a TimeSpan
 * (`hh:mm:ss`, `d.hh:mm:ss`), `%Setting%` references, runOnStartup, and `isPastDue` when an
 * invocation runs later than its occurrence (occurrences missed while the previous run was still
 * going, or while the host was behind, are caught up by one past-due invocation; a monitored
 * schedule whose occurrence passed while the host was down runs once, past due, at startup).
 */
import { parseNcrontab } from '../../../lib/ncrontab';
import { nextSlotAfter } from '../../../lib/schedule';
import type { Clock, ClockTimer } from '../../clock';
import { InvocationError, type InvocationResult } from '../core/invoke';
import type { RegisteredFunction } from '../core/registry';
import type { LoadedFunctionsApp } from '../load/appLoader';
import { resolveSettingReferences } from '../load/settings';
import { invokeWithRetry, retryPolicyOf, type RetryPolicy } from './retry';
import type { TimerStatusStore } from './timerStatus';
import type { HostLogger } from '../log';

/** Next occurrence strictly after `afterMs`, or undefined if the schedule never fires again. */
export type Schedule = (afterMs: number) => number | undefined;

/** .NET's DateTime.MinValue: the `Last` of a schedule that never ran. */
const MIN_DATE = '0001-01-01T00:00:00.000Z';

const iso = (ms: number): string => new Date(ms).toISOString();

export function parseSchedule(text: string, field: string): Schedule {
  const timeSpan = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$/.exec(text.trim());
  if (timeSpan) {
    const [, days = '0', hours = '0', minutes = '0', seconds = '0'] = timeSpan;
    const interval = ((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60_000 + Number(seconds) * 1000;
    if (interval <= 0) throw new Error(`${field}: the TimeSpan schedule "${text}" must be longer than zero`);
    return (after) => after + interval;
  }
  const fields = text.trim().split(/\s+/);
  if (fields.length !== 6) {
    throw new Error(
      `${field}: "${text}" must be a 6-field NCRONTAB expression ({second} {minute} {hour} {day} {month} {day-of-week}) or a TimeSpan hh:mm:ss`,
    );
  }
  // The project's own NCRONTAB reading (lib/ncrontab), the one policies use: day-of-month AND
  // day-of-week, no Quartz extensions, exactly as the Functions host reads a timer schedule.
  const schedule = { cron: text.trim() };
  try {
    parseNcrontab(schedule.cron);
  } catch (error) {
    throw new Error(`${field}: "${text}" is not a valid NCRONTAB expression (${(error as Error).message})`, {
      cause: error,
    });
  }
  return (after) => {
    const next = nextSlotAfter(schedule, after);
    return next === undefined ? undefined : Date.parse(next);
  };
}

export interface TimerInfoJson {
  Schedule: { AdjustForDST: boolean };
  ScheduleStatus: { Last: string; Next: string; LastUpdated: string };
  IsPastDue: boolean;
}

class TimerFunction {
  private timer: ClockTimer | undefined;
  private running: Promise<unknown> | undefined;
  private catchUpPending = false;
  private stopped = false;
  /** What the next invocation is told (TimerListener: the status saved by the previous one). */
  private status = { last: MIN_DATE, next: MIN_DATE, lastUpdated: MIN_DATE };
  private readonly retry: RetryPolicy | undefined;

  constructor(
    readonly fn: RegisteredFunction,
    private readonly schedule: Schedule,
    private readonly runOnStartup: boolean,
    private readonly app: LoadedFunctionsApp,
    private readonly clock: Clock,
    private readonly logger: HostLogger,
    private readonly monitor: TimerStatusStore | undefined,
  ) {
    this.retry = retryPolicyOf(fn);
  }

  /** Arms the schedule; runs the timer at once if the monitor shows a missed occurrence, or runOnStartup. */
  async start(): Promise<void> {
    const now = this.clock.now();
    const first = this.schedule(now);
    const saved = await this.monitor?.get(this.fn.name);
    let missed: number | undefined;
    if (saved) {
      this.status = saved;
      const recordedNext = Date.parse(saved.next);
      if (Number.isFinite(recordedNext) && now > recordedNext) missed = recordedNext;
    } else {
      this.status = { last: MIN_DATE, next: iso(first ?? now), lastUpdated: iso(now) };
      await this.monitor?.set(this.fn.name, this.status);
    }
    this.arm(first);
    if (missed !== undefined) void this.fire(true, 'missed while the host was down', missed).catch(() => undefined);
    else if (this.runOnStartup) void this.fire(false, 'runOnStartup').catch(() => undefined);
  }

  stop(): Promise<unknown> {
    this.stopped = true;
    this.timer?.cancel();
    return this.running ?? Promise.resolve();
  }

  private arm(at: number | undefined): void {
    if (at === undefined || this.stopped) return;
    this.timer = this.clock.at(at, () => this.onOccurrence(at));
  }

  private onOccurrence(at: number): void {
    if (this.stopped) return;
    // Arm the next occurrence first so a slow invocation never shifts the schedule.
    let next = this.schedule(at);
    let late = false;
    const now = this.clock.now();
    while (next !== undefined && next <= now) {
      late = true; // the host fell behind by whole occurrences: skip to the next future one
      next = this.schedule(next);
    }
    this.arm(next);
    if (this.running) {
      this.catchUpPending = true;
      return;
    }
    void this.fire(late, 'schedule', at).catch(() => undefined);
  }

  /** Runs one invocation; while it runs, further occurrences collapse into one past-due catch-up. */
  async fire(isPastDue: boolean, reason: string, occurrence?: number): Promise<InvocationResult> {
    while (this.running) await this.running.catch(() => undefined);
    const invocation = this.invokeOnce(isPastDue, reason, occurrence ?? this.clock.now());
    this.running = invocation;
    try {
      return await invocation;
    } finally {
      this.running = undefined;
      if (this.catchUpPending && !this.stopped) {
        this.catchUpPending = false;
        void this.fire(true, 'schedule (catch-up)').catch(() => undefined);
      }
    }
  }

  private invokeOnce(isPastDue: boolean, reason: string, occurrence: number): Promise<InvocationResult> {
    const info: TimerInfoJson = {
      Schedule: { AdjustForDST: true },
      ScheduleStatus: { Last: this.status.last, Next: this.status.next, LastUpdated: this.status.lastUpdated },
      IsPastDue: isPastDue,
    };
    const saveStatus = async (): Promise<void> => {
      const now = this.clock.now();
      const next = this.schedule(Math.max(occurrence, now)) ?? now;
      this.status = { last: iso(occurrence), next: iso(next), lastUpdated: iso(now) };
      try {
        await this.monitor?.set(this.fn.name, this.status);
      } catch (error) {
        this.logger.log(
          'warn',
          `timer ${this.fn.name}: could not save the schedule status: ${(error as Error).message}`,
        );
      }
    };
    const request = {
      inputData: [{ name: this.fn.trigger.name, data: { json: JSON.stringify(info) } }],
      reason: isPastDue ? `${reason}, past due` : reason,
    };
    return invokeWithRetry(this.app, this.fn, request, this.retry, this.clock, this.logger)
      .finally(saveStatus)
      .catch((error: unknown) => {
        if (!(error instanceof InvocationError)) {
          this.logger.log('error', `timer ${this.fn.name}: ${(error as Error).message}`);
        }
        throw error;
      });
  }
}

/** Azure monitors a schedule unless useMonitor is false; by default only when it recurs at most once a minute. */
function monitored(fn: RegisteredFunction, schedule: Schedule, now: number): boolean {
  if (typeof fn.trigger.useMonitor === 'boolean') return fn.trigger.useMonitor;
  const first = schedule(now);
  const second = first === undefined ? undefined : schedule(first);
  return first !== undefined && second !== undefined && second - first >= 60_000;
}

export class TimerTriggers {
  private readonly timers = new Map<string, TimerFunction>();

  constructor(app: LoadedFunctionsApp, clock: Clock, logger: HostLogger, statusStore?: TimerStatusStore) {
    for (const fn of app.functions) {
      if (fn.trigger.type.toLowerCase() !== 'timertrigger') continue;
      const field = `Function '${fn.name}' schedule`;
      if (typeof fn.trigger.schedule !== 'string') throw new Error(`${field} must be a string`);
      const schedule = parseSchedule(resolveSettingReferences(fn.trigger.schedule, process.env, field), field);
      const runOnStartup = fn.trigger.runOnStartup === true;
      const monitor = statusStore && monitored(fn, schedule, clock.now()) ? statusStore : undefined;
      this.timers.set(
        fn.name.toLowerCase(),
        new TimerFunction(fn, schedule, runOnStartup, app, clock, logger, monitor),
      );
    }
  }

  async start(): Promise<void> {
    for (const timer of this.timers.values()) await timer.start();
  }

  async stop(): Promise<void> {
    await Promise.allSettled([...this.timers.values()].map((t) => t.stop()));
  }

  has(name: string): boolean {
    return this.timers.has(name.toLowerCase());
  }

  /** Invokes the timer function now (admin invoke / test API); resolves when the invocation finishes. */
  trigger(name: string): Promise<InvocationResult> {
    const timer = this.timers.get(name.toLowerCase());
    if (!timer) return Promise.reject(new Error(`No timer-triggered function named '${name}'`));
    return timer.fire(false, 'manual');
  }
}
