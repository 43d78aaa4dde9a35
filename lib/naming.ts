import { createHash } from 'node:crypto';
import { ValidationError } from './validation';

/**
 * Every name RPO gives to something in Azure or in Durable Functions, in one place.
 *
 * All functions here are pure and deterministic (no clock, no randomness): a retried step computes
 * the same name again and so finds its own restore point / collection / instance instead of making a
 * second one. Design: docs/naming-and-retention.md.
 */

/** `[a-z0-9-]{1,40}` (DESIGN §3). */
export const POLICY_NAME = /^[a-z0-9-]{1,40}$/;

/**
 * Policy names that would make restore point names ambiguous: `rpo-ondemand-…` always means an on-demand
 * point, so a policy may not be called `ondemand` or `ondemand-…`.
 */
export function isReservedPolicyName(name: string): boolean {
  return name === 'ondemand' || name.startsWith('ondemand-');
}

/**
 * Id of an on-demand run (HTTP `POST /api/backups`, restores, onboarding): lower-case letters, digits and
 * inner hyphens, 1–50 characters (a lower-case GUID fits). It ends up in a restore point name, which must end
 * with a letter or digit, and in orchestration ids, which are capped at 100 characters.
 */
export const RUN_ID = /^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$/;

const RESTORE_POINT_PREFIX = 'rpo-';
const ONDEMAND_PREFIX = 'rpo-ondemand-';
const SLOT_DIGITS = 12;

/** The tags RPO puts on every restore point collection it creates; retention only touches points inside such a collection. */
export const RPO_MANAGED_TAG = 'rpo-managed';
export const RPO_SOURCE_VM_TAG = 'rpo-source-vm';
export const RPO_ROLE_TAG = 'rpo-role';
/** Azure tag values are at most 256 characters. */
const TAG_VALUE_MAX = 256;

