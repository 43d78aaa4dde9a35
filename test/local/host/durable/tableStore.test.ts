import { TableClient, odata } from '@azure/data-tables';
import fc from 'fast-check';
import { describe, expect, inject, it } from 'vitest';
import { createMemoryStore, type DurableStore, type InstanceRecord } from '../../../../local/host/durable';
import { EventType, type HistoryEvent } from '../../../../local/host/durable/protocol';
import {
  createTableStore,
  entityToHistoryEvent,
  escapePartitionKey,
  historyEventToEntity,
  historyRowKey,
  validateHubName,
} from '../../../../local/host/durable/tableStore';
import { uniqueHub } from './harness';

const at = '2026-06-01T12:00:00.000Z';

function record(instanceId: string, overrides: Partial<InstanceRecord> = {}): InstanceRecord {
  return {
    instanceId,
    name: 'helloSequence',
    version: '',
    executionId: 'exec1',
    runtimeStatus: 'Running',
    input: '{"a":1}',
    output: null,
    customStatus: null,
    createdTime: Date.parse(at),
    lastUpdatedTime: Date.parse(at),
    completedTime: null,
    parent: null,
    ...overrides,
  };
}

const started: HistoryEvent = {
  EventType: EventType.ExecutionStarted,
  EventId: -1,
  IsPlayed: false,
  Timestamp: at,
  OrchestrationInstance: { InstanceId: 'a/b#c', ExecutionId: 'exec1' },
  ParentInstance: null,
  Name: 'helloSequence',
  Version: '',
  Input: '{"a":1}',
};
const scheduled: HistoryEvent = {
  EventType: EventType.TaskScheduled,
  EventId: 0,
  IsPlayed: false,
  Timestamp: at,
  Name: 'sayHello',
  Version: '',
  Input: '"Tokyo"',
};

describe('TableStore on Azurite', () => {
  it('writes the DurableTask.AzureStorage layout: Instances RowKey "", History X16 rows and a sentinel', async () => {
    const connection = inject('azuriteConnectionString');
    const hub = uniqueHub('Lay');
    const store = await createTableStore(connection, hub);
    await store.putInstance(record('a/b#c'));
    await store.appendHistory('a/b#c', 'exec1', 0, [started, scheduled]);
    const table = (name: string) =>
      TableClient.fromConnectionString(connection, name, { allowInsecureConnection: true });
    const partitionKey = escapePartitionKey('a/b#c');
    expect(partitionKey).toBe('a^0b^2c');
    const instance = await table(`${hub}Instances`).getEntity<Record<string, unknown>>(partitionKey, '');
    expect(instance).toMatchObject({
      Name: 'helloSequence',
      RuntimeStatus: 'Running',
      CustomStatus: 'null',
      ExecutionId: 'exec1',
    });
    const rows: Array<Record<string, unknown>> = [];
    for await (const row of table(`${hub}History`).listEntities<Record<string, unknown>>({
      queryOptions: { filter: odata`PartitionKey eq ${partitionKey}` },
    })) {
      rows.push(row);
    }
    expect(rows.map((r) => r.rowKey)).toEqual(['0000000000000000', '0000000000000001', 'sentinel']);
    expect(rows[1]).toMatchObject({ EventType: 'TaskScheduled', EventId: 0, Name: 'sayHello', ExecutionId: 'exec1' });
    expect(rows[1]?._Timestamp).toBeDefined();
    expect(rows[2]).toMatchObject({ ExecutionId: 'exec1', IsCheckpointComplete: true });
  });

  it('reads back only the requested execution after a continue-as-new overwrote the rows', async () => {
    const store = await createTableStore(inject('azuriteConnectionString'), uniqueHub('Exe'));
    await store.appendHistory('i1', 'old', 0, [started, scheduled, { ...scheduled, EventId: 1 }]);
    await store.appendHistory('i1', 'new', 0, [{ ...started, Input: '3' }]);
    expect((await store.readHistory('i1', 'new')).map((e) => e.Input)).toEqual(['3']);
    expect(await store.readHistory('i1', 'old')).toHaveLength(2);
  });

  it('rejects hub names that cannot become table names, naming the rule', async () => {
    expect(() => validateHubName('my-hub')).toThrow(/hubName "my-hub" is invalid: it must start with a letter/);
    await expect(createTableStore(inject('azuriteConnectionString'), '1abc')).rejects.toThrow(/hubName/);
  });
});

