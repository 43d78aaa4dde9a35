import { diskRestorePointId, idKey } from './armIds';
import type { EmulatorEnv } from './env';
import type { DiskRestorePointRecord, RestorePointRecord } from './store';

/** Restore points as Azure shows them: rendering, snapshot access state, copy progress, SAS state. */
export const RESTORE_POINT_TYPE = 'Microsoft.Compute/restorePointCollections/restorePoints';
const TYPE = RESTORE_POINT_TYPE;

export type SnapshotAccessState = 'Unknown' | 'Pending' | 'Available' | 'InstantAccess' | 'AvailableWithInstantAccess';

const SLOW_SNAPSHOT_SKUS = new Set(['ultrassd_lrs', 'premiumv2_lrs']);

/** Where a disk restore point's snapshot stands at `nowMs` (azure-api.md §3, SnapshotAccessState). */
export function snapshotAccessState(
  env: EmulatorEnv,
  rp: RestorePointRecord,
  drp: DiskRestorePointRecord,
  nowMs = env.clock.now(),
): SnapshotAccessState {
  if (rp.provisioningState === 'Failed') return 'Unknown';
  if (rp.provisioningState === 'Creating' || nowMs < rp.completesAtMs) return 'Pending';
  const backgroundCopyDone =
    rp.isCopy || !SLOW_SNAPSHOT_SKUS.has(drp.storageAccountType.toLowerCase())
      ? rp.completesAtMs
      : rp.completesAtMs + drp.diskSizeGB * env.settings.backgroundCopyMsPerGiB;
  const instantUntil =
    rp.instantAccessDurationMinutes !== undefined
      ? rp.completesAtMs + rp.instantAccessDurationMinutes * 60_000
      : undefined;
  if (instantUntil !== undefined && nowMs < instantUntil) {
    return nowMs < backgroundCopyDone ? 'InstantAccess' : 'AvailableWithInstantAccess';
  }
  return nowMs < backgroundCopyDone ? 'Pending' : 'Available';
}

export function hasActiveSas(env: EmulatorEnv, rp: RestorePointRecord): boolean {
  const now = env.clock.now();
  return rp.diskRestorePoints.some((drp) => drp.sasExpiresAtMs !== undefined && drp.sasExpiresAtMs > now);
}

/** Replication progress of a cross-region copy, 0–100 (100 for local points once created). */
export function completionPercent(env: EmulatorEnv, rp: RestorePointRecord): number {
  if (rp.provisioningState === 'Succeeded') return 100;
  if (!rp.isCopy) return rp.provisioningState === 'Failed' ? 0 : 0;
  const total = rp.completesAtMs - rp.createdMs;
  if (total <= 0) return 100;
  return Math.max(0, Math.min(99, Math.floor(((env.clock.now() - rp.createdMs) / total) * 100)));
}

function renderDiskEntry(
  rp: RestorePointRecord,
  drp: DiskRestorePointRecord,
  withDrp: boolean,
): Record<string, unknown> {
  const managedDisk: Record<string, unknown> = { id: drp.diskId, storageAccountType: drp.storageAccountType };
  if (drp.diskEncryptionSetId) managedDisk.diskEncryptionSet = { id: drp.diskEncryptionSetId };
  const entry: Record<string, unknown> = {
    ...(drp.lun !== null ? { lun: drp.lun } : {}),
    name: drp.diskName,
    ...(drp.caching ? { caching: drp.caching } : {}),
    diskSizeGB: drp.diskSizeGB,
    managedDisk,
  };
  if (withDrp) {
    entry.diskRestorePoint = {
      id: diskRestorePointId(rp.id, drp.name),
      encryption: {
        type: drp.encryptionType,
        ...(drp.diskEncryptionSetId ? { diskEncryptionSet: { id: drp.diskEncryptionSetId } } : {}),
      },
      ...(drp.sourceDiskRestorePointId ? { sourceDiskRestorePoint: { id: drp.sourceDiskRestorePointId } } : {}),
    };
  }
  if (drp.writeAcceleratorEnabled !== undefined) entry.writeAcceleratorEnabled = drp.writeAcceleratorEnabled;
  return entry;
}

