import { idKey } from './armIds';
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

class MemoryRestorePointTable extends MemoryTable<RestorePointRecord> implements RestorePointTable {
  private readonly byCollection = new Index<RestorePointRecord>();
  private readonly byVm = new Index<RestorePointRecord>();

  listByCollection(collectionId: string): RestorePointRecord[] {
    return this.byCollection.list(idKey(collectionId));
  }
  countByCollection(collectionId: string): number {
    return this.byCollection.count(idKey(collectionId));
  }
  listByVm(vmKey: string): RestorePointRecord[] {
    return this.byVm.list(vmKey);
  }
  countByVm(vmKey: string): number {
    return this.byVm.count(vmKey);
  }

  protected override index(key: string, record: RestorePointRecord): void {
    super.index(key, record);
    this.byCollection.add(idKey(record.collectionId), key, record);
    this.byVm.add(record.vmKey, key, record);
  }

  protected override unindex(key: string, record: RestorePointRecord): void {
    super.unindex(key, record);
    this.byCollection.remove(idKey(record.collectionId), key);
    this.byVm.remove(record.vmKey, key);
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
