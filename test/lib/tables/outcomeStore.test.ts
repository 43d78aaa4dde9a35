import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { checkOutcome, type Outcome, OutcomeStore, toOutcomeEntity } from '../../../lib/tables/outcomeStore';
import { createTableClient, ensureTable } from '../../../lib/tables/tableClients';

const settings = { kind: 'connectionString' as const, connectionString: inject('azuriteConnectionString') };
const uniqueVm = (name = 'vm'): string =>
  `/subscriptions/${randomUUID()}/resourceGroups/RG-Ops/providers/Microsoft.Compute/virtualMachines/${name}`;
const T0 = Date.UTC(2026, 10, 22, 12);

function outcome(vmId: string, i: number, extra: Partial<Outcome> = {}): Outcome {
  return {
    vmId,
    operation: 'create',
    status: 'Succeeded',
    trigger: 'timer',
    runId: 'policy-run:daily:2026-11-22T12:00:00.000Z',
    startedAt: new Date(T0 + i * 60_000).toISOString(),
    restorePointId: `${vmId.replace(/virtualMachines\/.*/, 'restorePointCollections/rpo-vm-abc')}/restorePoints/rpo-daily-${i}`,
    ...extra,
  };
}

let store: OutcomeStore;

beforeAll(async () => {
  const client = createTableClient(settings, `Outcomes${randomUUID().replaceAll('-', '').slice(0, 16)}`);
  await ensureTable(client);
  store = new OutcomeStore(client);
});

