import { randomUUID } from 'node:crypto';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { describe, expect, inject, it } from 'vitest';
import {
  createTableClient,
  ensureTable,
  openRpoTables,
  TABLE_NAMES,
  tableStorageSettingsFromConfig,
} from '../../../lib/tables/tableClients';
import { loadConfig } from '../../../lib/config';

const connectionString = inject('azuriteConnectionString');
const unique = (prefix: string): string => `${prefix}${randomUUID().replaceAll('-', '').slice(0, 12)}`;

/** A credential that is never asked for a token in these tests (no request is sent with it). */
class UnusedCredential implements TokenCredential {
  getToken(): Promise<AccessToken | null> {
    return Promise.reject(new Error('no token in this test'));
  }
}

describe('tableStorageSettingsFromConfig', () => {
  it('takes the storage of a parsed app config: connection string, Azurite or identity', () => {
    const dev = loadConfig({ AzureWebJobsStorage: 'UseDevelopmentStorage=true' });
    expect(tableStorageSettingsFromConfig(dev.storage)).toEqual({
      kind: 'connectionString',
      connectionString: 'UseDevelopmentStorage=true',
    });
    const clientId = '00000000-0000-0000-0000-0000000000aa';
    const identity = loadConfig({
      AzureWebJobsStorage__accountName: 'rpostore',
      AzureWebJobsStorage__clientId: clientId,
    });
    const ids: (string | undefined)[] = [];
    const settings = tableStorageSettingsFromConfig(identity.storage, (id) => {
      ids.push(id);
      return new UnusedCredential();
    });
    expect(settings).toMatchObject({ kind: 'identity', tableServiceUri: 'https://rpostore.table.core.windows.net' });
    expect(ids).toEqual([clientId]);
  });
});

describe('createTableClient', () => {
  it('maps UseDevelopmentStorage=true to Azurite on 127.0.0.1:10002', () => {
    const client = createTableClient(
      { kind: 'connectionString', connectionString: 'UseDevelopmentStorage=true' },
      'RpoRuns',
    );
    expect(client.url).toBe('http://127.0.0.1:10002/devstoreaccount1');
    expect(client.tableName).toBe('RpoRuns');
  });

  it('builds an identity client for the table service URI', () => {
    const client = createTableClient(
      { kind: 'identity', tableServiceUri: 'https://acct.table.core.windows.net', credential: new UnusedCredential() },
      'RpoOutcomes',
    );
    expect(client.url).toBe('https://acct.table.core.windows.net');
  });

  it('refuses an invalid table name', () => {
    expect(() => createTableClient({ kind: 'connectionString', connectionString }, 'rpo-runs')).toThrow(
      /tableName: must be 3-63 letters and digits/,
    );
  });

  it('talks to Azurite over http with a connection string, and creating a table twice is fine', async () => {
    const client = createTableClient({ kind: 'connectionString', connectionString }, unique('Ensure'));
    await ensureTable(client);
    await ensureTable(client);
    await client.upsertEntity({ partitionKey: 'p', rowKey: 'r', value: 1 });
    expect((await client.getEntity('p', 'r')).value).toBe(1);
  });
});

describe('openRpoTables', () => {
  it('creates every RPO table under the given names, idempotently', async () => {
    const names = {
      policies: unique('Pol'),
      outcomes: unique('Out'),
      runs: unique('Run'),
      state: unique('State'),
      targets: unique('Targets'),
    };
    const settings = { kind: 'connectionString' as const, connectionString };
    await openRpoTables(settings, names);
    const tables = await openRpoTables(settings, names);
    expect(Object.values(tables).map((t) => t.tableName)).toEqual(Object.values(names));
    expect(TABLE_NAMES).toEqual({
      policies: 'RpoPolicies',
      outcomes: 'RpoOutcomes',
      runs: 'RpoRuns',
      state: 'RpoState',
      targets: 'RpoRunTargets',
    });
  });
});
