/**
 * The emulator's state, behind an interface (as Azurite's IBlobMetadataStore). Records are plain
 * JSON data so a snapshot is `JSON.stringify` of the tables. Every lookup is by lower-cased id
 * (`idKey`); lists use per-subscription and per-resource-group indexes, never a scan of everything.
 */
export type JsonObject = Record<string, unknown>;

export interface ScopedRecord {
  id: string;
  name: string;
  subscriptionId: string;
  resourceGroup: string;
}

export interface TrackedRecord extends ScopedRecord {
  location: string;
  tags?: Record<string, string>;
}

export type ProvisioningState = 'Creating' | 'Updating' | 'Succeeded' | 'Failed' | 'Deleting';

export interface CollectionRecord extends TrackedRecord {
  restorePointCollectionId: string;
  sourceId: string;
  /** idKey(sourceId), computed once and shared by the collection's restore points. */
  sourceKey: string;
  sourceLocation: string;
  /** 'vm' for a local collection, 'collection' for the target of cross-region copies. */
  sourceKind: 'vm' | 'collection';
  instantAccess?: boolean;
  provisioningState: ProvisioningState;
}

export type EncryptionType =
  'EncryptionAtRestWithPlatformKey' | 'EncryptionAtRestWithCustomerKey' | 'EncryptionAtRestWithPlatformAndCustomerKeys';

export interface DiskRestorePointRecord {
  name: string;
  /** ARM id of the source disk (as written in the VM). */
  diskId: string;
  /** null for the OS disk. */
  lun: number | null;
  diskName: string;
  diskSizeGB: number;
  storageAccountType: string;
  caching: string | undefined;
  writeAcceleratorEnabled: boolean | undefined;
  encryptionType: EncryptionType;
  diskEncryptionSetId: string | undefined;
  /** For a copy: the disk restore point it was copied from. */
  sourceDiskRestorePointId: string | undefined;
  sourceUniqueId: string;
  /** Active SAS until this clock time (ms); absent when no SAS is outstanding. */
  sasExpiresAtMs: number | undefined;
}

export interface RestorePointRecord extends ScopedRecord {
  collectionId: string;
  location: string;
  /** Lower-cased id of the VM whose limits this point counts against (the source VM, also for copies). */
  vmKey: string;
  consistencyMode: 'CrashConsistent' | 'FileSystemConsistent' | 'ApplicationConsistent';
  /** The mode the caller asked for (throttle and interval rules are per requested mode). */
  modeFamily: 'crash' | 'application';
  excludeDisks: string[];
  sourceRestorePointId: string | undefined;
  instantAccessDurationMinutes: number | undefined;
  createdMs: number;
  /** When creation (or the copy) finishes, clock time. */
  completesAtMs: number;
  provisioningState: ProvisioningState;
  /** Key into ComputeStore.vmConfigs: the VM configuration captured at creation (shared between points). */
  configRef: string;
  diskRestorePoints: DiskRestorePointRecord[];
  /** Cross-region copy: replication runs from createdMs to completesAtMs. */
  isCopy: boolean;
  error: { code: string; message: string } | undefined;
  operationId: string | undefined;
}

export interface DiskRecord extends TrackedRecord {
  sku: string;
  zones?: string[];
  /** The properties as written by the caller, plus the read-only ones the emulator fills in. */
  properties: JsonObject;
  provisioningState: ProvisioningState;
  managedBy?: string;
}

export interface VirtualMachineRecord extends TrackedRecord {
  zones?: string[];
  identity?: JsonObject;
  plan?: JsonObject;
  properties: JsonObject;
  provisioningState: ProvisioningState;
  powerState: 'running' | 'stopped' | 'deallocated';
  /** Bumped whenever the disks of the VM change (the "disks changed during creation" rule). */
  diskGeneration: number;
  /** Key of the restore point being created on this VM, if any. */
  creatingRestorePointKey?: string;
  /** Key into ComputeStore.vmConfigs for the current configuration. */
  configRef: string;
}

export interface SetRecord extends TrackedRecord {
  sku?: JsonObject;
  zones?: string[];
  properties: JsonObject;
}

export interface ResourceTable<T extends ScopedRecord> {
  get(id: string): T | undefined;
  put(record: T): void;
  delete(id: string): boolean;
  listByResourceGroup(subscriptionId: string, resourceGroup: string): T[];
  listBySubscription(subscriptionId: string): T[];
  values(): IterableIterator<T>;
  readonly size: number;
}

export interface RestorePointTable extends ResourceTable<RestorePointRecord> {
  listByCollection(collectionId: string): RestorePointRecord[];
  countByCollection(collectionId: string): number;
  listByVm(vmKey: string): RestorePointRecord[];
  countByVm(vmKey: string): number;
}

export interface ComputeStore {
  readonly collections: ResourceTable<CollectionRecord>;
  readonly restorePoints: RestorePointTable;
  readonly disks: ResourceTable<DiskRecord>;
  readonly virtualMachines: ResourceTable<VirtualMachineRecord>;
  readonly availabilitySets: ResourceTable<SetRecord>;
  readonly scaleSets: ResourceTable<SetRecord>;
  /** Immutable captured VM configurations (restore point sourceMetadata), shared by reference. */
  readonly vmConfigs: Map<string, JsonObject>;
  /** Collections per `${subscription}|${region}` (lower case), for the 10,000 limit. */
  countCollections(subscriptionId: string, location: string): number;
}
