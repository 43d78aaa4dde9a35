import { odata, type TableClient } from '@azure/data-tables';
import { encodeKeyPart } from '../tableKeys';
import { chunkText } from './entityText';
import { statusOf } from './tableClients';

/**
 * Table `RpoRunTargets`: the VMs one policy run covers, in batches. A fleet of thousands of VMs does not fit in
 * one orchestration's history (and should not: every replay would read it), so the run writes its resolved
 * targets here once and each batch orchestration reads its own batch. PartitionKey = the run id (escaped),
 * RowKey = the batch number, zero-padded so that rows list in order.
 */
export class TargetStore<T> {
  constructor(private readonly client: TableClient) {}

  async writeBatch(runId: string, index: number, items: readonly T[]): Promise<void> {
    const entity: Record<string, unknown> = {
      partitionKey: encodeKeyPart(runId),
      rowKey: rowKey(index),
      count: items.length,
    };
    chunkText(JSON.stringify(items)).forEach((chunk, i) => {
      entity[i === 0 ? 'items' : `items${i}`] = chunk;
    });
    await this.client.upsertEntity(entity as { partitionKey: string; rowKey: string }, 'Replace');
  }

  async readBatch(runId: string, index: number): Promise<T[] | undefined> {
    try {
      const entity = await this.client.getEntity<Record<string, unknown>>(encodeKeyPart(runId), rowKey(index));
      let text = '';
      for (let i = 0; typeof entity[i === 0 ? 'items' : `items${i}`] === 'string'; i++) {
        text += entity[i === 0 ? 'items' : `items${i}`] as string;
      }
      return JSON.parse(text) as T[];
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  /** Removes a finished run's batches. */
  async dropRun(runId: string): Promise<number> {
    let dropped = 0;
    const partitionKey = encodeKeyPart(runId);
    const rows = this.client.listEntities({
      queryOptions: { filter: odata`PartitionKey eq ${partitionKey}`, select: ['RowKey'] },
    });
    for await (const row of rows) {
      try {
        await this.client.deleteEntity(partitionKey, row.rowKey as string);
        dropped++;
      } catch (error) {
        if (statusOf(error) !== 404) throw error;
      }
    }
    return dropped;
  }
}

function rowKey(index: number): string {
  return String(index).padStart(6, '0');
}