describe.each<[string, () => Promise<DurableStore>]>([
  ['MemoryStore', () => Promise.resolve(createMemoryStore())],
  ['TableStore', () => createTableStore(inject('azuriteConnectionString'), uniqueHub('Par'))],
])('%s', (_name, makeStore) => {
  it('keeps inbox messages in id order per instance and deletes them by id', async () => {
    const store = await makeStore();
    const message = (id: string, instanceId: string) => ({
      id,
      instanceId,
      executionId: null,
      event: { ...scheduled, EventType: EventType.EventRaised, EventId: -1, Name: id },
    });
    await store.addMessages([message('002', 'x'), message('001', 'x'), message('003', 'y')]);
    const all = await store.readMessages();
    expect(all.filter((m) => m.instanceId === 'x').map((m) => m.id)).toEqual(['001', '002']);
    await store.deleteMessages('x', ['001', '002']);
    expect((await store.readMessages()).map((m) => m.id)).toEqual(['003']);
  });

  it('purges an instance with its history and inbox', async () => {
    const store = await makeStore();
    await store.putInstance(record('p1', { runtimeStatus: 'Completed', output: '"done"' }));
    await store.appendHistory('p1', 'exec1', 0, [started]);
    expect((await store.getInstance('p1'))?.output).toBe('"done"');
    expect(await store.purgeInstance('p1')).toBe(true);
    expect(await store.getInstance('p1')).toBeUndefined();
    expect(await store.readHistory('p1', 'exec1')).toEqual([]);
    expect(await store.purgeInstance('p1')).toBe(false);
  });
});

describe('DTFx table mapping', () => {
  it('escapes partition keys so that no forbidden character remains and distinct ids stay distinct', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        const escaped = escapePartitionKey(a);
        // eslint-disable-next-line no-control-regex
        expect(escaped).not.toMatch(/[/\\#?\u0000-\u001f\u007f-\u009f]/);
        if (a !== b) expect(escapePartitionKey(b)).not.toBe(escaped);
      }),
    );
  });

  it('orders history row keys like the sequence numbers', () => {
    fc.assert(
      fc.property(fc.nat(2 ** 40), fc.nat(2 ** 40), (a, b) => {
        expect(historyRowKey(a).length).toBe(16);
        expect(Math.sign(historyRowKey(a).localeCompare(historyRowKey(b)))).toBe(Math.sign(a - b));
      }),
    );
  });

  it('round-trips every history event through a table row', () => {
    const event = fc.record({
      EventType: fc.constantFrom(...Object.values(EventType).filter((v): v is EventType => typeof v === 'number')),
      EventId: fc.integer({ min: -1, max: 10_000 }),
      IsPlayed: fc.boolean(),
      Timestamp: fc
        .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
        .map((d) => d.toISOString()),
      Name: fc.option(fc.string(), { nil: undefined }),
      Result: fc.option(fc.json(), { nil: undefined }),
      TaskScheduledId: fc.option(fc.nat(1000), { nil: undefined }),
      FireAt: fc.option(
        fc
          .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
          .map((d) => d.toISOString()),
        { nil: undefined },
      ),
    });
    fc.assert(
      fc.property(event, (e) => {
        const clean = Object.fromEntries(
          Object.entries(e).filter(([, v]) => v !== undefined),
        ) as unknown as HistoryEvent;
        const row = historyEventToEntity('pk', 'rk', 'exec', clean);
        const back = entityToHistoryEvent(row);
        const expected: HistoryEvent = { ...clean };
        if (clean.EventType === EventType.ExecutionStarted) {
          expected.Input = null;
          expected.ParentInstance = null;
        }
        expect(back).toEqual(expected);
      }),
    );
  });
});
