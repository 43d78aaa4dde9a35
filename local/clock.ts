/**
 * One clock for every part of the local stack (DESIGN §6): real time, real time scaled by
 * RPO_CLOCK_SCALE, or a manual clock that tests advance. Timers scheduled on a clock fire in
 * clock time, so a 3-hour durable timer or throttle window passes in 3 s at scale 3600, or at
 * once when a test calls `advance('3h')`.
 */
export interface ClockTimer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the Unix epoch, in clock time. */
  now(): number;
  /** Runs `callback` once the clock reaches `atMs` (clock time); at once (next tick) if already past. */
  at(atMs: number, callback: () => void): ClockTimer;
  /** Resolves after `ms` of clock time. */
  sleep(ms: number): Promise<void>;
}

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `1500`, `'250ms'`, `'30s'`, `'5m'`, `'3h'`, `'2d'`, or combinations like `'1h30m'`. */
export function parseDuration(value: number | string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0)
      throw new RangeError(`duration must be a finite number ≥ 0, got ${value}`);
    return value;
  }
  const text = value.trim();
  const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let consumed = 0;
  for (const match of text.matchAll(pattern)) {
    total += Number(match[1]) * (UNITS[match[2] ?? 'ms'] ?? 1);
    consumed += match[0].length;
  }
  if (consumed === 0 || consumed !== text.length) {
    throw new RangeError(`duration "${value}" is not of the form 250ms, 30s, 5m, 3h, 2d (or a combination)`);
  }
  return total;
}

/** Real time multiplied by `scale` from the moment the clock is made (scale 1 = wall clock). */
export class ScaledClock implements Clock {
  private readonly realStart: number;
  private readonly clockStart: number;

  constructor(
    readonly scale = 1,
    startMs?: number,
    realStartMs = Date.now(),
  ) {
    if (!Number.isFinite(scale) || scale <= 0)
      throw new RangeError(`RPO_CLOCK_SCALE must be a number > 0, got ${scale}`);
    this.realStart = realStartMs;
    this.clockStart = startMs ?? this.realStart;
  }

  /** Clock time equals real time at `originMs` and runs `scale` times faster from there. */
  static fromOrigin(scale: number, originMs: number): ScaledClock {
    return new ScaledClock(scale, originMs, originMs);
  }

  now(): number {
    return this.clockStart + (Date.now() - this.realStart) * this.scale;
  }

  at(atMs: number, callback: () => void): ClockTimer {
    // Node timers cap at 2^31-1 ms; re-arm for longer waits.
    const MAX = 2_147_483_647;
    let handle: NodeJS.Timeout | undefined;
    let cancelled = false;
    const arm = (): void => {
      if (cancelled) return;
      const realDelay = Math.max(0, (atMs - this.now()) / this.scale);
      if (realDelay > MAX) {
        handle = setTimeout(arm, MAX);
      } else {
        handle = setTimeout(() => {
          if (!cancelled) callback();
        }, Math.ceil(realDelay));
      }
      handle.unref?.();
    };
    arm();
    return {
      cancel: () => {
        cancelled = true;
        if (handle) clearTimeout(handle);
      },
    };
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.ceil(ms / this.scale));
      void timer;
    });
  }
}

interface PendingTimer {
  atMs: number;
  seq: number;
  callback: () => void;
  cancelled: boolean;
}

/** A clock that only moves when `advance` or `set` is called; due timers fire in time order. */
export class ManualClock implements Clock {
  private current: number;
  private seq = 0;
  private pending: PendingTimer[] = [];

  constructor(startMs: number | string = Date.UTC(2026, 0, 1)) {
    this.current = typeof startMs === 'string' ? Date.parse(startMs) : startMs;
    if (!Number.isFinite(this.current)) throw new RangeError(`ManualClock start "${String(startMs)}" is not a date`);
  }

  now(): number {
    return this.current;
  }

  at(atMs: number, callback: () => void): ClockTimer {
    const timer: PendingTimer = { atMs, seq: this.seq++, callback, cancelled: false };
    if (atMs <= this.current) {
      queueMicrotask(() => {
        if (!timer.cancelled) callback();
      });
    } else {
      this.pending.push(timer);
    }
    return { cancel: () => void (timer.cancelled = true) };
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.at(this.current + ms, resolve));
  }

  /**
   * Moves time forward by `duration`, firing every timer that falls due on the way, in order.
   * Between timers it yields to the event loop so work they start (and timers that work schedules
   * inside the window) runs before time moves on.
   */
  async advance(duration: number | string): Promise<void> {
    await this.set(this.current + parseDuration(duration));
  }

  async set(targetMs: number): Promise<void> {
    if (targetMs < this.current) throw new RangeError('a ManualClock never goes backwards');
    for (;;) {
      await settle();
      this.pending = this.pending.filter((t) => !t.cancelled);
      this.pending.sort((a, b) => a.atMs - b.atMs || a.seq - b.seq);
      const next = this.pending[0];
      if (!next || next.atMs > targetMs) break;
      this.pending.shift();
      this.current = Math.max(this.current, next.atMs);
      next.callback();
    }
    this.current = targetMs;
    await settle();
  }
}

/** Lets promise chains and I/O callbacks already queued run to completion. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * The clock for a process of the local stack: RPO_CLOCK_SCALE from the environment (default 1).
 * Processes that must agree on the time (the emulator and the host started by `npm start`) share
 * RPO_CLOCK_ORIGIN, a real epoch-ms instant at which clock time equals real time; from there clock
 * time runs `scale` times faster, so every process computes the same "now".
 */
export function clockFromEnvironment(env: NodeJS.ProcessEnv = process.env): ScaledClock {
  const raw = env.RPO_CLOCK_SCALE;
  const scale = raw === undefined || raw === '' ? 1 : Number(raw);
  if (!Number.isFinite(scale) || scale <= 0) {
    throw new RangeError(`RPO_CLOCK_SCALE must be a number > 0 (e.g. 3600 = an hour a second), got "${raw}"`);
  }
  const rawOrigin = env.RPO_CLOCK_ORIGIN;
  if (rawOrigin === undefined || rawOrigin === '') return new ScaledClock(scale);
  const origin = Number(rawOrigin);
  if (!Number.isSafeInteger(origin) || origin <= 0 || origin > Date.now()) {
    throw new RangeError(`RPO_CLOCK_ORIGIN must be a past instant in epoch milliseconds, got "${rawOrigin}"`);
  }
  return ScaledClock.fromOrigin(scale, origin);
}
