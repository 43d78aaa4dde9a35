import { type CollectionLike, isRpoRestorePoint, parseRestorePointName } from './naming';
import { ValidationError } from './validation';

/**
 * Which restore points to delete, decided from one listing of a VM's points (pure; the activity lists and
 * deletes). Safety first, in this order:
 *
 * 1. an incomplete listing deletes nothing;
 * 2. only RPO's points (RPO name AND RPO-tagged collection) are ever deleted;
 * 3. a point still in progress (Creating, Deleting, unknown state) is never deleted;
 * 4. the newest successful RPO point of the VM, and the newest successful one within the rules' scope,
 *    are never deleted, whatever the rules say.
 *
 * Then: failed points in scope go first and do not count toward `count`; a successful point in scope is
 * deleted if EITHER rule says so (beyond the newest `count`, or older than `maxAgeDays`); and finally, if the
 * VM's points (all collections, RPO's and foreign) + the one about to be created would exceed Azure's 500,
 * the oldest deletable RPO points (failed first) make room, or the plan is `blocked` when they cannot.
 * Decision record: docs/naming-and-retention.md.
 */

/** Azure keeps at most 500 restore points per VM, across all its collections. */
export const MAX_RESTORE_POINTS_PER_VM = 500;

interface PointState {
  readonly timeCreated?: string | Date | null;
  readonly provisioningState?: string | null;
}

/**
 * A restore point as ARM lists it: raw JSON keeps `timeCreated` / `provisioningState` under `properties`,
 * the @azure/arm-compute model has them at the top; both are read. A point without an id or name is
 * treated as foreign (never deleted, but counted toward the cap).
 */
export interface RetentionPoint extends PointState {
  readonly id?: string;
  readonly name?: string;
  readonly properties?: PointState | null;
}

export interface RetentionRules {
  /** Keep the newest N successful points (N ≥ 1). */
  readonly count?: number;
  /** Delete successful points created more than this many days before now. */
  readonly maxAgeDays?: number;
}

/** Which RPO points the count and age rules look at; points outside are only deleted to make room under the cap. */
export interface RetentionScope {
  /** Only points in these collections (e.g. the VM's source collection, or one copy target collection). */
  readonly collectionIds?: readonly string[];
  /** Only points named for this policy (`rpo-{policy}-…`); on-demand and other policies' points are left alone. */
  readonly policy?: string;
}

export interface RetentionInput {
  /** Every restore point of the VM, in every collection (the 500 cap counts them all). */
  readonly points: readonly RetentionPoint[];
  /** The collections the points live in (id and tags); a point whose collection is missing here is foreign. */
  readonly collections: readonly CollectionLike[];
  readonly retention: RetentionRules;
  readonly scope?: RetentionScope;
  readonly nowMs: number;
  /** False when any page or collection could not be listed: then nothing is deleted. */
  readonly listingComplete: boolean;
  /** A point is about to be created (or copied in): plan room for it under the cap. */
  readonly creatingOne?: boolean;
}

export type DeleteReason = 'failed' | 'count' | 'max-age' | 'cap';
export type KeepReason =
  'listing-incomplete' | 'foreign' | 'in-progress' | 'newest-successful' | 'out-of-scope' | 'within-rules' | 'no-time';

export interface RetentionDecision<R extends string> {
  readonly id: string;
  readonly name: string;
  readonly reason: R;
  /** Creation time used for ordering (timeCreated, else the slot in the name), when known. */
  readonly timeMs?: number;
}

export interface RetentionPlan {
  /** Oldest first. */
  readonly delete: readonly RetentionDecision<DeleteReason>[];
  /** Newest first. */
  readonly keep: readonly RetentionDecision<KeepReason>[];
  /** Set when `creatingOne` but there is no room under the cap even after every allowed delete. */
  readonly blocked?: string;
}

const DAY_MS = 86_400_000;

type State = 'succeeded' | 'failed' | 'in-progress';

interface Classified {
  readonly id: string;
  readonly name: string;
  /** Lower-cased id (ARM ids are case-insensitive); unique per listed point. */
  readonly key: string;
  readonly rpo: boolean;
  readonly inScope: boolean;
  readonly state: State;
  readonly timeMs: number | undefined;
}