/** Durable Functions instance ids: at most 100 characters, none of `/ \ # ?` or control characters. */
export const INSTANCE_ID_MAX = 100;
// eslint-disable-next-line no-control-regex
const INSTANCE_ID_FORBIDDEN = /[/\\#?\u0000-\u001f\u007f-\u009f]/;

function invalid(field: string, rule: string, message: string): ValidationError {
  return new ValidationError('name input', [{ field, rule, message }]);
}

/** Checks a policy name as used in names; throws a ValidationError naming `field`. */
export function assertPolicyName(name: unknown, field = 'policy'): asserts name is string {
  if (typeof name !== 'string' || !POLICY_NAME.test(name)) {
    throw invalid(field, 'policy-name', `must match [a-z0-9-]{1,40}, got ${describe(name)}`);
  }
  if (isReservedPolicyName(name)) {
    throw invalid(
      field,
      'reserved-policy-name',
      `"${name}" is reserved: rpo-ondemand-… names on-demand restore points`,
    );
  }
}

/** Checks an on-demand / restore run id; throws a ValidationError naming `field`. */
export function assertRunId(id: unknown, field = 'id'): asserts id is string {
  if (typeof id !== 'string' || !RUN_ID.test(id)) {
    throw invalid(
      field,
      'run-id',
      `must be 1-50 lower-case letters, digits and inner hyphens (e.g. a lower-case GUID), got ${describe(id)}`,
    );
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  return value === undefined ? 'nothing' : typeof value;
}

// ---------------------------------------------------------------------------------------------
// Slots

/** A schedule slot: a Date, epoch milliseconds or an ISO 8601 string; it must fall on a whole UTC minute. */
export type SlotInput = Date | number | string;

/** The slot as epoch milliseconds, validated (finite, whole minute, year 2000–9999). */
export function slotMs(slot: SlotInput, field = 'slot'): number {
  const ms = slot instanceof Date ? slot.getTime() : typeof slot === 'number' ? slot : Date.parse(slot);
  if (!Number.isFinite(ms)) throw invalid(field, 'date', `must be a valid date, got ${describe(slot)}`);
  if (ms % 60_000 !== 0) throw invalid(field, 'whole-minute', 'must fall on a whole minute (no seconds)');
  const year = new Date(ms).getUTCFullYear();
  if (year < 2000 || year > 9999) throw invalid(field, 'year', `must be in the years 2000-9999, got ${year}`);
  return ms;
}

/** `2026-11-22T18:00:00.000Z`: the form used in `policy-run:{policy}:{slotIso}` ids. */
export function slotIso(slot: SlotInput): string {
  return new Date(slotMs(slot)).toISOString();
}

/** `yyyyMMddHHmm` in UTC. */
export function slotStamp(slot: SlotInput): string {
  return slotIso(slot).slice(0, 16).replace(/[-T:]/g, '');
}

function slotFromStamp(stamp: string): Date | undefined {
  if (!/^\d{12}$/.test(stamp)) return undefined;
  const iso = `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(8, 10)}:${stamp.slice(10, 12)}:00.000Z`;
  const ms = Date.parse(iso);
  // Date.parse accepts 2026-02-30 and rolls it over; a real stamp survives the round trip.
  if (!Number.isFinite(ms) || new Date(ms).toISOString() !== iso) return undefined;
  return new Date(ms);
}

// ---------------------------------------------------------------------------------------------
// Restore point names

/** `rpo-{policy}-{yyyyMMddHHmm}` (slot in UTC), at most 57 characters. */
export function policyRestorePointName(policy: string, slot: SlotInput): string {
  assertPolicyName(policy);
  return `${RESTORE_POINT_PREFIX}${policy}-${slotStamp(slot)}`;
}

/** `rpo-ondemand-{id}`, at most 63 characters. */
export function onDemandRestorePointName(id: string): string {
  assertRunId(id);
  return `${ONDEMAND_PREFIX}${id}`;
}

export type ParsedRestorePointName =
  | { readonly kind: 'policy'; readonly policy: string; readonly slot: Date }
  | { readonly kind: 'ondemand'; readonly id: string };

/**
 * Reads a restore point name back; `undefined` for a name RPO would not have given (a foreign point).
 * Exact and case-sensitive: RPO only ever writes lower-case names, so `RPO-…` is someone else's.
 */
export function parseRestorePointName(name: string): ParsedRestorePointName | undefined {
  if (typeof name !== 'string') return undefined;
  if (name.startsWith(ONDEMAND_PREFIX)) {
    const id = name.slice(ONDEMAND_PREFIX.length);
    return RUN_ID.test(id) ? { kind: 'ondemand', id } : undefined;
  }
  if (!name.startsWith(RESTORE_POINT_PREFIX)) return undefined;
  const rest = name.slice(RESTORE_POINT_PREFIX.length);
  const dash = rest.length - SLOT_DIGITS - 1;
  if (dash < 1 || rest[dash] !== '-') return undefined;
  const policy = rest.slice(0, dash);
  if (!POLICY_NAME.test(policy) || isReservedPolicyName(policy)) return undefined;
  const slot = slotFromStamp(rest.slice(dash + 1));
  return slot === undefined ? undefined : { kind: 'policy', policy, slot };
}

// ---------------------------------------------------------------------------------------------
// Restore point collections

const ARM_VM_ID =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/virtualMachines\/([^/]+)$/i;

/** Checks the shape of a VM ARM id (typed segments; full validation lives with the ARM client). */
function vmNameOf(vmId: unknown, field: string): string {
  if (typeof vmId !== 'string' || vmId.length > 1024 || INSTANCE_ID_FORBIDDEN.test(vmId.replaceAll('/', ''))) {
    throw invalid(field, 'vm-id', `must be a VM ARM id, got ${describe(vmId)}`);
  }
  const match = ARM_VM_ID.exec(vmId);
  if (match === null) {
    throw invalid(
      field,
      'vm-id',
      `must be /subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{name}, got ${describe(vmId)}`,
    );
  }
  return match[1] as string;
}

/** Azure region name as ARM writes it in `location`: `West Europe` → `westeurope`. */
export function normalizeRegion(region: unknown, field = 'targetRegion'): string {
  const normalized = typeof region === 'string' ? region.replace(/\s+/g, '').toLowerCase() : '';
  if (!/^[a-z0-9]{1,40}$/.test(normalized)) {
    throw invalid(field, 'region', `must be an Azure region such as westeurope, got ${describe(region)}`);
  }
  return normalized;
}

/** First `length` hex digits of SHA-256 of `text`: short, stable, and the same in every process. */
export function shortHash(text: string, length = 12): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, length);
}

/** A readable, name-safe fragment: lower-case, runs of other characters → `-`, trimmed, at most `max` long. */
function slug(text: string, max: number, fallback = 'vm'): string {
  const s = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, max)
    .replace(/^-+|-+$/g, '');
  return s === '' ? fallback : s;
}

