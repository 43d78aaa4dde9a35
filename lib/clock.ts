import { appConfig } from './config';

/**
 * The app's one reading of "now" outside orchestrators (which use `context.df.currentUtcDateTime`).
 *
 * In Azure it is the wall clock. Locally every part of the stack shares one clock (DESIGN §6): a host
 * that runs the app in-process with a test's manual clock registers it under {@link CLOCK_SYMBOL};
 * otherwise `RPO_CLOCK_SCALE` and `RPO_CLOCK_ORIGIN` (lib/config) make time run faster from the origin,
 * exactly as local/clock.ts computes it for the emulator and the host.
 */
export const CLOCK_SYMBOL = Symbol.for('rpo.clock');

interface RegisteredClock {
  now(): number;
}

function registered(): RegisteredClock | undefined {
  const value = (globalThis as Record<symbol, unknown>)[CLOCK_SYMBOL];
  return typeof value === 'object' && value !== null && typeof (value as RegisteredClock).now === 'function'
    ? (value as RegisteredClock)
    : undefined;
}

/** Epoch milliseconds on the stack's clock. */
export function nowMs(): number {
  const clock = registered();
  if (clock !== undefined) return clock.now();
  const { clockScale, clockOriginMs } = appConfig();
  const real = Date.now();
  if (clockScale === 1) return real;
  const origin = clockOriginMs ?? processStartMs;
  return origin + (real - origin) * clockScale;
}

/** `nowMs()` as an ISO string. */
export function nowIso(): string {
  return new Date(nowMs()).toISOString();
}

// Without RPO_CLOCK_ORIGIN a scaled clock starts at this process's start, as local/clock's ScaledClock does.
const processStartMs = Date.now();
