import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { emptyCounts, type RunRecord, RunStore } from '../../../lib/tables/runStore';
import { createTableClient, ensureTable } from '../../../lib/tables/tableClients';

const settings = { kind: 'connectionString' as const, connectionString: inject('azuriteConnectionString') };
let store: RunStore;

beforeAll(async () => {
  const client = createTableClient(settings, `Runs${randomUUID().replaceAll('-', '').slice(0, 16)}`);
  await ensureTable(client);
  store = new RunStore(client);
});

const run = (runId: string, startedAt: string, extra: Partial<RunRecord> = {}): RunRecord => ({
  runId,
  kind: 'policyRun',
  state: 'Running',
  trigger: 'timer',
  policy: 'daily',
  startedAt,
  counts: emptyCounts(),
  ...extra,
});

describe('RunStore', () => {
  it('upserts a run and reads every field back, by kind or by id alone', async () => {
    const full = run('policy-run:daily:2026-11-22T12:00:00.000Z', '2026-11-22T12:00:05.000Z', {
      state: 'PartiallySucceeded',
      finishedAt: '2026-11-22T12:10:00.000Z',
      total: 10,
      counts: { Succeeded: 7, Failed: 1, Skipped: 1, Missed: 1 },
      message: '1 VM failed',
    });
    await store.upsert(full);
    expect(await store.get(full.runId, 'policyRun')).toEqual(full);
    expect(await store.get(full.runId)).toEqual(full);
    expect(await store.get('policy-run:none', 'policyRun')).toBeUndefined();
    expect(await store.get('policy-run:none')).toBeUndefined();
  });

  it('replaces the run on a second upsert (counts move on, no duplicate)', async () => {
    const id = `backup:${randomUUID()}`;
    await store.upsert(run(id, '2026-11-22T13:00:00.000Z', { kind: 'backup', trigger: 'http' }));
    await store.upsert(
      run(id, '2026-11-22T13:00:00.000Z', {
        kind: 'backup',
        trigger: 'http',
        state: 'Succeeded',
        counts: { ...emptyCounts(), Succeeded: 3 },
      }),
    );
    const listed = (await store.list({ kind: 'backup' })).filter((r) => r.runId === id);
    expect(listed).toHaveLength(1);
    expect(listed[0]?.counts.Succeeded).toBe(3);
  });

  it('lists newest first, by kind, policy and since', async () => {
    const policy = `p${randomUUID().slice(0, 8)}`;
    for (const hour of [1, 3, 2]) {
      await store.upsert(run(`policy-run:${policy}:${hour}`, `2026-11-23T0${hour}:00:00+00:00`, { policy }));
    }
    const listed = await store.list({ kind: 'policyRun', policy });
    expect(listed.map((r) => r.runId)).toEqual([3, 2, 1].map((h) => `policy-run:${policy}:${h}`));
    expect(listed[0]?.startedAt).toBe('2026-11-23T03:00:00.000Z');
    const since = await store.list({ policy, since: '2026-11-23T02:00:00Z', top: 5 });
    expect(since.map((r) => r.runId)).toEqual([3, 2].map((h) => `policy-run:${policy}:${h}`));
    expect(await store.list({ policy, top: 1 })).toHaveLength(1);
  });

  it('redacts secrets in the message and refuses bad runs, naming the fields', async () => {
    const id = `restore:${randomUUID()}`;
    await store.upsert(
      run(id, '2026-11-22T12:00:00Z', { kind: 'restoreVm', message: 'SAS https://a.blob/x?sv=1&sig=abc' }),
    );
    expect((await store.get(id, 'restoreVm'))?.message).toBe('SAS https://a.blob/x?<redacted>');
    const bad = { ...run('', 'never'), kind: 'nightly', counts: { Succeeded: -1 } } as unknown as RunRecord;
    await expect(store.upsert(bad)).rejects.toThrow(/runId: .*\n.*kind: .*\n.*startedAt: .*\n.*counts\.Succeeded/s);
  });
});
