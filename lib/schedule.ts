import { parseNcrontab, type Ncrontab } from './ncrontab';
import { offsetMs, toInstantMs, toInstantNear, transitionsBetween, type Transition } from './timezone';

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

/*
 * How many slots a stretch of time holds: what retention by age keeps. A point is kept while it is at most
 * `maxAgeDays` old, so the points of one schedule present at once are the slots of a closed window
 * [now - age, now]; the worst case is the window holding the most slots.
 */

/** Readings of a cron whose instants are enumerated over the whole horizon: 24 a day (hourly) at most. */
const MAX_ENUMERATED_PER_DAY = 24;
const horizonCache = new Map<string, Float64Array>();
const windowCache = new Map<string, number>();

function remember<K, V>(cache: Map<K, V>, limit: number, key: K, value: V): V {
  if (cache.size >= limit) cache.clear();
  cache.set(key, value);
  return value;
}

/**
 * Every slot instant of a cron in (CADENCE_HORIZON.fromMs, CADENCE_HORIZON.toMs], ascending, by the same rule
 * as {@link slotTimesBetween}, but asking Intl only for the zone's transitions: each reading maps by the offsets
 * of the transition nearest to it (the one whose wall-clock moment is closest), which is exact while offsets
 * change at most once every few days. Fast enough for 175,000 hourly slots (tens of ms).
 */
function cronHorizonSlotTimes(schedule: CronSchedule): Float64Array {
  const zone = zoneOf(schedule);
  const key = `${schedule.cron}|${zone}`;
  const cached = horizonCache.get(key);
  if (cached !== undefined) return cached;
  const pattern = compile(schedule.cron);
  if (pattern.secondsOfDay.length > MAX_ENUMERATED_PER_DAY) {
    throw new RangeError(
      `${schedule.cron} fires ${pattern.secondsOfDay.length} times a day; slots over the horizon are counted for at most ${MAX_ENUMERATED_PER_DAY}`,
    );
  }
  const { fromMs, toMs } = CADENCE_HORIZON;
  const transitions: readonly Transition[] = UTC_ZONES.has(zone.toUpperCase())
    ? []
    : transitionsBetween(zone, fromMs, toMs);
  const fixedOffset = transitions.length === 0 ? offsetMs(zone, fromMs) : 0;
  const pivots = transitions.map((t) => t.atMs + t.offsetBeforeMs);
  const firstDay = Math.floor((fromMs - DAY_MS) / DAY_MS);
  const lastDay = Math.floor((toMs + DAY_MS) / DAY_MS);
  const times = pattern.secondsOfDay.map((second) => second * SECOND_MS);
  const instants = new Float64Array((lastDay - firstDay + 1) * times.length);
  let count = 0;
  let ordered = true;
  let k = 0;
  for (let day = firstDay; day <= lastDay; day++) {
    if (!pattern.matchesDay(day)) continue;
    for (const time of times) {
      const local = day * DAY_MS + time;
      let instant: number;
      if (transitions.length === 0) instant = local - fixedOffset;
      else {
        while (
          k + 1 < pivots.length &&
          Math.abs((pivots[k + 1] as number) - local) <= Math.abs((pivots[k] as number) - local)
        ) {
          k++;
        }
        instant = toInstantNear(transitions[k] as Transition, local);
      }
      if (instant > fromMs && instant <= toMs) {
        if (count > 0 && instant < (instants[count - 1] as number)) ordered = false;
        instants[count++] = instant;
      }
    }
  }
  // Readings map in order except in a spring-forward gap, where a skipped reading lands after later ones.
  const sorted = ordered ? instants.subarray(0, count) : instants.subarray(0, count).sort();
  // A skipped reading lands after the jump, possibly on another slot: one slot per instant.
  let length = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (length === 0 || sorted[i] !== sorted[length - 1]) sorted[length++] = sorted[i] as number;
  }
  return remember(horizonCache, 4, key, sorted.slice(0, length));
}

/**
 * The most slots that any closed window of `windowMs` holds: how many points of this schedule are present at
 * once when each is kept until it is `windowMs` old (created at its slot). `everyHours`: floor(window / period) + 1.
 * Cron: the largest count over windows that start at a slot within {@link CADENCE_HORIZON} (exact for windows of up
 * to half the horizon, ten years), DST included. For crons firing at most 24 times a day (every valid policy);
 * throws RangeError for denser ones.
 */
export function mostSlotsWithin(schedule: Schedule, windowMs: number): number {
  if (!(windowMs >= 0)) throw new RangeError(`windowMs must be >= 0, got ${windowMs}`);
  if (isEveryHours(schedule)) return Math.floor(windowMs / (schedule.everyHours * HOUR_MS)) + 1;
  const key = `most|${schedule.cron}|${zoneOf(schedule)}|${windowMs}`;
  const cached = windowCache.get(key);
  if (cached !== undefined) return cached;
  const slots = cronHorizonSlotTimes(schedule);
  let most = 0;
  for (let i = 0, j = 0; i < slots.length; i++) {
    while (j < slots.length && (slots[j] as number) - (slots[i] as number) <= windowMs) j++;
    most = Math.max(most, j - i);
  }
  return remember(windowCache, 512, key, most);
}

/**
 * The shortest time from a slot to the `count`-th slot counted from it (so `count` slots lie in a closed window
 * of that length, and none shorter holds them): `mostSlotsWithin(schedule, w) >= count` exactly when
 * `w >= shortestSpanOf(schedule, count)`. Infinity when the schedule never fires `count` times within
 * {@link CADENCE_HORIZON}. Same scope and limits as {@link mostSlotsWithin}.
 */
export function shortestSpanOf(schedule: Schedule, count: number): number {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a whole number >= 1, got ${count}`);
  if (isEveryHours(schedule)) return (count - 1) * schedule.everyHours * HOUR_MS;
  const key = `span|${schedule.cron}|${zoneOf(schedule)}|${count}`;
  const cached = windowCache.get(key);
  if (cached !== undefined) return cached;
  const slots = cronHorizonSlotTimes(schedule);
  let shortest = Infinity;
  for (let i = 0; i + count - 1 < slots.length; i++) {
    shortest = Math.min(shortest, (slots[i + count - 1] as number) - (slots[i] as number));
  }
  return remember(windowCache, 512, key, shortest);
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
