import { randomUUID } from 'node:crypto';

/** ARM resource ids: build, parse and key them. Lookups use the lower-cased id (ARM ids are case-insensitive). */

export const PROVIDER = 'Microsoft.Compute';

export type ResourceTypeName =
  'restorePointCollections' | 'disks' | 'virtualMachines' | 'availabilitySets' | 'virtualMachineScaleSets';

export interface ResourceScope {
  subscriptionId: string;
  resourceGroup: string;
}

/**
 * Joins into one flat string. Template literals build V8 cons-string trees (a node per part), which
 * for ids kept by the hundred thousand cost more memory than the text itself.
 */
export function flat(...parts: string[]): string {
  return parts.join('');
}

/**
 * A random GUID as a flat string. Node's randomUUID() returns a rope of ~20 cons-string nodes
 * (about 600 bytes); stored once per restore point, disk and operation that adds up.
 */
export function newGuid(): string {
  return Buffer.from(randomUUID(), 'latin1').toString('latin1');
}

/** A flat copy of a string that owns its characters (not a slice of a larger one). */
export function ownCopy(value: string): string {
  return Buffer.from(value, 'utf8').toString('utf8');
}

const interned = new Map<string, string>();

/**
 * One shared copy of a low-cardinality string (subscription ids, resource groups, regions,
 * api-versions). Copies taken from a request URL may be slices that keep the whole URL alive.
 */
export function intern(value: string): string {
  const known = interned.get(value);
  if (known !== undefined) return known;
  if (interned.size >= 100_000) interned.clear();
  const copy = ownCopy(value);
  interned.set(copy, copy);
  return copy;
}

export function resourceId(scope: ResourceScope, type: ResourceTypeName, name: string): string {
  return flat(
    '/subscriptions/',
    scope.subscriptionId,
    '/resourceGroups/',
    scope.resourceGroup,
    '/providers/',
    PROVIDER,
    '/',
    type,
    '/',
    name,
  );
}

export function restorePointId(collectionId: string, name: string): string {
  return flat(collectionId, '/restorePoints/', name);
}

export function diskRestorePointId(restorePointIdValue: string, name: string): string {
  return flat(restorePointIdValue, '/diskRestorePoints/', name);
}

/** The lookup key of an id: lower case, no trailing slash. */
export function idKey(id: string): string {
  const lower = id.toLowerCase();
  return lower.endsWith('/') ? lower.replace(/\/+$/, '') : lower;
}

export interface ParsedId extends ResourceScope {
  type: ResourceTypeName;
  name: string;
  /** Child segments after the top-level resource: [['restorePoints', 'rp1'], ['diskRestorePoints', 'd1']]. */
  children: [string, string][];
}

const TOP_TYPES: Record<string, ResourceTypeName> = {
  restorepointcollections: 'restorePointCollections',
  disks: 'disks',
  virtualmachines: 'virtualMachines',
  availabilitysets: 'availabilitySets',
  virtualmachinescalesets: 'virtualMachineScaleSets',
};

/** Parses a Microsoft.Compute id; undefined when it is not one. */
export function parseId(id: string): ParsedId | undefined {
  const parts = id.replace(/^\/+|\/+$/g, '').split('/');
  if (parts.length < 8 || parts.length % 2 !== 0) return undefined;
  const [subs, subscriptionId, rgs, resourceGroup, providers, provider, type, name] = parts;
  if (
    subs?.toLowerCase() !== 'subscriptions' ||
    rgs?.toLowerCase() !== 'resourcegroups' ||
    providers?.toLowerCase() !== 'providers' ||
    provider?.toLowerCase() !== PROVIDER.toLowerCase() ||
    !subscriptionId ||
    !resourceGroup ||
    !name
  )
    return undefined;
  const resourceType = TOP_TYPES[type?.toLowerCase() ?? ''];
  if (!resourceType) return undefined;
  const children: [string, string][] = [];
  for (let i = 8; i < parts.length; i += 2) children.push([parts[i] ?? '', parts[i + 1] ?? '']);
  return { subscriptionId, resourceGroup, type: resourceType, name, children };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isGuid(value: string): boolean {
  return GUID.test(value);
}

/**
 * ARM's generic resource-name rule: starts with a word character, ends with a word character or
 * `_`, contains word characters, `.`, `-`, `_`.
 */
export function isValidResourceName(name: string, maxLength: number): boolean {
  if (name.length === 0 || name.length > maxLength) return false;
  return /^\w([\w.-]*\w)?$/.test(name);
}

/** DiskRP's disk name rule (disk.json): letters, digits, `_`, `-`, up to 80 characters. */
export function isValidDiskName(name: string): boolean {
  return /^[a-zA-Z0-9_-]{1,80}$/.test(name);
}

/** Resource-group names: 1-90 characters of word characters, `-`, `_`, `(`, `)`, `.`, not ending in `.`. */
export function isValidResourceGroupName(name: string): boolean {
  return /^[-\w._()]{1,90}$/.test(name) && !name.endsWith('.');
}
