import { TableClient } from '@azure/data-tables';
import { describe, expect, inject, it } from 'vitest';

describe('Azurite from globalSetup', () => {
  it('serves the Table API on the provided connection string', async () => {
    const table = `smoke${Date.now().toString(36)}`;
    const client = TableClient.fromConnectionString(inject('azuriteConnectionString'), table, {
      allowInsecureConnection: true,
    });
    await client.createTable();
    await client.createEntity({ partitionKey: 'p', rowKey: 'r', value: 42 });
    const entity = await client.getEntity<{ value: number }>('p', 'r');
    expect(entity.value).toBe(42);
    await client.deleteTable();
  });
});
