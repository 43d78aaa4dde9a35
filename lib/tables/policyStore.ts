import { odata, type TableClient, type TableEntity, type TableEntityResult } from '@azure/data-tables';
import { POLICY_NAME } from '../naming';
import { ValidationError } from '../validation';
import { chunkText } from './entityText';
import { statusOf } from './tableClients';

/**
 * Table `RpoPolicies`: one entity per policy, PartitionKey `policy`, RowKey = the policy name. The policy is
 * stored as its JSON document (validated elsewhere, before it gets here) in `document`, continued in
 * `document1`, `document2`, … when longer than one string property; `enabled` and `updatedAt` are columns so
 * an operator can read them in Storage Explorer. Writes use ETags: `ifMatch` for an update of what was read,
 * `createOnly` for a new policy.
 */
export const POLICY_PARTITION = 'policy';

/** At most 20 × 32,000 characters: far below the 1 MiB entity limit. */
const MAX_DOCUMENT_CHUNKS = 20;

export interface PolicyDocument {
  readonly name: string;
  readonly enabled?: boolean;
}

export interface StoredPolicy<P extends PolicyDocument> {
  readonly policy: P;
  readonly enabled: boolean;
  readonly updatedAt: string;
  /** Pass back as `ifMatch` to update exactly this version. */
  readonly etag: string;
}

export interface PolicyWriteOptions {
  /** Replace only if the stored policy still has this ETag (else {@link PolicyConflictError}). */
  readonly ifMatch?: string;
  /** Create only; fails with {@link PolicyConflictError} if the policy exists. */
  readonly createOnly?: boolean;
}

/** An optimistic-concurrency write lost: someone else changed (or created, or deleted) the policy first. HTTP 409/412. */
export class PolicyConflictError extends Error {
  constructor(
    readonly policyName: string,
    readonly reason: 'exists' | 'changed' | 'gone',
  ) {
    super(
      reason === 'exists'
        ? `policy ${policyName} already exists`
        : reason === 'gone'
          ? `policy ${policyName} no longer exists`
          : `policy ${policyName} was changed by someone else; read it again and retry`,
    );
    this.name = 'PolicyConflictError';
  }
}

type PolicyEntity = TableEntity<Record<string, string | boolean | number>>;

export class PolicyStore<P extends PolicyDocument = PolicyDocument> {
  constructor(
    private readonly client: TableClient,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async get(name: string): Promise<StoredPolicy<P> | undefined> {
    assertName(name, 'name');
    try {
      const entity = await this.client.getEntity<Record<string, unknown>>(POLICY_PARTITION, name);
      return fromEntity<P>(entity);
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  /** Every policy, by name. */
  async list(): Promise<StoredPolicy<P>[]> {
    const out: StoredPolicy<P>[] = [];
    const entities = this.client.listEntities<Record<string, unknown>>({
      queryOptions: { filter: odata`PartitionKey eq ${POLICY_PARTITION}` },
    });
    for await (const entity of entities) out.push(fromEntity<P>(entity));
    return out.sort((a, b) => (a.policy.name < b.policy.name ? -1 : a.policy.name > b.policy.name ? 1 : 0));
  }

  /** Creates or replaces the policy; returns it with its new ETag. */
  async upsert(policy: P, options: PolicyWriteOptions = {}): Promise<StoredPolicy<P>> {
    assertName(policy.name, 'policy.name');
    if (options.ifMatch !== undefined && options.createOnly === true) {
      throw new ValidationError('policy write', [
        { field: 'ifMatch', rule: 'exclusive', message: 'cannot be combined with createOnly' },
      ]);
    }
    const entity = toEntity(policy, this.now());
    let etag: string | undefined;
    try {
      if (options.createOnly === true) {
        etag = (await this.client.createEntity(entity)).etag;
      } else if (options.ifMatch !== undefined) {
        etag = (await this.client.updateEntity(entity, 'Replace', { etag: options.ifMatch })).etag;
      } else {
        etag = (await this.client.upsertEntity(entity, 'Replace')).etag;
      }
    } catch (error) {
      const status = statusOf(error);
      if (status === 409 && options.createOnly === true) throw new PolicyConflictError(policy.name, 'exists');
      if (status === 412) throw new PolicyConflictError(policy.name, 'changed');
      if (status === 404 && options.ifMatch !== undefined) throw new PolicyConflictError(policy.name, 'gone');
      throw error;
    }
    if (etag === undefined) {
      // The service always returns one; re-read rather than hand out a version that cannot be matched.
      const stored = await this.get(policy.name);
      if (stored === undefined) throw new PolicyConflictError(policy.name, 'gone');
      return stored;
    }
    return {
      policy,
      enabled: entity.enabled as boolean,
      updatedAt: entity.updatedAt as string,
      etag,
    };
  }

  /**
   * Deletes the policy. Resolves `true` if it was deleted, `false` if it was already gone; with `ifMatch`,
   * a changed policy is a {@link PolicyConflictError}.
   */
  async delete(name: string, options: { ifMatch?: string } = {}): Promise<boolean> {
    assertName(name, 'name');
    try {
      await this.client.deleteEntity(POLICY_PARTITION, name, options.ifMatch ? { etag: options.ifMatch } : {});
      return true;
    } catch (error) {
      const status = statusOf(error);
      if (status === 404) return false;
      if (status === 412) throw new PolicyConflictError(name, 'changed');
      throw error;
    }
  }
}

function assertName(name: unknown, field: string): asserts name is string {
  if (typeof name !== 'string' || !POLICY_NAME.test(name)) {
    throw new ValidationError('policy', [
      {
        field,
        rule: 'name-format',
        message: `must be 1-40 characters of a-z, 0-9 and "-", got ${JSON.stringify(name)}`,
      },
    ]);
  }
}

function toEntity(policy: PolicyDocument, now: Date): PolicyEntity {
  const chunks = chunkText(JSON.stringify(policy));
  if (chunks.length > MAX_DOCUMENT_CHUNKS) {
    throw new ValidationError('policy', [
      { field: '', rule: 'size', message: `is too large to store (${chunks.length} × 32,000 characters of JSON)` },
    ]);
  }
  const entity: PolicyEntity = {
    partitionKey: POLICY_PARTITION,
    rowKey: policy.name,
    enabled: policy.enabled !== false,
    updatedAt: now.toISOString(),
    documentChunks: chunks.length,
  };
  chunks.forEach((chunk, i) => {
    entity[i === 0 ? 'document' : `document${i}`] = chunk;
  });
  return entity;
}

function fromEntity<P extends PolicyDocument>(entity: TableEntityResult<Record<string, unknown>>): StoredPolicy<P> {
  const count = typeof entity.documentChunks === 'number' ? entity.documentChunks : 1;
  let json = '';
  for (let i = 0; i < count; i++) {
    const chunk = entity[i === 0 ? 'document' : `document${i}`];
    if (typeof chunk !== 'string')
      throw new Error(`policy entity ${entity.rowKey ?? '?'} is missing document part ${i}`);
    json += chunk;
  }
  return {
    policy: JSON.parse(json) as P,
    enabled: entity.enabled !== false,
    updatedAt: typeof entity.updatedAt === 'string' ? entity.updatedAt : '',
    etag: entity.etag,
  };
}
