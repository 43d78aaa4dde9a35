import { parseNcrontab, type Ncrontab } from './ncrontab';
import { toInstantMs, toInstantNear, transitionsBetween } from './timezone';

/**
 * When a policy fires. Slots are instants, written as ISO UTC strings (`2026-03-29T01:00:00.000Z`):
 * they name orchestration instances (`policy-run:{policy}:{slotIso}`) and restore points, so the same
 * schedule must always give the same slots, whichever range it is asked about.
 */
export type Schedule = EveryHoursSchedule | CronSchedule;

/** Every n hours, at k·n hours after 1970-01-01T00:00Z: every 6 h is 00, 06, 12, 18 UTC, in every zone. */
export interface EveryHoursSchedule {
  readonly everyHours: number;
}

/** NCRONTAB (6 fields, see lib/ncrontab) read on the wall clock of `timeZone` (IANA; default UTC). */
export interface CronSchedule {
  readonly cron: string;
  readonly timeZone?: string | undefined;
}

const SECOND_MS = 1000;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** How far to look for a next or previous firing: 29 February on a given weekday recurs within 28 years. */
const SEARCH_DAYS = 366 * 40;

/**
 * The span over which cron cadence is measured (minimum gap, DST transitions). Twenty years holds
 * every leap-year and weekday combination that matters and the time zone rules Intl knows for it.
 */
export const CADENCE_HORIZON = { fromMs: Date.UTC(2020, 0, 1), toMs: Date.UTC(2040, 0, 1) } as const;

function isEveryHours(schedule: Schedule): schedule is EveryHoursSchedule {
  return 'everyHours' in schedule;
}

const UTC_ZONES = new Set(['UTC', 'ETC/UTC', 'GMT', 'ETC/GMT', 'ETC/UCT', 'UCT', 'ZULU', 'ETC/ZULU']);

function zoneOf(schedule: CronSchedule): string {
  return schedule.timeZone ?? 'UTC';
}

const compiled = new Map<string, Ncrontab>();

/** Parses once per expression; the schedule functions run on every timer tick for every policy. */
function compile(expression: string): Ncrontab {
  let result = compiled.get(expression);
  if (result === undefined) {
    result = parseNcrontab(expression);
    if (compiled.size >= 512) compiled.clear();
    compiled.set(expression, result);
  }
  return result;
}

function everyHoursSlots(hours: number, fromExclusiveMs: number, toInclusiveMs: number): number[] {
  const period = hours * HOUR_MS;
  const out: number[] = [];
  for (let k = Math.floor(fromExclusiveMs / period) + 1; k * period <= toInclusiveMs; k++) out.push(k * period);
  return out;
}

/** Wall-clock readings in [fromLocalMs, toLocalMs], ascending, as local milliseconds. */
function* wallClockTimes(pattern: Ncrontab, fromLocalMs: number, toLocalMs: number): Generator<number> {
  for (let day = Math.floor(fromLocalMs / DAY_MS); day * DAY_MS <= toLocalMs; day++) {
    if (!pattern.matchesDay(day)) continue;
    for (const second of pattern.secondsOfDay) {
      const local = day * DAY_MS + second * SECOND_MS;
      if (local >= fromLocalMs && local <= toLocalMs) yield local;
    }
  }
}

/** The last wall-clock reading strictly before `beforeLocalMs` within `maxDays`, if any. */
function previousWallClockTime(pattern: Ncrontab, beforeLocalMs: number, maxDays: number): number | undefined {
  const lastDay = Math.floor(beforeLocalMs / DAY_MS);
  for (let day = lastDay; day > lastDay - maxDays; day--) {
    if (!pattern.matchesDay(day)) continue;
    for (let i = pattern.secondsOfDay.length - 1; i >= 0; i--) {
      const local = day * DAY_MS + (pattern.secondsOfDay[i] as number) * SECOND_MS;
      if (local < beforeLocalMs) return local;
    }
  }
  return undefined;
}

/** The first wall-clock reading strictly after `afterLocalMs` within `maxDays`, if any. */
function nextWallClockTime(pattern: Ncrontab, afterLocalMs: number, maxDays: number): number | undefined {
  const firstDay = Math.floor(afterLocalMs / DAY_MS);
  for (let day = firstDay; day < firstDay + maxDays; day++) {
    if (!pattern.matchesDay(day)) continue;
    for (const second of pattern.secondsOfDay) {
      const local = day * DAY_MS + second * SECOND_MS;
      if (local > afterLocalMs) return local;
    }
  }
  return undefined;
}

function cronSlots(schedule: CronSchedule, fromExclusiveMs: number, toInclusiveMs: number): number[] {
  const pattern = compile(schedule.cron);
  const zone = zoneOf(schedule);
  // A wall-clock reading lies within 14 h (the largest UTC offset) plus a DST jump of its instant,
  // so a day of margin on each side finds every reading whose instant falls in the range.
  const found = new Set<number>();
  for (const local of wallClockTimes(pattern, fromExclusiveMs - DAY_MS, toInclusiveMs + DAY_MS)) {
    const instant = toInstantMs(zone, local);
    if (instant > fromExclusiveMs && instant <= toInclusiveMs) found.add(instant);
  }
  return [...found].sort((a, b) => a - b);
}