/** Checks the rules; throws a ValidationError naming `retention.count` / `retention.maxAgeDays`. */
export function assertRetentionRules(rules: RetentionRules): void {
  const issues = [];
  if (rules.count !== undefined && !(Number.isInteger(rules.count) && rules.count >= 1)) {
    issues.push({ field: 'count', rule: 'minimum', message: `must be a whole number ≥ 1, got ${String(rules.count)}` });
  }
  if (rules.maxAgeDays !== undefined && !(Number.isFinite(rules.maxAgeDays) && rules.maxAgeDays > 0)) {
    issues.push({
      field: 'maxAgeDays',
      rule: 'minimum',
      message: `must be a number of days > 0, got ${String(rules.maxAgeDays)}`,
    });
  }
  if (issues.length > 0) throw new ValidationError('retention', issues);
}

export function planRetention(input: RetentionInput): RetentionPlan {
  assertRetentionRules(input.retention);
  const all = dedupe(input.points.map((p, index) => classify(p, index, input)));

  if (!input.listingComplete) {
    return { delete: [], keep: sortNewestFirst(all).map((c) => decision(c, 'listing-incomplete')) };
  }

  const rpoSucceeded = all.filter((c) => c.rpo && c.state === 'succeeded' && c.timeMs !== undefined);
  const protectedIds = new Set<string>();
  const newestOverall = sortNewestFirst(rpoSucceeded)[0];
  const newestInScope = sortNewestFirst(rpoSucceeded.filter((c) => c.inScope))[0];
  if (newestOverall) protectedIds.add(key(newestOverall));
  if (newestInScope) protectedIds.add(key(newestInScope));

  const deletes = new Map<string, RetentionDecision<DeleteReason>>();
  const deletable = (c: Classified): boolean =>
    c.rpo && c.state !== 'in-progress' && c.timeMs !== undefined && !protectedIds.has(key(c));

  // Rules within scope: failed first (they never count toward N), then count and age on successful points.
  const { count, maxAgeDays } = input.retention;
  const cutoff = maxAgeDays === undefined ? undefined : input.nowMs - maxAgeDays * DAY_MS;
  for (const c of all) {
    if (c.inScope && c.state === 'failed' && deletable(c)) deletes.set(key(c), decision(c, 'failed'));
  }
  const successfulInScope = sortNewestFirst(all.filter((c) => c.inScope && c.state === 'succeeded'));
  successfulInScope.forEach((c, index) => {
    if (!deletable(c)) return;
    if (count !== undefined && index >= count) deletes.set(key(c), decision(c, 'count'));
    else if (cutoff !== undefined && (c.timeMs as number) < cutoff) deletes.set(key(c), decision(c, 'max-age'));
  });

  // Room under the cap: every point of the VM counts, foreign ones too, plus the one about to be made.
  let blocked: string | undefined;
  const total = all.length - deletes.size + (input.creatingOne === true ? 1 : 0);
  const excess = total - MAX_RESTORE_POINTS_PER_VM;
  if (excess > 0) {
    const candidates = all
      .filter((c) => deletable(c) && !deletes.has(key(c)))
      .sort((a, b) => rank(a) - rank(b) || compareOldestFirst(a, b));
    if (candidates.length >= excess) {
      for (const c of candidates.slice(0, excess)) deletes.set(key(c), decision(c, 'cap'));
    } else {
      // Deleting good points would not make room anyway: keep them and say why.
      blocked =
        `the VM has ${all.length} restore points (${all.filter((c) => !c.rpo).length} not created by RPO); ` +
        `${input.creatingOne === true ? 'one more ' : ''}needs ${excess} fewer to stay within Azure's ` +
        `${MAX_RESTORE_POINTS_PER_VM}, but only ${candidates.length} may be deleted by RPO`;
    }
  }

  const keep = sortNewestFirst(all.filter((c) => !deletes.has(key(c)))).map((c) => decision(c, keepReason(c)));
  const plan: RetentionPlan = {
    delete: [...deletes.values()].sort(compareDecisionsOldestFirst),
    keep,
  };
  return blocked === undefined ? plan : { ...plan, blocked };

  function keepReason(c: Classified): KeepReason {
    if (!c.rpo) return 'foreign';
    if (c.state === 'in-progress') return 'in-progress';
    if (c.timeMs === undefined) return 'no-time';
    if (protectedIds.has(key(c))) return 'newest-successful';
    if (!c.inScope) return 'out-of-scope';
    return 'within-rules';
  }
}

