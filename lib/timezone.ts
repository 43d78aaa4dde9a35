/**
 * IANA time zone arithmetic on top of Intl (no tz database of our own): offsets, wall-clock to
 * instant with a fixed rule for DST gaps and overlaps, and the list of offset transitions.
 * Wall-clock times are represented as "local milliseconds": the local date and time read as if it
 * were UTC (so 2026-03-29 02:30 in Berlin is Date.UTC(2026, 2, 29, 2, 30)).
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** True for zones that never change offset, where the arithmetic below is the identity. */
function isUtc(timeZone: string): boolean {
  return timeZone === 'UTC' || timeZone === 'Etc/UTC';
}

const IANA_NAME = /^(UTC|[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,2})$/;

/**
 * True when `name` is an IANA zone name this runtime knows (`Europe/Berlin`, `UTC`). Offsets such as
 * `+01:00` and Windows names such as `W. Europe Standard Time` are refused: an offset has no DST, so
 * it is almost always a mistake for a zone, and Windows names are not IANA.
 */
export function isIanaTimeZone(name: string): boolean {
  if (!IANA_NAME.test(name)) return false;
  try {
    formatterFor(name);
    return true;
  } catch {
    return false;
  }
}

/** UTC offset in milliseconds (local minus UTC) of `timeZone` at `instantMs`. */
export function offsetMs(timeZone: string, instantMs: number): number {
  if (isUtc(timeZone)) return 0;
  const seconds = Math.floor(instantMs / 1000) * 1000;
  const parts = formatterFor(timeZone).formatToParts(new Date(seconds));
  const get = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.find((p) => p.type === type)?.value);
  const era = parts.find((p) => p.type === 'era')?.value;
  const year = era === 'BC' || era === 'B' ? 1 - get('year') : get('year');
  const local = Date.UTC(year, get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return local - seconds;
}

/** The wall-clock reading ("local milliseconds") of `instantMs` in `timeZone`. */
export function toLocalMs(timeZone: string, instantMs: number): number {
  return instantMs + offsetMs(timeZone, instantMs);
}

/**
 * The instant at which the wall clock of `timeZone` reads `localMs`. Fixed rule, so that a schedule
 * is one set of instants whatever range it is asked about:
 * - a reading that happens twice (DST ends) maps to the FIRST occurrence, so it fires once;
 * - a reading that never happens (DST starts) is read with the offset in force before the jump,
 *   which lands the same distance after the jump (02:30 in Berlin on the spring day is 03:30 CEST):
 *   a daily job still runs that day, and never twice.
 */
export function toInstantMs(timeZone: string, localMs: number): number {
  if (isUtc(timeZone)) return localMs;
  const before = offsetMs(timeZone, localMs - DAY_MS);
  const after = offsetMs(timeZone, localMs + DAY_MS);
  let best: number | undefined;
  for (const offset of before === after ? [before] : [before, after]) {
    const instant = localMs - offset;
    if (offsetMs(timeZone, instant) === offset && (best === undefined || instant < best)) best = instant;
  }
  return best ?? localMs - before;
}

/**
 * {@link toInstantMs} for a reading near one known transition, without asking Intl: the same rule
 * (first occurrence on overlap, offset-before in a gap), valid while no other transition is nearer than the reading.
 */
export function toInstantNear(transition: Transition, localMs: number): number {
  const early = localMs - transition.offsetBeforeMs;
  const late = localMs - transition.offsetAfterMs;
  const earlyValid = early < transition.atMs;
  const lateValid = late >= transition.atMs;
  if (earlyValid && lateValid) return Math.min(early, late);
  if (earlyValid) return early;
  if (lateValid) return late;
  return early;
}

/** An instant where the zone's offset changes, with the offsets on either side. */
export interface Transition {
  readonly atMs: number;
  readonly offsetBeforeMs: number;
  readonly offsetAfterMs: number;
}

const transitionCache = new Map<string, readonly Transition[]>();

/**
 * Offset changes of `timeZone` in [fromMs, toMs), found by sampling every 4 days and bisecting to
 * the second. Assumes offsets change at most once in 4 days, which holds for every zone's current
 * rules (the closest pairs, Morocco's Ramadan suspensions, are weeks apart).
 */
export function transitionsBetween(timeZone: string, fromMs: number, toMs: number): readonly Transition[] {
  if (isUtc(timeZone)) return [];
  const key = `${timeZone}|${fromMs}|${toMs}`;
  const cached = transitionCache.get(key);
  if (cached) return cached;
  const step = 4 * DAY_MS;
  const found: Transition[] = [];
  let previous = offsetMs(timeZone, fromMs);
  for (let t = fromMs; t < toMs; t += step) {
    const end = Math.min(t + step, toMs);
    const next = offsetMs(timeZone, end);
    if (next !== previous) {
      let lo = t;
      let hi = end;
      while (hi - lo > 1000) {
        const mid = Math.floor((lo + hi) / 2000) * 1000;
        if (mid <= lo) break;
        if (offsetMs(timeZone, mid) === previous) lo = mid;
        else hi = mid;
      }
      found.push({ atMs: hi, offsetBeforeMs: previous, offsetAfterMs: next });
      previous = next;
    }
  }
  if (transitionCache.size > 64) transitionCache.clear();
  transitionCache.set(key, found);
  return found;
}
