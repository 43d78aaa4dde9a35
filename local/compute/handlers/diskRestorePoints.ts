import { randomBytes } from 'node:crypto';
import { invalidParameter, operationNotAllowed, resourceNotFound } from '../armErrors';
import { diskRestorePointId, idKey, newGuid } from '../armIds';
import type { EmulatorEnv } from '../env';
import type { ArmRequest, ArmResponse } from '../http';
import { param } from '../http';
import { completionPercent, snapshotAccessState } from '../restorePointModel';
import { guidFrom } from '../vmModel';
import type { DiskRestorePointRecord, RestorePointRecord } from '../store';
import { objectBody, optionalEnum, optionalInteger } from '../validation';
import { accepted, page, startOperation } from './common';
import { findRestorePoint } from './restorePoints';

/** Tag `DiskRestorePoint` (DiskRP): Get, ListByRestorePoint, GrantAccess and RevokeAccess (LRO, final state via Location). */
export const TYPE = 'Microsoft.Compute/restorePointCollections/restorePoints/diskRestorePoints';

const SLOW = new Set(['ultrassd_lrs', 'premiumv2_lrs']);

export function renderDiskRestorePoint(env: EmulatorEnv, rp: RestorePointRecord, drp: DiskRestorePointRecord): unknown {
  const config = env.store.vmConfigs.get(rp.configRef) ?? {};
  const properties: Record<string, unknown> = {
    timeCreated: new Date(rp.createdMs).toISOString(),
    sourceResourceId: drp.sourceDiskRestorePointId ?? drp.diskId,
    ...(drp.lun === null && typeof config.osType === 'string' ? { osType: config.osType } : {}),
    ...(typeof config.hyperVGeneration === 'string' ? { hyperVGeneration: config.hyperVGeneration } : {}),
    // Derived, not stored: one disk's restore points share a family id.
    familyId: guidFrom(`family:${idKey(drp.diskId)}`),
    sourceUniqueId: drp.sourceUniqueId,
    encryption: {
      type: drp.encryptionType,
      ...(drp.diskEncryptionSetId ? { diskEncryptionSetId: drp.diskEncryptionSetId } : {}),
    },
    networkAccessPolicy: 'AllowAll',
    publicNetworkAccess: 'Enabled',
    logicalSectorSize: SLOW.has(drp.storageAccountType.toLowerCase()) ? 4096 : 512,
    snapshotAccessState: snapshotAccessState(env, rp, drp),
  };
  if (rp.isCopy) {
    const source = drp.sourceDiskRestorePointId
      ? env.store.restorePoints.get(drp.sourceDiskRestorePointId.replace(/\/diskRestorePoints\/[^/]+$/i, ''))
      : undefined;
    properties.completionPercent = completionPercent(env, rp);
    properties.replicationState =
      rp.provisioningState === 'Succeeded' ? 'Succeeded' : rp.provisioningState === 'Failed' ? 'Failed' : 'InProgress';
    properties.sourceResourceLocation = source?.location ?? config.location;
  } else {
    properties.sourceResourceLocation = rp.location;
  }
  return { id: diskRestorePointId(rp.id, drp.name), name: drp.name, type: TYPE, properties };
}

function findDrp(env: EmulatorEnv, request: ArmRequest): { rp: RestorePointRecord; drp: DiskRestorePointRecord } {
  const rp = findRestorePoint(env, request, 'vmRestorePointName');
  const name = param(request, 'diskRestorePointName');
  const drp = rp.diskRestorePoints.find((d) => d.name.toLowerCase() === name.toLowerCase());
  if (!drp)
    throw resourceNotFound(
      `${TYPE.replace('/restorePoints/diskRestorePoints', '')}/${rp.collectionId.split('/').pop() ?? ''}/restorePoints/${rp.name}/diskRestorePoints/${name}`,
      rp.resourceGroup,
    );
  return { rp, drp };
}

/** DiskRestorePoint_Get. */
export function get(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  const { rp, drp } = findDrp(env, request);
  return { status: 200, body: renderDiskRestorePoint(env, rp, drp) };
}

/** DiskRestorePoint_ListByRestorePoint. Disk restore points exist once the restore point is created. */
export function listByRestorePoint(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  const rp = findRestorePoint(env, request, 'vmRestorePointName');
  const items = rp.provisioningState === 'Creating' && !rp.isCopy ? [] : rp.diskRestorePoints;
  return page(env, request, items, (drp) => renderDiskRestorePoint(env, rp, drp));
}

function fakeSas(expiresAtMs: number): string {
  const account = `md-${randomBytes(6).toString('hex')}`;
  const expiry = new Date(expiresAtMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `https://${account}.z1.blob.storage.azure.net/${randomBytes(6).toString('hex')}/abcd?sv=2018-03-28&sr=b&si=${newGuid()}&sig=${randomBytes(24).toString('base64url')}&se=${encodeURIComponent(expiry)}&sp=r`;
}

/** DiskRestorePoint_GrantAccess: 202 + Azure-AsyncOperation + Location; the Location result is `{ accessSAS }`. */
export function grantAccess(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  const { rp, drp } = findDrp(env, request);
  const body = objectBody(request.body);
  const access = optionalEnum(body, 'access', 'access', ['None', 'Read', 'Write'] as const);
  if (!access) throw invalidParameter('access', "Required parameter 'access' is missing (null).");
  if (access !== 'Read')
    throw invalidParameter('access', `Access level '${access}' is not supported for disk restore points; use 'Read'.`);
  const duration = optionalInteger(body, 'durationInSeconds', 'durationInSeconds');
  if (duration === undefined)
    throw invalidParameter('durationInSeconds', "Required parameter 'durationInSeconds' is missing (null).");
  if (duration < 1)
    throw invalidParameter('durationInSeconds', 'durationInSeconds must be a positive number of seconds.');
  const state = snapshotAccessState(env, rp, drp);
  if (rp.provisioningState !== 'Succeeded' || (state !== 'Available' && state !== 'AvailableWithInstantAccess')) {
    throw operationNotAllowed(
      `Access cannot be granted to disk restore point '${drp.name}' while its snapshot access state is '${state}'.`,
    );
  }
  const expiresAtMs = env.clock.now() + env.settings.accessMs + duration * 1000;
  // The SAS counts as outstanding from the request on, so a delete racing the grant is refused.
  drp.sasExpiresAtMs = expiresAtMs;
  const operation = startOperation(env, request, {
    location: rp.location,
    family: 'DiskOperations',
    durationMs: env.settings.accessMs,
    action: {
      kind: 'grantAccess',
      key: idKey(diskRestorePointId(rp.id, drp.name)),
      accessSAS: fakeSas(expiresAtMs),
      expiresAtMs,
    },
  });
  env.markChanged();
  return accepted(request, operation);
}

/** DiskRestorePoint_RevokeAccess: 202 + headers; the SAS ends when the operation completes. */
export function revokeAccess(env: EmulatorEnv, request: ArmRequest): ArmResponse {
  const { rp, drp } = findDrp(env, request);
  const operation = startOperation(env, request, {
    location: rp.location,
    family: 'DiskOperations',
    durationMs: env.settings.accessMs,
    action: { kind: 'revokeAccess', key: idKey(diskRestorePointId(rp.id, drp.name)) },
  });
  return accepted(request, operation);
}