export function renderRestorePoint(env: EmulatorEnv, rp: RestorePointRecord, expandInstanceView: boolean): unknown {
  const config = env.store.vmConfigs.get(rp.configRef) ?? {};
  const { osType, diskControllerType, ...vmLevel } = config;
  // Recorded service behaviour: diskRestorePoint ids appear once the point has succeeded.
  const withDrp = rp.provisioningState === 'Succeeded' || (rp.isCopy && rp.provisioningState !== 'Failed');
  const os = rp.diskRestorePoints.find((d) => d.lun === null);
  const storageProfile: Record<string, unknown> = {};
  if (os) storageProfile.osDisk = { osType, ...renderDiskEntry(rp, os, withDrp) };
  storageProfile.dataDisks = rp.diskRestorePoints
    .filter((d) => d.lun !== null)
    .map((d) => renderDiskEntry(rp, d, withDrp));
  if (diskControllerType !== undefined) storageProfile.diskControllerType = diskControllerType;
  const properties: Record<string, unknown> = {};
  if (rp.excludeDisks.length > 0) properties.excludeDisks = rp.excludeDisks.map((id) => ({ id }));
  if (rp.sourceRestorePointId) properties.sourceRestorePoint = { id: rp.sourceRestorePointId };
  properties.sourceMetadata = { ...vmLevel, storageProfile };
  properties.provisioningState = rp.provisioningState;
  properties.consistencyMode = rp.consistencyMode;
  properties.timeCreated = new Date(rp.createdMs).toISOString();
  if (rp.instantAccessDurationMinutes !== undefined)
    properties.instantAccessDurationMinutes = rp.instantAccessDurationMinutes;
  if (expandInstanceView) properties.instanceView = instanceView(env, rp);
  return { name: rp.name, id: rp.id, type: TYPE, properties };
}

function replicationStatus(env: EmulatorEnv, rp: RestorePointRecord): Record<string, unknown> {
  const percent = completionPercent(env, rp);
  const state =
    rp.provisioningState === 'Failed'
      ? 'failed'
      : percent >= 100
        ? 'succeeded'
        : rp.isCopy
          ? 'inprogress'
          : 'succeeded';
  const display = state === 'failed' ? 'Failed' : state === 'succeeded' ? 'Succeeded' : 'In progress';
  return {
    status: { code: `ReplicationState/${state}`, level: state === 'failed' ? 'Error' : 'Info', displayStatus: display },
    completionPercent: rp.isCopy ? percent : 100,
  };
}

function instanceView(env: EmulatorEnv, rp: RestorePointRecord): unknown {
  const replication = replicationStatus(env, rp);
  const statuses: unknown[] = [replication.status];
  if (rp.error)
    statuses.push({
      code: `ProvisioningState/failed/${rp.error.code}`,
      level: 'Error',
      displayStatus: 'Provisioning failed',
      message: rp.error.message,
    });
  return {
    diskRestorePoints: rp.diskRestorePoints.map((drp) => ({
      id: diskRestorePointId(rp.id, drp.name),
      snapshotAccessState: snapshotAccessState(env, rp, drp),
      replicationStatus: replication,
    })),
    statuses,
  };
}

/** Finds a disk restore point by its ARM id (`.../restorePoints/{rp}/diskRestorePoints/{name}`). */
export function findDiskRestorePoint(
  env: EmulatorEnv,
  id: string,
): { rp: RestorePointRecord; drp: DiskRestorePointRecord } | undefined {
  const match = /^(.*\/restorePoints\/[^/]+)\/diskRestorePoints\/([^/]+)\/?$/i.exec(id);
  if (!match?.[1] || !match[2]) return undefined;
  const rp = env.store.restorePoints.get(match[1]);
  const name = match[2].toLowerCase();
  const drp = rp?.diskRestorePoints.find((d) => d.name.toLowerCase() === name);
  return rp && drp ? { rp, drp } : undefined;
}

export function restorePointKeyOf(rp: RestorePointRecord): string {
  return idKey(rp.id);
}