/**
 * Collection for a VM's own restore points, in the VM's region and resource group:
 * `rpo-{vm}-{hash12}` (≤ 57 chars, `[a-z0-9-]`). The hash is over the lower-cased VM id, so two VMs called
 * `web1` in different resource groups or subscriptions never share a collection.
 */
export function sourceCollectionName(vmId: string): string {
  const vmName = vmNameOf(vmId, 'vmId');
  return `rpo-${slug(vmName, 40)}-${shortHash(vmId.toLowerCase())}`;
}

/**
 * Collection that receives a VM's copies in `targetRegion`: `rpo-{vm}-to-{region}-{hash12}` (≤ 77 chars).
 * Collision-free when many VMs with the same name, from any resource group or subscription, copy into one
 * target resource group, and when one VM copies into several regions through one resource group.
 */
export function copyCollectionName(vmId: string, targetRegion: string): string {
  const vmName = vmNameOf(vmId, 'vmId');
  const region = normalizeRegion(targetRegion);
  return `rpo-${slug(vmName, 32)}-to-${region.slice(0, 24)}-${shortHash(`${vmId.toLowerCase()}|${region}`)}`;
}

/** Tags RPO writes on a collection it creates. `rpo-source-vm` is left out if the id exceeds a tag value's 256 chars. */
export function rpoCollectionTags(vmId: string, role: 'source' | 'copy'): Record<string, string> {
  vmNameOf(vmId, 'vmId');
  const tags: Record<string, string> = { [RPO_MANAGED_TAG]: 'true', [RPO_ROLE_TAG]: role };
  const id = vmId.toLowerCase();
  if (id.length <= TAG_VALUE_MAX) tags[RPO_SOURCE_VM_TAG] = id;
  return tags;
}

/** The parts of an ARM restore point collection this module looks at. */
export interface CollectionLike {
  readonly id?: string;
  readonly tags?: Readonly<Record<string, string | undefined>> | null;
}

/** The parts of an ARM restore point this module looks at. */
export interface RestorePointLike {
  readonly name?: string;
  readonly id?: string;
}

/** Whether a collection carries `rpo-managed: true` (tag names compared case-insensitively, as ARM does). */
export function isRpoCollection(collection: CollectionLike | undefined | null): boolean {
  const tags = collection?.tags;
  if (tags === undefined || tags === null) return false;
  for (const [key, value] of Object.entries(tags)) {
    if (key.toLowerCase() === RPO_MANAGED_TAG && typeof value === 'string' && value.toLowerCase() === 'true') {
      return true;
    }
  }
  return false;
}

/**
 * A restore point is RPO's only if BOTH its name is one RPO gives AND it lives in an RPO-tagged collection
 * (and, when both ids are known, the point's id is under that collection's id). A point someone named
 * `rpo-…` by hand in their own collection, or a foreign point in our collection, is never ours.
 */