function classify(point: RetentionPoint, index: number, input: RetentionInput): Classified {
  const id = typeof point.id === 'string' ? point.id : '';
  const name = typeof point.name === 'string' ? point.name : '';
  const collectionId = parentCollectionId(id);
  const collection =
    collectionId === undefined ? undefined : input.collections.find((c) => c.id?.toLowerCase() === collectionId);
  const rpo = id !== '' && isRpoRestorePoint({ id, name }, collection);
  const parsed = parseRestorePointName(name);
  const scope = input.scope;
  const inCollections =
    scope?.collectionIds === undefined || scope.collectionIds.some((c) => c.toLowerCase() === collectionId);
  const forPolicy = scope?.policy === undefined || (parsed?.kind === 'policy' && parsed.policy === scope.policy);
  return {
    id,
    name,
    // A point without an id cannot be deleted anyway; give it a key no real id has.
    key: id === '' ? `\u0000${index}` : id.toLowerCase(),
    rpo,
    inScope: rpo && inCollections && forPolicy,
    state: stateOf(point.provisioningState ?? point.properties?.provisioningState),
    timeMs: timeOf(point.timeCreated ?? point.properties?.timeCreated, parsed),
  };
}

function stateOf(provisioningState: string | null | undefined): State {
  const s = provisioningState?.toLowerCase();
  if (s === 'succeeded') return 'succeeded';
  if (s === 'failed') return 'failed';
  return 'in-progress';
}

function timeOf(
  created: string | Date | null | undefined,
  parsed: ReturnType<typeof parseRestorePointName>,
): number | undefined {
  const ms = created instanceof Date ? created.getTime() : typeof created === 'string' ? Date.parse(created) : NaN;
  if (Number.isFinite(ms)) return ms;
  return parsed?.kind === 'policy' ? parsed.slot.getTime() : undefined;
}

/** `…/restorePointCollections/{c}` of `…/restorePointCollections/{c}/restorePoints/{p}`, lower-cased. */
function parentCollectionId(pointId: string): string | undefined {
  const match = /^(.*\/restorePointCollections\/[^/]+)\/restorePoints\/[^/]+$/i.exec(pointId);
  return match ? (match[1] as string).toLowerCase() : undefined;
}

/** ARM never lists a point twice, but a merged listing might: the first copy wins. */
function dedupe(points: readonly Classified[]): Classified[] {
  const seen = new Set<string>();
  return points.filter((c) => {
    if (seen.has(c.key)) return false;
    seen.add(c.key);
    return true;
  });
}

function key(c: Classified): string {
  return c.key;
}

/** Failed points make room before successful ones. */
function rank(c: Classified): number {
  return c.state === 'failed' ? 0 : 1;
}

function compareOldestFirst(a: Classified, b: Classified): number {
  return (a.timeMs ?? Infinity) - (b.timeMs ?? Infinity) || (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

function sortNewestFirst(list: readonly Classified[]): Classified[] {
  return [...list].sort((a, b) => compareOldestFirst(b, a));
}

function decision<R extends string>(c: Classified, reason: R): RetentionDecision<R> {
  return c.timeMs === undefined
    ? { id: c.id, name: c.name, reason }
    : { id: c.id, name: c.name, reason, timeMs: c.timeMs };
}

function compareDecisionsOldestFirst(a: RetentionDecision<string>, b: RetentionDecision<string>): number {
  const ka = a.id.toLowerCase();
  const kb = b.id.toLowerCase();
  return (a.timeMs ?? Infinity) - (b.timeMs ?? Infinity) || (ka < kb ? -1 : ka > kb ? 1 : 0);
}
