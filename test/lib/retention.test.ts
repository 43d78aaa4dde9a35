import type { RestorePoint, RestorePointCollection } from '@azure/arm-compute';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRpoRestorePoint, rpoCollectionTags } from '../../lib/naming';
import {
  MAX_RESTORE_POINTS_PER_VM,
  planRetention,
  type RetentionInput,
  type RetentionPlan,
  type RetentionPoint,
  type RetentionRules,
} from '../../lib/retention';

const VM = '/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1';
const RG = '/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/restorePointCollections';
const OURS = { id: `${RG}/rpo-vm1-aaaaaaaaaaaa`, tags: rpoCollectionTags(VM, 'source') };
const COPY = {
  id: '/subscriptions/s1/resourceGroups/dr/providers/Microsoft.Compute/restorePointCollections/rpo-vm1-to-ne-b',
  tags: rpoCollectionTags(VM, 'copy'),
};
const THEIRS = { id: `${RG}/manual`, tags: { owner: 'ops' } };
const COLLECTIONS = [OURS, COPY, THEIRS];
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 22, 12);

type Collection = typeof OURS | typeof THEIRS;
/** A listed point always has an id and a name. */
type ListedPoint = RetentionPoint & { readonly id: string; readonly name: string };

function point(
  collection: Collection,
  name: string,
  timeMs: number,
  provisioningState: string = 'Succeeded',
): ListedPoint {
  return {
    id: `${collection.id}/restorePoints/${name}`,
    name,
    properties: { timeCreated: new Date(timeMs).toISOString(), provisioningState },
  };
}

/** `rpo-daily-…` point `hoursAgo` hours before NOW, in our source collection. */
function daily(hoursAgo: number, state = 'Succeeded', collection: Collection = OURS): ListedPoint {
  const slot = new Date(NOW - hoursAgo * 3_600_000);
  const stamp = slot.toISOString().slice(0, 16).replace(/[-T:]/g, '');
  return point(collection, `rpo-daily-${stamp}`, slot.getTime() + 30_000, state);
}

function plan(partial: Partial<RetentionInput> & Pick<RetentionInput, 'points'>): RetentionPlan {
  return planRetention({ collections: COLLECTIONS, retention: {}, nowMs: NOW, listingComplete: true, ...partial });
}

const names = (list: readonly { name: string }[]): string[] => list.map((d) => d.name);

