import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import {
  planReservation,
  recordObservations,
  reserveArm,
  type PacingRequest,
  type SubscriptionPacing,
} from '../../../lib/azure/pacer';
import { ARM_BUCKETS, plannedBurst } from '../../../lib/pacing/armBuckets';
import { STATE_PARTITIONS, StateStore } from '../../../lib/tables/stateStore';
import { createTableClient, ensureTable } from '../../../lib/tables/tableClients';

/** A StateStore on a fresh Azurite table that counts the row writes it is asked for. */
async function countingStateStore(): Promise<{ store: StateStore; writes: () => number }> {
  const name = `S${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const client = createTableClient(
    { kind: 'connectionString', connectionString: inject('azuriteConnectionString') },
    name,
  );
  await ensureTable(client);
  const store = new StateStore(client);
  let writes = 0;
  const update = store.update.bind(store);
  store.update = <T, R>(...args: Parameters<typeof update<T, R>>): Promise<R> => {
    writes++;
    return update<T, R>(...args);
  };
  return { store, writes: () => writes };
}

describe('planReservation', () => {
  it('charges every bucket at the common start: reads waiting behind the writes are spent then, not earlier', () => {
    // The write bucket is drained until t = 60 s; the read bucket is full.
    const drained: SubscriptionPacing = {
      buckets: { read: { tatMs: 0 }, write: { tatMs: 60_000 }, delete: { tatMs: 0 } },
      compute: {},
    };
    const { startAtMs, next } = planReservation(drained, { reads: 3, writes: 1 }, 0);
    const writeEmission = 1000 / ARM_BUCKETS.write.refillPerSecond;
    expect(startAtMs).toBe(Math.ceil(60_000 - (plannedBurst(ARM_BUCKETS.write) - 1) * writeEmission));
    // The three reads are charged from the start on (not at t = 0, when the model would refill ahead of Azure's bucket).
    expect(next.buckets.read.tatMs).toBe(startAtMs + (3 * 1000) / ARM_BUCKETS.read.refillPerSecond);
  });

  it('never plans more reads at once than the bucket holds, however the kinds are mixed', () => {
    let state: SubscriptionPacing | undefined;
    const starts: { at: number; reads: number }[] = [];
    for (let i = 0; i < 2_000; i++) {
      const request: PacingRequest = i % 3 === 0 ? { reads: 1 } : { reads: 3, writes: 2 };
      const planned = planReservation(state, request, 0);
      state = planned.next;
      starts.push({ at: planned.startAtMs, reads: request.reads ?? 0 });
    }
    // Reads started in any 10 s window stay within the planned burst plus the refill of that window.
    starts.sort((a, b) => a.at - b.at);
    const burst = plannedBurst(ARM_BUCKETS.read);
    for (let i = 0, j = 0, inWindow = 0; i < starts.length; i++) {
      inWindow += starts[i]?.reads ?? 0;
      while ((starts[j]?.at ?? 0) < (starts[i]?.at ?? 0) - 10_000) inWindow -= starts[j++]?.reads ?? 0;
      expect(inWindow).toBeLessThanOrEqual(burst + 10 * ARM_BUCKETS.read.refillPerSecond + 1);
    }
  });
});

describe('reserveArm', () => {
  it('gives concurrent reservations the starts of the same reservations made one after another, in far fewer writes', async () => {
    const { store, writes } = await countingStateStore();
    const subscription = '00000000-0000-4000-8000-00000000000A';
    const requests: PacingRequest[] = Array.from({ length: 300 }, (_, i) =>
      i % 2 === 0 ? { reads: 4, writes: 2 } : { reads: 1 },
    );
    const starts = await Promise.all(requests.map((request) => reserveArm(store, subscription, request, 1_000)));
    let expected: SubscriptionPacing | undefined;
    const sequential = requests.map((request) => {
      const planned = planReservation(expected, request, 1_000);
      expected = planned.next;
      return { startAtMs: planned.startAtMs, recheck: planned.recheck };
    });
    expect(starts).toEqual(sequential);
    expect(await store.read(STATE_PARTITIONS.subscription, subscription.toLowerCase())).toEqual(expected);
    expect(writes()).toBeLessThanOrEqual(5);
  });

  it('fails the reservations of a write that failed, and serves later ones', async () => {
    // A fake: storage failing for exactly one write cannot be provoked on Azurite.
    let fail = true;
    const store = {
      async update<T, R>(
        _p: string,
        _k: string,
        change: (current: T | undefined) => { next: T | undefined; result: R },
      ) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        if (fail) throw new Error('storage down');
        return change(undefined).result;
      },
    } as unknown as StateStore;
    const failed = await Promise.allSettled([
      reserveArm(store, 's', { reads: 1 }, 5),
      reserveArm(store, 's', { reads: 1 }, 5),
    ]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await expect(reserveArm(store, 's', { reads: 1 }, 5)).resolves.toEqual({ startAtMs: 5, recheck: false });
  });
});

describe('recordObservations', () => {
  const seen = (atMs: number, remaining: number, sentAtMs = atMs) => ({
    kind: 'write' as const,
    status: 201,
    atMs,
    sentAtMs,
    computePolicies: { PutRestorePointSubscriptionMaximum: remaining },
  });

  it('writes plain observations at most every 10 s, and keeps the ones in between for the next write', async () => {
    const { store, writes } = await countingStateStore();
    const row = () =>
      store.read<SubscriptionPacing>(STATE_PARTITIONS.subscription, 'sub-observed').then((r) => r?.compute);
    await recordObservations(store, 'sub-observed', [seen(0, 100)], 0);
    expect(writes()).toBe(1);
    // Within 10 s: a count going up (a new window) is not written yet, and not lost.
    await recordObservations(store, 'sub-observed', [seen(1_000, 60)], 1_000);
    await recordObservations(store, 'sub-observed', [seen(2_000, 140, 1_500)], 2_000);
    expect(writes()).toBe(1);
    expect((await row())?.PutRestorePointSubscriptionMaximum?.remaining).toBe(100);
    await recordObservations(store, 'sub-observed', [seen(11_000, 139)], 11_000);
    expect(writes()).toBe(2);
    const state = (await row())?.PutRestorePointSubscriptionMaximum;
    expect(state).toMatchObject({ remaining: 139, windowStartMs: 2_000 });
  });
});
