import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { VirtualMachine } from '@azure/arm-compute';
import { batchTargets, isSelected, laneBatches, tagsMatch, targetOf } from '../../../lib/backup/targets';
import { sourceCollectionName } from '../../../lib/naming';
import type { VmTarget } from '../../../orchestrations/contracts';
import { parsePolicy } from '../../../lib/policy';

const SUB = 'b1f0c2d4-6e8a-4c1b-9d3f-5a7e9c2b4d60';
const id = (name: string) =>
  `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/${name}`;
const set = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/availabilitySets/web`;

function policy(selector: object) {
  return parsePolicy({
    name: 'p',
    scope: { subscriptionIds: [SUB] },
    selector,
    consistencyMode: 'CrashConsistent',
    schedule: { everyHours: 1 },
    startWindowMinutes: 30,
    retention: { count: 3 },
  });
}

describe('target selection', () => {
  it('matches every tag pair, tag names case-insensitively and values exactly', () => {
    expect(tagsMatch({ Tier: 'gold', env: 'prod' }, { tier: 'gold' })).toBe(true);
    expect(tagsMatch({ tier: 'Gold' }, { tier: 'gold' })).toBe(false);
    expect(tagsMatch(undefined, {})).toBe(true);
  });

  it('takes the union of vmIds and vmSetIds, filtered by tags', () => {
    const web: VirtualMachine = {
      id: id('web1'),
      location: 'westeurope',
      availabilitySet: { id: set },
      tags: { t: '1' },
    };
    const db: VirtualMachine = { id: id('db1'), location: 'westeurope', tags: { t: '2' } };
    const named = policy({ vmIds: [id('db1')], vmSetIds: [set] });
    expect([isSelected(named, web), isSelected(named, db)]).toEqual([true, true]);
    const filtered = policy({ vmIds: [id('db1')], vmSetIds: [set], tags: { t: '1' } });
    expect([isSelected(filtered, web), isSelected(filtered, db)]).toEqual([true, false]);
    expect(isSelected(policy({}), db)).toBe(true);
  });
});

describe('the collection of a target', () => {
  it("is not written into when it exists without RPO's tag: the VM is refused with the reason and the fix", () => {
    const diskId = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/disks/app1-os`;
    const vm: VirtualMachine = {
      id: id('app1'),
      location: 'westeurope',
      storageProfile: { osDisk: { createOption: 'FromImage', osType: 'Linux', managedDisk: { id: diskId } } },
    };
    const collectionId = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/restorePointCollections/${sourceCollectionName(id('app1'))}`;
    const inputs = {
      policy: policy({}),
      vms: [vm],
      disks: new Map([[diskId.toLowerCase(), { id: diskId, location: 'westeurope', sku: { name: 'Premium_LRS' } }]]),
      scaleSets: new Map(),
      collectionsBySource: new Map([[id('app1').toLowerCase(), [collectionId]]]),
    };
    const managed = targetOf(inputs, vm);
    expect(managed?.collection.exists).toBe(true);
    expect(managed?.plan.kind).toBe('planned');
    const foreign = targetOf({ ...inputs, unmanagedCollections: new Set([collectionId.toLowerCase()]) }, vm);
    expect(foreign?.plan).toMatchObject({ kind: 'refused', code: 'collectionNotManaged', retryable: false });
    expect(foreign?.plan.kind === 'refused' ? foreign.plan.reason : '').toContain('rpo-managed=true');
  });
});

describe('batching targets', () => {
  const target = (n: number, setId?: string): VmTarget =>
    ({ vmId: id(`vm${n}`), ...(setId ? { setId } : {}) }) as unknown as VmTarget;

  it('puts every VM in exactly one batch of at most the batch size, and keeps a set that fits together', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 120 }),
        fc.integer({ min: 1, max: 25 }),
        (sets, per) => {
          const targets = sets.map((s, i) => target(i, s === 0 ? undefined : `${set}${s}`));
          const batches = batchTargets(targets, per);
          const all = batches.flatMap((b) => b.flatMap((g) => g.members.map((m) => m.vmId)));
          expect([...all].sort()).toEqual(targets.map((t) => t.vmId).sort());
          for (const b of batches) expect(b.reduce((n, g) => n + g.members.length, 0)).toBeLessThanOrEqual(per);
          for (const s of [1, 2, 3, 4]) {
            const members = targets.filter((t) => t.setId === `${set}${s}`).length;
            const groups = batches.flat().filter((g) => g.setId === `${set}${s}`);
            if (members > 0 && members <= per) expect(groups).toHaveLength(1);
            // A set split into parts: each part numbered apart (its own vmSetBackup instance), in order.
            expect(groups.map((g) => g.part ?? 0)).toEqual(groups.map((_, i) => i));
          }
        },
      ),
    );
  });
});

describe('lanes of batches', () => {
  it('gives every batch to exactly one lane, each lane its batches in order and no more than its share', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 1, max: 40 }), (batches, lanes) => {
        const used = Math.min(lanes, batches);
        const perLane = Array.from({ length: used }, (_, lane) => laneBatches(lane, used, batches));
        expect(perLane.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: batches }, (_, i) => i));
        for (const own of perLane) {
          expect(own).toEqual([...own].sort((a, b) => a - b));
          expect(own.length).toBeLessThanOrEqual(Math.ceil(batches / used));
        }
      }),
    );
  });
});