describe('planRetention', () => {
  it('keeps the newest N successful points and deletes the rest, oldest first', () => {
    const points = [daily(1), daily(48), daily(24), daily(72)];
    const result = plan({ points, retention: { count: 2 } });
    expect(names(result.delete)).toEqual([daily(72).name, daily(48).name]);
    expect(result.delete.every((d) => d.reason === 'count')).toBe(true);
    expect(names(result.keep)).toEqual([daily(1).name, daily(24).name]);
  });

  it('deletes points older than maxAgeDays', () => {
    const result = plan({ points: [daily(1), daily(24 * 8), daily(24 * 6)], retention: { maxAgeDays: 7 } });
    expect(result.delete).toMatchObject([{ name: daily(24 * 8).name, reason: 'max-age' }]);
  });

  it('deletes a point if either rule says so', () => {
    const points = [daily(1), daily(2), daily(3), daily(24 * 10)];
    const result = plan({ points, retention: { count: 3, maxAgeDays: 1 } });
    expect(result.delete).toMatchObject([{ name: daily(24 * 10).name, reason: 'count' }]);
    const byAge = plan({ points, retention: { count: 10, maxAgeDays: 0.1 } });
    expect(byAge.delete).toMatchObject([
      { name: daily(24 * 10).name, reason: 'max-age' },
      { name: daily(3).name, reason: 'max-age' },
    ]);
  });

  it('never deletes the newest successful point, even when every rule says so', () => {
    const result = plan({ points: [daily(24 * 30), daily(24 * 40)], retention: { count: 1, maxAgeDays: 1 } });
    expect(names(result.delete)).toEqual([daily(24 * 40).name]);
    expect(result.keep).toMatchObject([{ name: daily(24 * 30).name, reason: 'newest-successful' }]);
  });

  it('deletes failed points first and does not count them toward N', () => {
    const points = [daily(1, 'Failed'), daily(2), daily(3, 'Failed'), daily(4)];
    const result = plan({ points, retention: { count: 2 } });
    expect(result.delete).toMatchObject([
      { name: daily(3).name, reason: 'failed' },
      { name: daily(1).name, reason: 'failed' },
    ]);
    expect(names(result.keep)).toEqual([daily(2).name, daily(4).name]);
  });

  it('never deletes a point still in progress, however old', () => {
    const result = plan({ points: [daily(1), daily(24 * 50, 'Creating')], retention: { count: 1, maxAgeDays: 1 } });
    expect(result.delete).toEqual([]);
    expect(result.keep[1]).toMatchObject({ reason: 'in-progress' });
  });

  it('never deletes a foreign point: a foreign name, or an RPO name in a foreign collection', () => {
    const points = [
      daily(1),
      point(OURS, 'nightly-manual', NOW - 90 * DAY),
      daily(24 * 60, 'Succeeded', THEIRS),
      daily(24 * 61, 'Failed', THEIRS),
    ];
    const result = plan({ points, retention: { count: 1, maxAgeDays: 1 } });
    expect(result.delete).toEqual([]);
    expect(result.keep.filter((k) => k.reason === 'foreign')).toHaveLength(3);
  });

  it('deletes nothing from an incomplete listing', () => {
    const points = [daily(1), daily(2, 'Failed'), daily(24 * 100)];
    const result = plan({ points, retention: { count: 1, maxAgeDays: 1 }, listingComplete: false });
    expect(result.delete).toEqual([]);
    expect(result.keep.every((k) => k.reason === 'listing-incomplete')).toBe(true);
  });

  it('applies a policy scope to its own points only, and protects the scope newest as well', () => {
    const ondemand = point(OURS, 'rpo-ondemand-abc', NOW - 30 * DAY);
    const weekly = point(OURS, 'rpo-weekly-202610010000', NOW - 50 * DAY);
    const result = plan({
      points: [daily(1), daily(2), ondemand, weekly],
      retention: { count: 1 },
      scope: { policy: 'daily' },
    });
    expect(names(result.delete)).toEqual([daily(2).name]);
    expect(result.keep.find((k) => k.name === weekly.name)?.reason).toBe('out-of-scope');
  });

  it('applies a copy retention to the copy target collection only', () => {
    const copies = [daily(1, 'Succeeded', COPY), daily(24, 'Succeeded', COPY), daily(48, 'Succeeded', COPY)];
    const result = plan({
      points: [daily(0.5), daily(30), ...copies],
      retention: { count: 2 },
      scope: { collectionIds: [COPY.id.toUpperCase()] },
    });
    expect(result.delete).toMatchObject([{ id: copies[2]?.id, reason: 'count' }]);
  });

  it('makes room under the 500 cap by deleting the oldest RPO points, failed first', () => {
    const foreign = Array.from({ length: 497 }, (_, i) => point(THEIRS, `manual-${i}`, NOW - i * 60_000));
    const ours = [daily(1), daily(5), daily(3, 'Failed'), daily(9)];
    // Scoped to another policy, so no rule deletes them: only the cap does.
    const result = plan({ points: [...foreign, ...ours], creatingOne: true, scope: { policy: 'hourly' } });
    expect(result.blocked).toBeUndefined();
    expect(result.delete).toMatchObject([
      { name: daily(9).name, reason: 'cap' },
      { name: daily(3).name, reason: 'cap' },
    ]);
  });

  it('is blocked, deleting nothing for the cap, when only foreign points could make room', () => {
    const foreign = Array.from({ length: 499 }, (_, i) => point(THEIRS, `manual-${i}`, NOW - i * 60_000));
    const result = plan({ points: [...foreign, daily(1)], creatingOne: true });
    expect(result.delete).toEqual([]);
    expect(result.blocked).toMatch(
      /500 restore points \(499 not created by RPO\).*needs 1 fewer.*only 0 may be deleted/,
    );
  });

  it('orders by the slot in the name when timeCreated is missing, and keeps points with no time at all', () => {
    const noTime = {
      id: `${OURS.id}/restorePoints/rpo-ondemand-x`,
      name: 'rpo-ondemand-x',
      properties: { provisioningState: 'Succeeded' },
    };
    const slotOnly = { ...daily(48), properties: { provisioningState: 'Succeeded' } };
    const result = plan({ points: [daily(1), slotOnly, noTime], retention: { count: 1 } });
    expect(result.delete).toMatchObject([{ name: slotOnly.name, reason: 'count', timeMs: NOW - 48 * 3_600_000 }]);
    expect(result.keep.find((k) => k.name === 'rpo-ondemand-x')?.reason).toBe('no-time');
  });

  it('reads the @azure/arm-compute model too, where timeCreated and provisioningState are top-level', () => {
    const sdk = (hoursAgo: number): RestorePoint => {
      const p = daily(hoursAgo);
      return {
        id: p.id,
        name: p.name,
        timeCreated: new Date(NOW - hoursAgo * 3_600_000),
        provisioningState: 'Succeeded',
      };
    };
    const collections: RestorePointCollection[] = [{ id: OURS.id, location: 'westeurope', tags: OURS.tags }];
    const result = planRetention({
      points: [sdk(1), sdk(30), sdk(2)],
      collections,
      retention: { count: 2 },
      nowMs: NOW,
      listingComplete: true,
    });
    expect(result.delete).toMatchObject([{ name: daily(30).name, reason: 'count' }]);
  });

  it('keeps a point without an id or name as foreign, but counts it toward the cap', () => {
    const foreign = Array.from({ length: 498 }, (_, i) => point(THEIRS, `manual-${i}`, NOW - i * 60_000));
    const result = plan({ points: [...foreign, {}, { name: 'rpo-ondemand-x' }, daily(1)], creatingOne: true });
    expect(result.keep.filter((k) => k.id === '')).toMatchObject([{ reason: 'foreign' }, { reason: 'foreign' }]);
    expect(result.blocked).toMatch(/501 restore points/);
  });

  it('refuses bad rules with the field named', () => {
    expect(() => plan({ points: [], retention: { count: 0 } })).toThrow(/retention\.count: must be a whole number/);
    expect(() => plan({ points: [], retention: { maxAgeDays: -1 } })).toThrow(/retention\.maxAgeDays/);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties over random listings

const STATES = ['Succeeded', 'Succeeded', 'Succeeded', 'Failed', 'Creating', 'Deleting'];
const arbPoint = fc
  .record({
    collection: fc.constantFrom(OURS, OURS, COPY, THEIRS),
    kind: fc.constantFrom('daily', 'daily', 'hourly', 'ondemand', 'foreign'),
    minutesAgo: fc.integer({ min: -600, max: 400 * 24 * 60 }),
    state: fc.constantFrom(...STATES),
    suffix: fc.integer({ min: 0, max: 1e6 }),
  })
  .map(({ collection, kind, minutesAgo, state, suffix }) => {
    const slot = new Date(NOW - minutesAgo * 60_000);
    const stamp = slot.toISOString().slice(0, 16).replace(/[-T:]/g, '');
    const name =
      kind === 'foreign' ? `manual-${suffix}` : kind === 'ondemand' ? `rpo-ondemand-${suffix}` : `rpo-${kind}-${stamp}`;
    return point(collection, name, slot.getTime(), state);
  });

const arbInput = fc.record({
  points: fc.oneof(
    { weight: 4, arbitrary: fc.uniqueArray(arbPoint, { maxLength: 40, selector: (p) => p.id }) },
    // Near Azure's 500 cap: hundreds of foreign points plus a random mix.
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.integer({ min: 420, max: 480 }),
          fc.uniqueArray(arbPoint, { minLength: 10, maxLength: 70, size: 'max', selector: (p) => p.id }),
        )
        .map(([foreign, mix]) => [
          ...Array.from({ length: foreign }, (_, i) => point(THEIRS, `bulk-${i}`, NOW - i * 3_600_000)),
          ...mix,
        ]),
    },
  ),
  retention: fc.oneof(
    fc.constant<RetentionRules>({}),
    fc.record(
      { count: fc.integer({ min: 1, max: 30 }), maxAgeDays: fc.integer({ min: 1, max: 365 }) },
      { requiredKeys: [] },
    ),
  ),
  scope: fc.constantFrom<RetentionInput['scope']>(undefined, { policy: 'daily' }, { collectionIds: [COPY.id] }),
  creatingOne: fc.boolean(),
  listingComplete: fc.boolean(),
});

function rpoPoints(points: readonly ListedPoint[]): ListedPoint[] {
  return points.filter((p) =>
    isRpoRestorePoint(
      p,
      COLLECTIONS.find((c) => p.id.startsWith(`${c.id}/`)),
    ),
  );
}

/** Ids of the successful RPO points with the newest creation time (several on a tie). */
function newestSuccessfulIds(points: readonly ListedPoint[]): string[] {
  const successful = rpoPoints(points).filter((p) => p.properties?.provisioningState === 'Succeeded');
  const time = (p: ListedPoint): number => Date.parse(String(p.properties?.timeCreated));
  const newest = Math.max(...successful.map(time));
  return successful.filter((p) => time(p) === newest).map((p) => p.id);
}

describe('planRetention for all listings', () => {
  const runs = { numRuns: 300 };

  it('never deletes the newest successful RPO point', () => {
    fc.assert(
      fc.property(arbInput, (input) => {
        const newest = newestSuccessfulIds(input.points);
        const deleted = new Set(plan(input).delete.map((d) => d.id));
        // On a tie in time one of the equally new points is kept (the order between them is by id).
        if (newest.length > 0) expect(newest.some((id) => !deleted.has(id))).toBe(true);
      }),
      runs,
    );
  });

  it('never deletes a foreign point or a point in progress', () => {
    fc.assert(
      fc.property(arbInput, (input) => {
        const ours = new Set(rpoPoints(input.points).map((p) => p.id));
        const state = new Map(input.points.map((p) => [p.id, p.properties?.provisioningState]));
        for (const d of plan(input).delete) {
          expect(ours.has(d.id)).toBe(true);
          expect(['Succeeded', 'Failed']).toContain(state.get(d.id));
        }
      }),
      runs,
    );
  });

  it('deletes nothing from an incomplete listing', () => {
    fc.assert(
      fc.property(arbInput, (input) => {
        expect(plan({ ...input, listingComplete: false }).delete).toEqual([]);
      }),
      runs,
    );
  });

  it('accounts for every point exactly once and lists deletes oldest first', () => {
    fc.assert(
      fc.property(arbInput, (input) => {
        const result = plan(input);
        const ids = [...result.delete, ...result.keep].map((d) => d.id).sort();
        expect(ids).toEqual(input.points.map((p) => p.id).sort());
        const times = result.delete.map((d) => d.timeMs ?? Infinity);
        expect(times).toEqual([...times].sort((a, b) => a - b));
      }),
      runs,
    );
  });

  it('leaves at most N successful points in scope, and none past maxAgeDays but the newest', () => {
    fc.assert(
      fc.property(arbInput, (input) => {
        const result = plan({ ...input, listingComplete: true });
        const deleted = new Set(result.delete.map((d) => d.id));
        const remaining = input.points.filter((p) => !deleted.has(p.id));
        const inScope = rpoPoints(remaining).filter(
          (p) =>
            p.properties?.provisioningState === 'Succeeded' &&
            (input.scope?.policy === undefined || p.name.startsWith(`rpo-${input.scope.policy}-`)) &&
            (input.scope?.collectionIds === undefined || p.id.startsWith(`${input.scope.collectionIds[0]}/`)),
        );
        if (input.retention.count !== undefined) expect(inScope.length).toBeLessThanOrEqual(input.retention.count);
        if (input.retention.maxAgeDays !== undefined) {
          const cutoff = NOW - input.retention.maxAgeDays * DAY;
          const old = inScope.filter((p) => Date.parse(String(p.properties?.timeCreated)) < cutoff);
          expect(old.length).toBeLessThanOrEqual(1);
          expect(
            result.keep.filter((k) => old.some((p) => p.id === k.id)).every((k) => k.reason === 'newest-successful'),
          ).toBe(true);
        }
        if (result.blocked === undefined) {
          expect(remaining.length + (input.creatingOne ? 1 : 0)).toBeLessThanOrEqual(MAX_RESTORE_POINTS_PER_VM);
        } else {
          expect(result.delete.some((d) => d.reason === 'cap')).toBe(false);
        }
      }),
      runs,
    );
  });

  it('is idempotent: planning again after applying the plan deletes nothing more', () => {
    fc.assert(
      fc.property(arbInput, (input) => {
        const first = plan({ ...input, listingComplete: true });
        const deleted = new Set(first.delete.map((d) => d.id));
        const second = plan({
          ...input,
          listingComplete: true,
          points: input.points.filter((p) => !deleted.has(p.id)),
        });
        expect(second.delete).toEqual([]);
        expect(second.blocked === undefined).toBe(first.blocked === undefined);
      }),
      runs,
    );
  });
});
