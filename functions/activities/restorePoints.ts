import type { RestorePoint } from '@azure/arm-compute';
import * as df from 'durable-functions';
import { parseRestorePointId, sameArmId, tryParseArmId } from '../../lib/armIds';
import type { ArmSession } from '../../lib/azure/compute';
import { rpoCollectionTags } from '../../lib/naming';
import { modeFamily } from '../../lib/pacing/vmGate';
import {
  ACTIVITIES,
  type CreateRestorePointInput,
  type CreateRestorePointResult,
  type DeleteRestorePointInput,
  type DeleteRestorePointResult,
  type GetRestorePointInput,
  type GetRestorePointResult,
  type InspectVmInput,
  type InspectVmResult,
  type PointState,
} from '../../orchestrations/contracts';
import { markPutSend, wasPutSent } from './pacing';
import { armFailure, isNotFound, withArm } from './shared';

/** The restore point calls of vmBackup: each one request (or a few), never a wait. */

function pointState(point: RestorePoint): PointState {
  const created = point.timeCreated;
  return {
    id: point.id ?? '',
    provisioningState: point.provisioningState ?? 'Unknown',
    ...(point.consistencyMode !== undefined ? { consistencyMode: point.consistencyMode } : {}),
    ...(created !== undefined ? { timeCreated: new Date(created).toISOString() } : {}),
  };
}

async function listPoints(session: ArmSession, collectionId: string): Promise<RestorePoint[] | undefined> {
  const parsed = tryParseArmId(collectionId, { expect: 'restorePointCollection' });
  if (parsed === undefined) return undefined;
  try {
    const collection = await session.compute.restorePointCollections.get(parsed.resourceGroup, parsed.name, {
      expand: 'restorePoints',
    });
    return collection.restorePoints ?? [];
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** What the VM's collections hold: this slot's point if Azure has it, the newest point per mode, the count. */
async function inspectVm(input: InspectVmInput): Promise<InspectVmResult> {
  const { target, pointName } = input;
  return withArm(target.subscriptionId, async (session) => {
    try {
      const ids = [...target.collectionIds];
      if (!ids.some((id) => sameArmId(id, target.collection.id))) ids.push(target.collection.id);
      let existing: PointState | undefined;
      let collectionExists = false;
      let pointCount = 0;
      const newest: { application?: string; crash?: string } = {};
      for (const id of ids) {
        const points = await listPoints(session, id);
        if (points === undefined) continue;
        const ours = sameArmId(id, target.collection.id);
        if (ours) collectionExists = true;
        pointCount += points.length;
        for (const point of points) {
          if (ours && point.name === pointName) existing = pointState(point);
          if (point.provisioningState !== 'Succeeded' || point.sourceRestorePoint?.id !== undefined) continue;
          if (point.timeCreated === undefined) continue;
          const family = modeFamily(point.consistencyMode);
          const at = new Date(point.timeCreated).toISOString();
          if (newest[family] === undefined || at > newest[family]) newest[family] = at;
        }
      }
      return { ...(existing ? { existing } : {}), newest, pointCount, collectionExists };
    } catch (error) {
      return { newest: {}, pointCount: 0, collectionExists: false, error: armFailure(error) };
    }
  });
}

async function createRestorePoint(input: CreateRestorePointInput): Promise<CreateRestorePointResult> {
  const { target, pointName, plan } = input;
  const collection = target.collection;
  // A PUT of this name written down before (a retry, or this activity run again after a crash): look first.
  const resend = await wasPutSent(target.vmId, pointName);
  return withArm(target.subscriptionId, async ({ compute }) => {
    try {
      if (resend) {
        try {
          const found = await compute.restorePoints.get(target.resourceGroup, collection.name, pointName);
          return { kind: 'exists', point: pointState(found) };
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
      }
      if (input.ensureCollection) {
        await compute.restorePointCollections.createOrUpdate(target.resourceGroup, collection.name, {
          location: target.region,
          tags: rpoCollectionTags(target.vmId, 'source'),
          source: { id: target.vmId },
          ...(plan.instantAccessDurationMinutes !== undefined ? { instantAccess: true } : {}),
        });
      }
    } catch (error) {
      return { kind: 'failed', failure: armFailure(error) };
    }
    // Written down just before it is sent (a failure to write fails the activity, which is run again).
    await markPutSend(target.vmId, pointName, plan.mode);
    try {
      const poller = await compute.restorePoints.beginCreate(target.resourceGroup, collection.name, pointName, {
        excludeDisks: plan.excludeDisks.map((id) => ({ id })),
        ...(plan.mode === 'CrashConsistent' ? { consistencyMode: 'CrashConsistent' } : {}),
        ...(plan.instantAccessDurationMinutes !== undefined
          ? { instantAccessDurationMinutes: plan.instantAccessDurationMinutes }
          : {}),
      });
      // Only the initial PUT: completion is watched by the orchestrator on durable timers.
      const state = poller.getOperationState();
      const initial = (state as { result?: RestorePoint }).result;
      return {
        kind: 'accepted',
        point: {
          id: initial?.id ?? `${collection.id}/restorePoints/${pointName}`,
          provisioningState: initial?.provisioningState ?? 'Creating',
          ...(initial?.timeCreated !== undefined ? { timeCreated: new Date(initial.timeCreated).toISOString() } : {}),
        },
      };
    } catch (error) {
      return { kind: 'failed', failure: armFailure(error) };
    }
  });
}

/** The failure Azure recorded on a failed point (`ProvisioningState/failed/{code}` in its instance view). */
function failureOf(point: RestorePoint): { code: string; message: string } | undefined {
  for (const status of point.instanceView?.statuses ?? []) {
    const match = /^ProvisioningState\/failed\/(.+)$/i.exec(status.code ?? '');
    if (match !== null) return { code: match[1] as string, message: status.message ?? status.displayStatus ?? '' };
  }
  return undefined;
}

async function getRestorePoint(input: GetRestorePointInput): Promise<GetRestorePointResult> {
  const id = parseRestorePointId(input.restorePointId, 'restorePointId');
  return withArm(id.subscriptionId, async ({ compute }) => {
    try {
      const point = await compute.restorePoints.get(id.resourceGroup, id.collectionName, id.name, {
        expand: 'instanceView',
      });
      const error = point.provisioningState === 'Failed' ? failureOf(point) : undefined;
      return { kind: 'found', point: pointState(point), ...(error ? { error } : {}) };
    } catch (error) {
      return { kind: 'failed', failure: armFailure(error) };
    }
  });
}

/** Starts the deletion (Azure deletes in the background); a point already gone is fine. */
async function deleteRestorePoint(input: DeleteRestorePointInput): Promise<DeleteRestorePointResult> {
  const id = parseRestorePointId(input.restorePointId, 'restorePointId');
  return withArm(id.subscriptionId, async ({ compute }) => {
    try {
      await compute.restorePoints.beginDelete(id.resourceGroup, id.collectionName, id.name);
      return { kind: 'deleting' };
    } catch (error) {
      if (isNotFound(error)) return { kind: 'gone' };
      return { kind: 'failed', failure: armFailure(error) };
    }
  });
}

df.app.activity(ACTIVITIES.inspectVm, { handler: inspectVm });
df.app.activity(ACTIVITIES.createRestorePoint, { handler: createRestorePoint });
df.app.activity(ACTIVITIES.getRestorePoint, { handler: getRestorePoint });
df.app.activity(ACTIVITIES.deleteRestorePoint, { handler: deleteRestorePoint });
