import type { RestorePoint, RestorePointCollection } from '@azure/arm-compute';
import * as df from 'durable-functions';
import { sameArmId, tryParseArmId } from '../../lib/armIds';
import { nowMs } from '../../lib/clock';
import { planRetention as plan, type RetentionPoint } from '../../lib/retention';
import { ACTIVITIES, type PlanRetentionInput, type PlanRetentionResult } from '../../orchestrations/contracts';
import { armFailure, isNotFound, withArm } from './shared';

/**
 * Lists every restore point of the VM (all its collections: the 500 cap counts them all) and decides with
 * lib/retention what to delete. Deleting is the orchestrator's next step, paced on ARM's delete bucket.
 * Any collection that cannot be listed makes the listing incomplete, and an incomplete listing deletes nothing.
 */
async function planRetention(input: PlanRetentionInput): Promise<PlanRetentionResult> {
  const { target } = input;
  return withArm(target.subscriptionId, async ({ compute }) => {
    const collections: RestorePointCollection[] = [];
    const points: RetentionPoint[] = [];
    let listingComplete = true;
    let error: PlanRetentionResult['error'];
    const ids = [...target.collectionIds];
    if (!ids.some((id) => sameArmId(id, target.collection.id))) ids.push(target.collection.id);
    for (const id of ids) {
      const parsed = tryParseArmId(id, { expect: 'restorePointCollection' });
      if (parsed === undefined) continue;
      try {
        const collection = await compute.restorePointCollections.get(parsed.resourceGroup, parsed.name, {
          expand: 'restorePoints',
        });
        collections.push(collection);
        points.push(...(collection.restorePoints ?? []).map(asRetentionPoint));
      } catch (thrown) {
        if (isNotFound(thrown)) continue;
        listingComplete = false;
        error = armFailure(thrown);
      }
    }
    const decision = plan({
      points,
      collections,
      retention: input.retention,
      scope: {
        collectionIds: [target.collection.id],
        ...(input.policy !== undefined ? { policy: input.policy } : {}),
      },
      nowMs: nowMs(),
      listingComplete,
      creatingOne: input.creatingOne,
    });
    return {
      delete: decision.delete.map((d) => ({ id: d.id, name: d.name, reason: d.reason })),
      ...(decision.blocked !== undefined ? { blocked: decision.blocked } : {}),
      ...(error !== undefined ? { error } : {}),
    };
  });
}

function asRetentionPoint(point: RestorePoint): RetentionPoint {
  return {
    ...(point.id !== undefined ? { id: point.id } : {}),
    ...(point.name !== undefined ? { name: point.name } : {}),
    ...(point.timeCreated !== undefined ? { timeCreated: point.timeCreated } : {}),
    ...(point.provisioningState !== undefined ? { provisioningState: point.provisioningState } : {}),
  };
}

df.app.activity(ACTIVITIES.planRetention, { handler: planRetention });
