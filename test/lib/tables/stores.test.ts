import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { emptyCounts } from '../../../lib/tables/runStore';
import { openRpoStores } from '../../../lib/tables/stores';

describe('openRpoStores', () => {
  it('creates the tables and returns working policy, outcome and run stores', async () => {
    const suffix = randomUUID().replaceAll('-', '').slice(0, 12);
    const stores = await openRpoStores(
      { kind: 'connectionString', connectionString: inject('azuriteConnectionString') },
      { tableNames: { policies: `P${suffix}`, outcomes: `O${suffix}`, runs: `R${suffix}` } },
    );
    await stores.policies.upsert({ name: 'daily' });
    expect((await stores.policies.get('daily'))?.enabled).toBe(true);
    const vmId = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm';
    await stores.outcomes.writeOutcomes([
      { vmId, operation: 'skip', status: 'Missed', trigger: 'timer', runId: 'r1', startedAt: '2026-11-22T00:00:00Z' },
    ]);
    expect(await stores.outcomes.listOutcomesForVm(vmId)).toHaveLength(1);
    await stores.runs.upsert({
      runId: 'r1',
      kind: 'policyRun',
      state: 'Succeeded',
      trigger: 'timer',
      startedAt: '2026-11-22T00:00:00Z',
      counts: emptyCounts(),
    });
    expect((await stores.runs.get('r1'))?.state).toBe('Succeeded');
  });
});
