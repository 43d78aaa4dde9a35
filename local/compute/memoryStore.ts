import { idKey, ownCopy } from './armIds';
import type {
  CollectionRecord,
  ComputeStore,
  DiskRecord,
  JsonObject,
  ResourceTable,
  RestorePointRecord,
  RestorePointTable,
  ScopedRecord,
  SetRecord,
  VirtualMachineRecord,
} from './store';

function scopeKey(subscriptionId: string, resourceGroup?: string): string {
  return resourceGroup === undefined
    ? subscriptionId.toLowerCase()
    : `${subscriptionId.toLowerCase()}/${resourceGroup.toLowerCase()}`;
}

/** One-to-many index: group key → (record key → record), insertion ordered. */
class Index<T> {
  private readonly groups = new Map<string, Map<string, T>>();
  add(group: string, key: string, record: T): void {
    let members = this.groups.get(group);
    if (!members) this.groups.set(group, (members = new Map()));
    members.set(key, record);
  }
  remove(group: string, key: string): void {
    const members = this.groups.get(group);
    if (!members) return;
    members.delete(key);
    if (members.size === 0) this.groups.delete(group);
  }
  list(group: string): T[] {
    return [...(this.groups.get(group)?.values() ?? [])];
  }
  count(group: string): number {
    return this.groups.get(group)?.size ?? 0;
  }
}

export class MemoryTable<T extends ScopedRecord> implements ResourceTable<T> {
  protected readonly byId = new Map<string, T>();
  private readonly bySubscription = new Index<T>();
  private readonly byResourceGroup = new Index<T>();

  get(id: string): T | undefined {
    return this.byId.get(idKey(id));
  }

  put(record: T): void {
    const key = idKey(record.id);
    const previous = this.byId.get(key);
    if (previous) this.unindex(key, previous);
    this.byId.set(key, record);
    this.index(key, record);
  }

  delete(id: string): boolean {
    const key = idKey(id);
    const previous = this.byId.get(key);
    if (!previous) return false;
    this.byId.delete(key);
    this.unindex(key, previous);
    return true;
  }

  listByResourceGroup(subscriptionId: string, resourceGroup: string): T[] {
    return this.byResourceGroup.list(scopeKey(subscriptionId, resourceGroup));
  }

  listBySubscription(subscriptionId: string): T[] {
    return this.bySubscription.list(scopeKey(subscriptionId));
  }

  values(): IterableIterator<T> {
    return this.byId.values();
  }

  get size(): number {
    return this.byId.size;
  }

  protected index(key: string, record: T): void {
    this.bySubscription.add(scopeKey(record.subscriptionId), key, record);
    this.byResourceGroup.add(scopeKey(record.subscriptionId, record.resourceGroup), key, record);
  }

  protected unindex(key: string, record: T): void {
    this.bySubscription.remove(scopeKey(record.subscriptionId), key);
    this.byResourceGroup.remove(scopeKey(record.subscriptionId, record.resourceGroup), key);
  }
}

/**
 * Restore points are the bulk of the state (50,000 in the benchmark), so they are kept lean: a map
 * per collection keyed by lower-cased name, a set per VM, and no per-point id key strings.
 */
class MemoryRestorePointTable implements RestorePointTable {
  private readonly byCollection = new Map<string, Map<string, RestorePointRecord>>();
  private readonly byVm = new Map<string, Set<RestorePointRecord>>();
  private count = 0;

  private static split(id: string): [string, string] | undefined {
    const key = idKey(id);
    const at = key.lastIndexOf('/restorepoints/');
    if (at < 0) return undefined;
    return [key.slice(0, at), key.slice(at + '/restorepoints/'.length)];
  }

  get(id: string): RestorePointRecord | undefined {
    const parts = MemoryRestorePointTable.split(id);
    return parts ? this.byCollection.get(parts[0])?.get(parts[1]) : undefined;
  }

