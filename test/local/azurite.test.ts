import { createServer } from 'node:net';
import { TableClient } from '@azure/data-tables';
import { describe, expect, inject, it } from 'vitest';
import { freePort, startAzurite } from '../../local/azurite';

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

describe('startAzurite', () => {
  it("fails with Azurite's own words when a fixed port is already taken", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const taken = typeof address === 'object' && address ? address.port : 0;
    try {
      const ports = { blob: taken, queue: await freePort(), table: await freePort() };
      await expect(startAzurite({ inMemory: true, ports })).rejects.toThrow(/Azurite exited .* before listening/s);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
