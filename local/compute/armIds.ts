/** ARM resource ids: build, parse and key them. Lookups use the lower-cased id (ARM ids are case-insensitive). */

export const PROVIDER = 'Microsoft.Compute';

export type ResourceTypeName =
  'restorePointCollections' | 'disks' | 'virtualMachines' | 'availabilitySets' | 'virtualMachineScaleSets';

export interface ResourceScope {
  subscriptionId: string;
  resourceGroup: string;
}

export function resourceId(scope: ResourceScope, type: ResourceTypeName, name: string): string {
  return `/subscriptions/${scope.subscriptionId}/resourceGroups/${scope.resourceGroup}/providers/${PROVIDER}/${type}/${name}`;
}

export function restorePointId(collectionId: string, name: string): string {
  return `${collectionId}/restorePoints/${name}`;
}

export function diskRestorePointId(restorePointIdValue: string, name: string): string {
  return `${restorePointIdValue}/diskRestorePoints/${name}`;
}

/** The lookup key of an id: lower case, no trailing slash. */
export function idKey(id: string): string {
  return id.toLowerCase().replace(/\/+$/, '');
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
