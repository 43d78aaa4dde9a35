import type { TableClient } from '@azure/data-tables';
import { encodeKeyPart } from '../tableKeys';
import { chunkText } from './entityText';
import { statusOf } from './tableClients';

/**
 * Table `RpoState`: the small, shared, frequently updated records that make RPO's limits hold across every
 * orchestration and every Function App instance (docs/pacing.md): one row per VM (lease and PUT budget), one
 * per subscription (ARM buckets and Compute policies), one per policy (the schedule cursor). Each row is one
 * JSON document updated with ETags, so two writers never both win.
 */
export const STATE_PARTITIONS = { vm: 'vm', subscription: 'subscription', schedule: 'schedule' } as const;
export type StatePartition = (typeof STATE_PARTITIONS)[keyof typeof STATE_PARTITIONS];

const MAX_CONFLICT_RETRIES = 40;

interface StateEntity {
  partitionKey: string;
  rowKey: string;
  [property: string]: unknown;
}

function readDocument<T>(entity: Record<string, unknown>): T | undefined {
  let text = '';
  for (let i = 0; typeof entity[i === 0 ? 'document' : `document${i}`] === 'string'; i++) {
    text += entity[i === 0 ? 'document' : `document${i}`] as string;
  }
  return text === '' ? undefined : (JSON.parse(text) as T);
}

function toEntity(partitionKey: string, rowKey: string, value: unknown): StateEntity {
  const entity: StateEntity = { partitionKey, rowKey };
  chunkText(JSON.stringify(value)).forEach((chunk, i) => {
    entity[i === 0 ? 'document' : `document${i}`] = chunk;
  });
  return entity;
}

export class StateStore {
  constructor(private readonly client: TableClient) {}

  async read<T>(partition: StatePartition, key: string): Promise<T | undefined> {
    try {
      const entity = await this.client.getEntity<Record<string, unknown>>(partition, encodeKeyPart(key));
      return readDocument<T>(entity);
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  /**
   * Reads the row, lets `change` decide, and writes the new value only if nobody wrote in between (else reads
   * again and asks again). `change` must be pure: it may run several times. `next: undefined` writes nothing.
   */
  async update<T, R>(
    partition: StatePartition,
    key: string,
    change: (current: T | undefined) => { next: T | undefined; result: R },
  ): Promise<R> {
    const rowKey = encodeKeyPart(key);
    for (let attempt = 0; ; attempt++) {
      let current: T | undefined;
      let etag: string | undefined;
      try {
        const entity = await this.client.getEntity<Record<string, unknown>>(partition, rowKey);
        current = readDocument<T>(entity);
        etag = entity.etag;
      } catch (error) {
        if (statusOf(error) !== 404) throw error;
      }
      const { next, result } = change(current);
      if (next === undefined) return result;
      try {
        const entity = toEntity(partition, rowKey, next);
        if (etag === undefined) await this.client.createEntity(entity);
        else await this.client.updateEntity(entity, 'Replace', { etag });
        return result;
      } catch (error) {
        const status = statusOf(error);
        if ((status !== 409 && status !== 412) || attempt >= MAX_CONFLICT_RETRIES) throw error;
        // Someone else wrote first: back off a little (more with each loss) and decide again on fresh data.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * (attempt + 1)));
      }
    }
  }
}