/** Slot instants in (fromExclusiveMs, toInclusiveMs] as epoch milliseconds, strictly increasing. */
export function slotTimesBetween(schedule: Schedule, fromExclusiveMs: number, toInclusiveMs: number): number[] {
  if (toInclusiveMs <= fromExclusiveMs) return [];
  return isEveryHours(schedule)
    ? everyHoursSlots(schedule.everyHours, fromExclusiveMs, toInclusiveMs)
    : cronSlots(schedule, fromExclusiveMs, toInclusiveMs);
}

/**
 * Slots in (fromExclusiveMs, toInclusiveMs] as ISO UTC strings, strictly increasing. Half-open so
 * that consecutive timer ticks (last, now] never see a slot twice nor skip one.
 * DST: a wall-clock time that happens twice fires once (first occurrence); one that is skipped fires
 * the same distance after the jump, unless another slot is already there.
 */
export function slotsBetween(schedule: Schedule, fromExclusiveMs: number, toInclusiveMs: number): string[] {
  return slotTimesBetween(schedule, fromExclusiveMs, toInclusiveMs).map((ms) => new Date(ms).toISOString());
}

/** The first slot strictly after `ms`, or undefined if the schedule never fires again (`0 0 0 30 2 *`). */
export function nextSlotAfter(schedule: Schedule, ms: number): string | undefined {
  if (isEveryHours(schedule)) {
    const period = schedule.everyHours * HOUR_MS;
    return new Date((Math.floor(ms / period) + 1) * period).toISOString();
  }
  // In UTC the wall clock is the instant: no DST, no margin, no conversion. This is what a host timer
  // (`* * * * * *`, once a second) asks for every time it fires, so it must cost microseconds.
  if (UTC_ZONES.has(zoneOf(schedule).toUpperCase())) {
    const next = nextWallClockTime(compile(schedule.cron), ms, SEARCH_DAYS);
    return next === undefined ? undefined : new Date(next).toISOString();
  }
  // Widening windows: cheap for dense schedules, still bounded for `29 Feb on a Monday`.
  const limitMs = ms + SEARCH_DAYS * DAY_MS;
  for (let from = ms, width = 2 * DAY_MS; from < limitMs; from += width, width *= 4) {
    const [first] = cronSlots(schedule, from, Math.min(from + width, limitMs));
    if (first !== undefined) return new Date(first).toISOString();
  }
  return undefined;
}

/** The closest two consecutive slots of a schedule, and how far apart they are. */
export interface ClosestSlots {
  /** Smallest gap between consecutive slots, in ms; Infinity if it fires at most once. */
  readonly gapMs: number;
  /** An example pair at that gap (ISO), when the gap comes from a DST transition. */
  readonly between?: readonly [string, string];
}

const closestCache = new Map<string, ClosestSlots>();

function smallestDifference(sorted: readonly number[]): number {
  let min = Infinity;
  for (let i = 1; i < sorted.length; i++) min = Math.min(min, (sorted[i] as number) - (sorted[i - 1] as number));
  return min;
}

/** Smallest gap between consecutive wall-clock readings, ignoring time zones. */
function wallClockGapMs(pattern: Ncrontab): number {
  const times = pattern.secondsOfDay;
  const withinDay = smallestDifference(times) * SECOND_MS;
  let dayGap = pattern.everyDay ? 1 : Infinity;
  if (!pattern.everyDay) {
    let previous: number | undefined;
    for (let day = CADENCE_HORIZON.fromMs / DAY_MS; day < CADENCE_HORIZON.toMs / DAY_MS && dayGap > 1; day++) {
      if (!pattern.matchesDay(day)) continue;
      if (previous !== undefined) dayGap = Math.min(dayGap, day - previous);
      previous = day;
    }
  }
  const first = times[0] ?? 0;
  const last = times[times.length - 1] ?? 0;
  const acrossDays = dayGap === Infinity ? Infinity : dayGap * DAY_MS - (last - first) * SECOND_MS;
  return Math.min(withinDay, acrossDays);
}

