import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { PolicyConflictError, PolicyStore } from '../../../lib/tables/policyStore';
import { createTableClient, ensureTable } from '../../../lib/tables/tableClients';

interface TestPolicy {
  name: string;
  enabled: boolean;
  schedule: { everyHours: number };
  selector?: { vmIds: string[] };
}

const settings = { kind: 'connectionString' as const, connectionString: inject('azuriteConnectionString') };
const NOW = new Date('2026-11-22T12:00:00.000Z');
let store: PolicyStore<TestPolicy>;

const policy = (name: string, everyHours = 6, enabled = true): TestPolicy => ({
  name,
  enabled,
  schedule: { everyHours },
});

beforeAll(async () => {
  const client = createTableClient(settings, `Policies${randomUUID().replaceAll('-', '').slice(0, 16)}`);
  await ensureTable(client);
  store = new PolicyStore<TestPolicy>(client, () => NOW);
});

describe('PolicyStore', () => {
  it('stores a policy document with enabled and updatedAt, and reads it back', async () => {
    const stored = await store.upsert(policy('daily', 24, false));
    expect(stored).toMatchObject({ enabled: false, updatedAt: NOW.toISOString() });
    expect(stored.etag).not.toBe('');
    expect(await store.get('daily')).toEqual(stored);
  });

  it('returns undefined for a policy that does not exist', async () => {
    expect(await store.get('nope')).toBeUndefined();
  });

  it('lists every policy by name', async () => {
    await store.upsert(policy('list-b'));
    await store.upsert(policy('list-a'));
    const names = (await store.list()).map((p) => p.policy.name);
    expect(names.filter((n) => n.startsWith('list-'))).toEqual(['list-a', 'list-b']);
  });

  it('creates only once with createOnly', async () => {
    await store.upsert(policy('create-once'), { createOnly: true });
    await expect(store.upsert(policy('create-once', 12), { createOnly: true })).rejects.toMatchObject({
      name: 'PolicyConflictError',
      reason: 'exists',
    });
    expect((await store.get('create-once'))?.policy.schedule.everyHours).toBe(6);
  });

  it('rejects an update with a stale ETag and accepts one with the current ETag', async () => {
    const first = await store.upsert(policy('etag'));
    const second = await store.upsert(policy('etag', 12), { ifMatch: first.etag });
    expect(second.etag).not.toBe(first.etag);
    const stale = store.upsert(policy('etag', 3), { ifMatch: first.etag });
    await expect(stale).rejects.toBeInstanceOf(PolicyConflictError);
    await expect(stale).rejects.toMatchObject({ reason: 'changed', message: /changed by someone else/ });
    expect((await store.get('etag'))?.policy.schedule.everyHours).toBe(12);
  });

  it('reports an update of a deleted policy as a conflict', async () => {
    const stored = await store.upsert(policy('gone'));
    await store.delete('gone');
    await expect(store.upsert(policy('gone'), { ifMatch: stored.etag })).rejects.toBeInstanceOf(PolicyConflictError);
  });

  it('deletes, and succeeds when the policy is already gone', async () => {
    await store.upsert(policy('to-delete'));
    expect(await store.delete('to-delete')).toBe(true);
    expect(await store.delete('to-delete')).toBe(false);
    expect(await store.get('to-delete')).toBeUndefined();
  });

  it('refuses a delete with a stale ETag', async () => {
    const first = await store.upsert(policy('delete-etag'));
    await store.upsert(policy('delete-etag', 12));
    await expect(store.delete('delete-etag', { ifMatch: first.etag })).rejects.toMatchObject({ reason: 'changed' });
    expect(await store.get('delete-etag')).toBeDefined();
  });

  it('stores a document larger than one string property', async () => {
    const vmIds = Array.from(
      { length: 600 },
      (_, i) => `/subscriptions/${randomUUID()}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm${i}`,
    );
    const big = { ...policy('big'), selector: { vmIds } };
    expect(JSON.stringify(big).length).toBeGreaterThan(64_000);
    await store.upsert(big);
    expect((await store.get('big'))?.policy).toEqual(big);
  });

  it('refuses a bad policy name, naming the field, and createOnly together with ifMatch', async () => {
    await expect(store.upsert(policy('Bad Name'))).rejects.toThrow(
      /policy\.name: must be 1-40 characters of a-z, 0-9 and "-".*\[name-format\]/,
    );
    await expect(store.get('a/b')).rejects.toThrow(/\[name-format\]/);
    await expect(store.upsert(policy('x'), { createOnly: true, ifMatch: '*' })).rejects.toThrow(
      /ifMatch: cannot be combined/,
    );
  });
});