export function isRpoRestorePoint(point: RestorePointLike, collection: CollectionLike | undefined | null): boolean {
  if (typeof point.name !== 'string' || parseRestorePointName(point.name) === undefined) return false;
  if (!isRpoCollection(collection)) return false;
  if (typeof point.id === 'string' && typeof collection?.id === 'string') {
    const prefix = `${collection.id.toLowerCase()}/restorepoints/`;
    if (!point.id.toLowerCase().startsWith(prefix)) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Durable orchestration instance ids

function instanceId(id: string): string {
  // Inputs are validated above, so this only guards against a mistake in this module.
  if (id.length > INSTANCE_ID_MAX || INSTANCE_ID_FORBIDDEN.test(id)) {
    throw new Error(`internal: instance id ${JSON.stringify(id)} breaks the Durable id rules`);
  }
  return id;
}

/** `policy-run:{policyName}:{slotIso}` (fixed by DESIGN §4), at most 76 chars. */
export function policyRunInstanceId(policy: string, slot: SlotInput): string {
  assertPolicyName(policy);
  return instanceId(`policy-run:${policy}:${slotIso(slot)}`);
}

/** The restore point name as it may appear inside an instance id (RPO's names pass unchanged). */
function pointNamePart(restorePointName: string, field: string): string {
  if (parseRestorePointName(restorePointName) === undefined) {
    throw invalid(
      field,
      'rpo-restore-point-name',
      `must be an RPO restore point name, got ${describe(restorePointName)}`,
    );
  }
  return restorePointName;
}

/**
 * One VM's backup for one restore point name: `vm-backup:{pointName}:{hash12(vmId)}` (≤ 86 chars).
 * Same VM + same point name = same instance, whichever trigger asked: that is what keeps one creation per slot.
 */
export function vmBackupInstanceId(vmId: string, restorePointName: string): string {
  vmNameOf(vmId, 'vmId');
  return instanceId(
    `vm-backup:${pointNamePart(restorePointName, 'restorePointName')}:${shortHash(vmId.toLowerCase())}`,
  );
}

/** All members of one availability set / flexible scale set for one point name: `vm-set-backup:{pointName}:{hash12(setId)}`. */
export function vmSetBackupInstanceId(vmSetId: string, restorePointName: string): string {
  if (typeof vmSetId !== 'string' || !/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\//i.test(vmSetId)) {
    throw invalid('vmSetId', 'vm-set-id', `must be an availability set or scale set ARM id, got ${describe(vmSetId)}`);
  }
  return instanceId(
    `vm-set-backup:${pointNamePart(restorePointName, 'restorePointName')}:${shortHash(vmSetId.toLowerCase())}`,
  );
}

/**
 * One copy of one restore point to one region and resource group: `copy:{pointName}:{hash12(point|region|rg)}`.
 * The name part is sanitised (foreign points can be copied by disaster recovery) and capped at 60 chars.
 */
export function copyInstanceId(input: {
  sourceRestorePointId: string;
  targetRegion: string;
  targetResourceGroup: string;
}): string {
  const { sourceRestorePointId, targetResourceGroup } = input;
  const match =
    typeof sourceRestorePointId === 'string'
      ? /\/restorePointCollections\/[^/]+\/restorePoints\/([^/]+)$/i.exec(sourceRestorePointId)
      : null;
  if (match === null) {
    throw invalid(
      'sourceRestorePointId',
      'restore-point-id',
      `must be a restore point ARM id, got ${describe(sourceRestorePointId)}`,
    );
  }
  const region = normalizeRegion(input.targetRegion);
  if (typeof targetResourceGroup !== 'string' || !/^[-\w.()]{1,90}$/.test(targetResourceGroup)) {
    throw invalid(
      'targetResourceGroup',
      'resource-group',
      `must be a resource group name, got ${describe(targetResourceGroup)}`,
    );
  }
  const name = slug(match[1] as string, 60, 'point');
  const key = `${sourceRestorePointId.toLowerCase()}|${region}|${targetResourceGroup.toLowerCase()}`;
  return instanceId(`copy:${name}:${shortHash(key)}`);
}

/** An on-demand backup run (`POST /api/backups`): `backup:{id}`; its VMs' points are `rpo-ondemand-{id}`. */
export function onDemandBackupInstanceId(id: string): string {
  assertRunId(id);
  return instanceId(`backup:${id}`);
}

/** A restore (`POST /api/restores`): `restore:{id}`. */
export function restoreInstanceId(id: string): string {
  assertRunId(id);
  return instanceId(`restore:${id}`);
}

/**
 * A disaster recovery run for one event: `disaster-recovery:{eventId}` when the event id is a plain run id,
 * else `disaster-recovery:h:{hash16(source|id)}`. A redelivered event maps to the same instance.
 */
export function disasterRecoveryInstanceId(eventId: string, eventSource = ''): string {
  if (typeof eventId !== 'string' || eventId === '') {
    throw invalid('eventId', 'required', `must be the event's id, got ${describe(eventId)}`);
  }
  if (eventSource === '' && RUN_ID.test(eventId)) return instanceId(`disaster-recovery:${eventId}`);
  // `h:` cannot start a run id (no colons there), so the two forms never collide.
  return instanceId(`disaster-recovery:h:${shortHash(`${eventSource}|${eventId}`, 16)}`);
}

/** First restore point of a newly seen VM (Event Grid `ResourceWriteSuccess`): `onboarding:{hash16(vmId)}`. */
export function onboardingInstanceId(vmId: string): string {
  vmNameOf(vmId, 'vmId');
  return instanceId(`onboarding:${shortHash(vmId.toLowerCase(), 16)}`);
}