function cronClosestSlots(schedule: CronSchedule): ClosestSlots {
  const pattern = compile(schedule.cron);
  const zone = zoneOf(schedule);
  let best: ClosestSlots = { gapMs: wallClockGapMs(pattern) };
  // More than 24 a day means a gap under an hour already: below every mode's minimum, no need for DST.
  if (pattern.secondsOfDay.length > 24) return best;
  // Pairs that straddle a DST change differ from their wall-clock gap: measure them on real instants,
  // from the last reading two days before each change to the first two days after.
  for (const transition of transitionsBetween(zone, CADENCE_HORIZON.fromMs, CADENCE_HORIZON.toMs)) {
    const pivot = transition.atMs + transition.offsetBeforeMs;
    const from = previousWallClockTime(pattern, pivot - 2 * DAY_MS, SEARCH_DAYS) ?? pivot - 2 * DAY_MS;
    const to = nextWallClockTime(pattern, pivot + 2 * DAY_MS, SEARCH_DAYS) ?? pivot + 2 * DAY_MS;
    // Readings within 3 days of the change map by its two offsets; farther ones (at most the two ends) ask Intl.
    const toInstant = (local: number): number =>
      Math.abs(local - pivot) <= 3 * DAY_MS ? toInstantNear(transition, local) : toInstantMs(zone, local);
    const instants = [...new Set([...wallClockTimes(pattern, from, to)].map(toInstant))].sort((a, b) => a - b);
    for (let i = 1; i < instants.length; i++) {
      const a = instants[i - 1] as number;
      const b = instants[i] as number;
      if (b - a < best.gapMs) {
        best = { gapMs: b - a, between: [new Date(a).toISOString(), new Date(b).toISOString()] };
      }
    }
  }
  return best;
}

/**
 * The closest two consecutive slots over {@link CADENCE_HORIZON}, DST included (a 3-hourly cron on
 * the local clock has a 2 h gap on the spring-forward night). Exact for schedules with at most 24
 * firings a day; denser ones report their wall-clock gap, already below every mode's minimum.
 * Throws NcrontabError for a bad expression.
 */
export function closestSlots(schedule: Schedule): ClosestSlots {
  if (isEveryHours(schedule)) return { gapMs: schedule.everyHours * HOUR_MS };
  const key = `${schedule.cron}|${zoneOf(schedule)}`;
  let result = closestCache.get(key);
  if (result === undefined) {
    result = cronClosestSlots(schedule);
    if (closestCache.size >= 512) closestCache.clear();
    closestCache.set(key, result);
  }
  return result;
}

/** Smallest gap between consecutive slots in ms: what policy validation compares with Azure's minimum interval. */
export function minimumGapMs(schedule: Schedule): number {
  return closestSlots(schedule).gapMs;
}

/** At most this many Missed slots are listed per policy and tick; the rest are only counted. */
export const MAX_LISTED_MISSED_SLOTS = 24;
/** Slots older than this before `now` are not enumerated at all (the host was down): reported as a range. */
export const MAX_LOOKBACK_MS = 31 * DAY_MS;

/** What a timer tick should do with the slots since the previous evaluation. */
export interface SlotClassification {
  /** The newest slot, if it is still within the start window: run it. At most one. */
  readonly due: string[];
  /** Slots to record as Missed, oldest first; at most {@link MAX_LISTED_MISSED_SLOTS} (the newest ones). */
  readonly missed: string[];
  /** Missed slots counted but not listed in `missed` (older than the listed ones). */
  readonly missedNotListed: number;
  /** A stretch not enumerated because it lies more than {@link MAX_LOOKBACK_MS} before now. */
  readonly notExamined?: { readonly fromExclusive: string; readonly toInclusive: string };
}

export interface ClassifySlotsInput {
  readonly schedule: Schedule;
  readonly startWindowMinutes: number;
  /** The `now` of the previous evaluation: slots at or before it were already handled. */
  readonly lastEvaluatedMs: number;
  readonly nowMs: number;
}

/**
 * Splits the slots in (lastEvaluated, now] into due and missed. Only the newest slot can be due, and
 * only while now - slot <= startWindowMinutes: running an older slot as well would put two restore
 * points on one VM back to back, against Azure's minimum interval, and the newest one already
 * restores the RPO. Every other slot is Missed. Work is bounded after a long outage: slots older
 * than {@link MAX_LOOKBACK_MS} are summarised as `notExamined`, and only the newest
 * {@link MAX_LISTED_MISSED_SLOTS} missed slots are listed, the rest counted in `missedNotListed`.
 */
export function classifySlots(input: ClassifySlotsInput): SlotClassification {
  const { schedule, startWindowMinutes, lastEvaluatedMs, nowMs } = input;
  const horizonStart = nowMs - MAX_LOOKBACK_MS;
  const from = Math.max(lastEvaluatedMs, horizonStart);
  const slots = slotTimesBetween(schedule, from, nowMs);
  const newest = slots[slots.length - 1];
  const isDue = newest !== undefined && nowMs - newest <= startWindowMinutes * 60_000;
  const missedAll = isDue ? slots.slice(0, -1) : slots;
  const listed = missedAll.slice(-MAX_LISTED_MISSED_SLOTS);
  const iso = (ms: number): string => new Date(ms).toISOString();
  return {
    due: isDue ? [iso(newest)] : [],
    missed: listed.map(iso),
    missedNotListed: missedAll.length - listed.length,
    ...(lastEvaluatedMs < horizonStart && nowMs > lastEvaluatedMs
      ? { notExamined: { fromExclusive: iso(lastEvaluatedMs), toInclusive: iso(horizonStart) } }
      : {}),
  };
}