describe('OutcomeStore', () => {
  it('writes 250 outcomes of one VM in 3 transactions and reads them back newest first', async () => {
    const vmId = uniqueVm();
    const outcomes = Array.from({ length: 250 }, (_, i) => outcome(vmId, (i * 97) % 250));
    const before = store.transactionsSubmitted;
    await store.writeOutcomes(outcomes);
    expect(store.transactionsSubmitted - before).toBe(3);
    const back = await store.listOutcomesForVm(vmId);
    expect(back).toHaveLength(250);
    const times = back.map((o) => Date.parse(o.startedAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(times[0]).toBe(T0 + 249 * 60_000);
  });

  it('is idempotent: writing the same outcomes again replaces the rows', async () => {
    const vmId = uniqueVm();
    const outcomes = Array.from({ length: 120 }, (_, i) => outcome(vmId, i));
    await store.writeOutcomes(outcomes);
    await store.writeOutcomes(outcomes.map((o) => ({ ...o, attempts: 2 })));
    const back = await store.listOutcomesForVm(vmId);
    expect(back).toHaveLength(120);
    expect(back.every((o) => o.attempts === 2)).toBe(true);
  });

  it('batches per VM partition when many VMs write at once', async () => {
    const vms = Array.from({ length: 12 }, (_, i) => uniqueVm(`web${i}`));
    const outcomes = vms.flatMap((vmId) => Array.from({ length: 5 }, (_, i) => outcome(vmId, i)));
    const before = store.transactionsSubmitted;
    await store.writeOutcomes(outcomes);
    expect(store.transactionsSubmitted - before).toBe(12);
    for (const vmId of vms) {
      const back = await store.listOutcomesForVm(vmId.toUpperCase());
      expect(back.map((o) => o.vmId)).toEqual(Array(5).fill(vmId));
    }
  });

  it('round-trips every field', async () => {
    const vmId = uniqueVm('db#1?');
    const full: Outcome = {
      vmId,
      operation: 'copy',
      status: 'Failed',
      trigger: 'eventGrid',
      policy: 'daily',
      runId: 'copy:rpo-daily-202611221200:0123456789ab',
      restorePointId: `${vmId}/x/restorePointCollections/c/restorePoints/rpo-daily-202611221200`,
      consistencyMode: 'CrashConsistent',
      fallback: true,
      excludedDisks: [
        {
          id: '/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/disks/ultra',
          reason: 'UltraSSD in crash-consistent mode',
        },
      ],
      warnings: ['Azure Boost size with 2 data disks', 'ReadWrite caching on lun 0'],
      attempts: 3,
      throttled: 2,
      startedAt: '2026-11-22T12:00:00.000Z',
      finishedAt: '2026-11-22T12:40:00.000Z',
      errorCode: 'OperationNotAllowed',
      errorMessage: 'Copy failed',
      copyTargetRegion: 'northeurope',
      copyPercent: 42.5,
    };
    await store.writeOutcomes([full]);
    expect(await store.listOutcomesForVm(vmId)).toEqual([full]);
    expect(await store.listOutcomesForRun(full.runId)).toEqual([full]);
  });

  it('stores excludedDisks and warnings as JSON strings, with DESIGN field names', () => {
    const entity = toOutcomeEntity(
      outcome(uniqueVm(), 1, { warnings: ['w'], excludedDisks: [{ id: 'd', reason: 'r' }] }),
    );
    expect(entity.warnings).toBe('["w"]');
    expect(entity.excludedDisks).toBe('[{"id":"d","reason":"r"}]');
    expect(entity.partitionKey).toMatch(/^\|subscriptions\|[0-9a-f-]+\|resourcegroups\|rg-ops\|/);
    expect(entity.rowKey).toMatch(/^\d{13}_create_rpo-daily-1~~policy-run:daily:/);
  });

  it('truncates text over the 32K property limit with a marker and keeps JSON valid', async () => {
    const vmId = uniqueVm();
    await store.writeOutcomes([
      outcome(vmId, 1, {
        status: 'Failed',
        errorMessage: 'x'.repeat(40_000),
        warnings: Array.from({ length: 200 }, (_, i) => `${i}:${'w'.repeat(1000)}`),
      }),
    ]);
    const [back] = await store.listOutcomesForVm(vmId);
    expect(back?.errorMessage?.length).toBeLessThanOrEqual(32_000);
    expect(back?.errorMessage).toMatch(/…\[truncated \d+ chars\]$/);
    expect(back?.warnings?.length).toBeLessThan(200);
    expect(back?.warnings?.at(-1)).toMatch(/^\[\d+ more warnings truncated\]$/);
  });

  it('never stores a SAS signature, account key or bearer token', async () => {
    const vmId = uniqueVm();
    const secretMessage =
      'GET https://md-abc.blob.core.windows.net/x/abcd?sv=2018-03-28&sr=b&si=1&sig=S3cr3tSig%2Fxyz%3D failed; ' +
      'conn AccountKey=QUJDREVGRw==; auth Bearer eyJ0eXAiOiJKV1Qi.payload.sig; also sig=another';
    await store.writeOutcomes([
      outcome(vmId, 1, {
        status: 'Failed',
        errorMessage: secretMessage,
        warnings: [secretMessage],
        excludedDisks: [{ id: 'disk-1', reason: secretMessage }],
      }),
    ]);
    const [back] = await store.listOutcomesForVm(vmId);
    const texts = [
      back?.errorMessage ?? '',
      ...(back?.warnings ?? []),
      ...(back?.excludedDisks ?? []).map((d) => d.reason),
    ];
    expect(texts).toHaveLength(3);
    for (const text of texts) {
      expect(text).not.toMatch(/S3cr3tSig|QUJDREVGRw|eyJ0eXAi|another/);
      expect(text).toContain('https://md-abc.blob.core.windows.net/x/abcd?<redacted>');
    }
  });

  it('lists the newest `top`, and only outcomes since a time', async () => {
    const vmId = uniqueVm();
    await store.writeOutcomes(Array.from({ length: 30 }, (_, i) => outcome(vmId, i)));
    const top = await store.listOutcomesForVm(vmId, { top: 4 });
    expect(top.map((o) => Date.parse(o.startedAt))).toEqual([29, 28, 27, 26].map((i) => T0 + i * 60_000));
    const since = await store.listOutcomesForVm(vmId, { since: T0 + 25 * 60_000 });
    expect(since).toHaveLength(5);
    await expect(store.listOutcomesForVm(vmId, { top: 0 })).rejects.toThrow(/top: must be a whole number/);
  });

  it('lists one run across VMs', async () => {
    const runId = `backup:${randomUUID()}`;
    const vms = [uniqueVm('a'), uniqueVm('b')];
    await store.writeOutcomes([outcome(vms[0] as string, 1, { runId }), outcome(vms[1] as string, 2, { runId })]);
    const back = await store.listOutcomesForRun(runId);
    expect(back.map((o) => o.vmId)).toEqual([vms[1], vms[0]]);
  });

  it('refuses an invalid outcome, naming every bad field, before writing anything', async () => {
    const vmId = uniqueVm();
    const bad = { ...outcome(vmId, 1), operation: 'backup', status: 'Done', startedAt: 'soon', attempts: -1 };
    expect(() => checkOutcome(bad)).toThrow(
      /operation: must be one of create.*\n.*status:.*\n.*startedAt:.*\n.*attempts:/s,
    );
    await expect(store.writeOutcomes([outcome(vmId, 0), bad as unknown as Outcome])).rejects.toThrow(/invalid outcome/);
    expect(await store.listOutcomesForVm(vmId)).toEqual([]);
    expect(() => checkOutcome(null)).toThrow(/must be an object/);
  });
});