  put(record: RestorePointRecord): void {
    const previous = this.get(record.id);
    if (previous) this.delete(previous.id);
    const collectionKey = idKey(record.collectionId);
    let points = this.byCollection.get(collectionKey);
    if (!points) this.byCollection.set(ownCopy(collectionKey), (points = new Map()));
    points.set(ownCopy(record.name.toLowerCase()), record);
    let ofVm = this.byVm.get(record.vmKey);
    if (!ofVm) this.byVm.set(record.vmKey, (ofVm = new Set()));
    ofVm.add(record);
    this.count += 1;
  }

  delete(id: string): boolean {
    const parts = MemoryRestorePointTable.split(id);
    if (!parts) return false;
    const points = this.byCollection.get(parts[0]);
    const record = points?.get(parts[1]);
    if (!points || !record) return false;
    points.delete(parts[1]);
    if (points.size === 0) this.byCollection.delete(parts[0]);
    const ofVm = this.byVm.get(record.vmKey);
    ofVm?.delete(record);
    if (ofVm?.size === 0) this.byVm.delete(record.vmKey);
    this.count -= 1;
    return true;
  }

  /** Not served by any ARM route (restore points are listed per collection); a full scan. */
  listByResourceGroup(subscriptionId: string, resourceGroup: string): RestorePointRecord[] {
    const sub = subscriptionId.toLowerCase();
    const rg = resourceGroup.toLowerCase();
    return [...this.values()].filter(
      (r) => r.subscriptionId.toLowerCase() === sub && r.resourceGroup.toLowerCase() === rg,
    );
  }

  /** Not served by any ARM route; a full scan. */
  listBySubscription(subscriptionId: string): RestorePointRecord[] {
    const sub = subscriptionId.toLowerCase();
    return [...this.values()].filter((r) => r.subscriptionId.toLowerCase() === sub);
  }

  *values(): IterableIterator<RestorePointRecord> {
    for (const points of this.byCollection.values()) yield* points.values();
  }

  get size(): number {
    return this.count;
  }

  listByCollection(collectionId: string): RestorePointRecord[] {
    return [...(this.byCollection.get(idKey(collectionId))?.values() ?? [])];
  }
  countByCollection(collectionId: string): number {
    return this.byCollection.get(idKey(collectionId))?.size ?? 0;
  }
  listByVm(vmKey: string): RestorePointRecord[] {
    return [...(this.byVm.get(vmKey) ?? [])];
  }
  countByVm(vmKey: string): number {
    return this.byVm.get(vmKey)?.size ?? 0;
  }
}

class MemoryCollectionTable extends MemoryTable<CollectionRecord> {
  readonly perRegion = new Map<string, number>();

  protected override index(key: string, record: CollectionRecord): void {
    super.index(key, record);
    const region = regionKey(record.subscriptionId, record.location);
    this.perRegion.set(region, (this.perRegion.get(region) ?? 0) + 1);
  }

  protected override unindex(key: string, record: CollectionRecord): void {
    super.unindex(key, record);
    const region = regionKey(record.subscriptionId, record.location);
    this.perRegion.set(region, (this.perRegion.get(region) ?? 1) - 1);
  }
}

function regionKey(subscriptionId: string, location: string): string {
  return `${subscriptionId.toLowerCase()}|${normaliseLocation(location)}`;
}

/** `West US` and `westus` are the same region. */
export function normaliseLocation(location: string): string {
  return location.toLowerCase().replace(/\s+/g, '');
}

export class MemoryComputeStore implements ComputeStore {
  private readonly collectionTable = new MemoryCollectionTable();
  readonly collections: ResourceTable<CollectionRecord> = this.collectionTable;
  readonly restorePoints: RestorePointTable = new MemoryRestorePointTable();
  readonly disks: ResourceTable<DiskRecord> = new MemoryTable<DiskRecord>();
  readonly virtualMachines: ResourceTable<VirtualMachineRecord> = new MemoryTable<VirtualMachineRecord>();
  readonly availabilitySets: ResourceTable<SetRecord> = new MemoryTable<SetRecord>();
  readonly scaleSets: ResourceTable<SetRecord> = new MemoryTable<SetRecord>();
  readonly vmConfigs = new Map<string, JsonObject>();

  countCollections(subscriptionId: string, location: string): number {
    return this.collectionTable.perRegion.get(regionKey(subscriptionId, location)) ?? 0;
  }
}
