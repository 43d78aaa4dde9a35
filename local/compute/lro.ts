import type { Clock, ClockTimer } from '../clock';
import { newGuid } from './armIds';

/**
 * The long-running operations of ARM (azure-api.md §4), tracked on the injected clock. An operation
 * is InProgress until `completesAtMs`; then its effect is applied (which may fail it) and it is
 * Succeeded or Failed. Completed operations are kept for `retentionMs` so late polls still answer.
 */
export type OperationAction =
  | { kind: 'createRestorePoint'; key: string; diskGeneration?: number }
  | { kind: 'deleteRestorePoint'; key: string }
  | { kind: 'deleteCollection'; key: string }
  | { kind: 'createDisk'; key: string }
  | { kind: 'deleteDisk'; key: string }
  | { kind: 'createVm'; key: string }
  | { kind: 'deleteVm'; key: string }
  | { kind: 'vmPower'; key: string; to: 'running' | 'stopped' | 'deallocated' }
  | { kind: 'grantAccess'; key: string; accessSAS: string; expiresAtMs: number }
  | { kind: 'revokeAccess'; key: string };

export type OperationStatus = 'InProgress' | 'Succeeded' | 'Failed' | 'Canceled';

export interface OperationRecord {
  id: string;
  subscriptionId: string;
  location: string;
  /** Compute URLs say `operations`, DiskRP's say `DiskOperations`. */
  family: 'operations' | 'DiskOperations';
  apiVersion: string;
  startMs: number;
  completesAtMs: number;
  endMs?: number | undefined;
  status: OperationStatus;
  action: OperationAction;
  error?: { code: string; message: string; status: number } | undefined;
  /** A failure decided when the operation started (fault injection), applied at completion. */
  failWith?: { code: string; message: string; status: number } | undefined;
}

export type CompleteOperation = (
  operation: OperationRecord,
) => { code: string; message: string; status: number } | undefined;

export class OperationTracker {
  private readonly operations = new Map<string, OperationRecord>();
  /** Min-heap of [completesAtMs, operation]; one clock timer for the earliest (not one per operation). */
  private readonly due: [number, OperationRecord][] = [];
  private armed: { atMs: number; timer: ClockTimer } | undefined;
  private readonly finished: string[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly complete: CompleteOperation,
    private readonly onChange: () => void = () => undefined,
    private readonly retentionMs = 24 * 3_600_000,
    /** Beyond this many finished operations the oldest go even inside the retention period (memory bound). */
    private readonly maxFinished = 10_000,
  ) {}

  start(fields: Omit<OperationRecord, 'id' | 'startMs' | 'status'>): OperationRecord {
    const operation: OperationRecord = {
      id: newGuid(),
      subscriptionId: fields.subscriptionId,
      location: fields.location,
      family: fields.family,
      apiVersion: fields.apiVersion,
      startMs: this.clock.now(),
      completesAtMs: fields.completesAtMs,
      endMs: undefined,
      status: 'InProgress',
      action: fields.action,
      error: undefined,
      failWith: fields.failWith,
    };
    this.operations.set(operation.id, operation);
    this.schedule(operation);
    this.prune();
    return operation;
  }

  get(id: string): OperationRecord | undefined {
    return this.operations.get(id.toLowerCase());
  }

  /** Completes due operations now (a poll may arrive before the timer callback on a scaled clock). */
  settle(operation: OperationRecord): void {
    if (operation.status === 'InProgress' && operation.completesAtMs <= this.clock.now()) this.finish(operation);
  }

  /** Moves an operation's completion (e.g. when a cross-region copy is re-timed). */
  reschedule(id: string, completesAtMs: number): void {
    const operation = this.operations.get(id);
    if (!operation || operation.status !== 'InProgress') return;
    operation.completesAtMs = completesAtMs;
    this.schedule(operation);
  }

  records(): OperationRecord[] {
    return [...this.operations.values()];
  }

  /** Loads operations from a snapshot and re-arms the ones still running. */
  load(records: OperationRecord[]): void {
    for (const record of records) {
      this.operations.set(record.id, record);
      if (record.status === 'InProgress') this.schedule(record);
      else this.finished.push(record.id);
    }
  }

  stop(): void {
    this.armed?.timer.cancel();
    this.armed = undefined;
  }

  private schedule(operation: OperationRecord): void {
    heapPush(this.due, [operation.completesAtMs, operation]);
    this.arm();
  }

  private arm(): void {
    const next = this.due[0];
    if (!next) return;
    if (this.armed && this.armed.atMs <= next[0]) return;
    this.armed?.timer.cancel();
    const atMs = next[0];
    this.armed = { atMs, timer: this.clock.at(atMs, () => this.fire()) };
  }

  private fire(): void {
    this.armed = undefined;
    const now = this.clock.now();
    for (let next = this.due[0]; next && next[0] <= now; next = this.due[0]) {
      heapPop(this.due);
      const [atMs, operation] = next;
      // Entries left behind by reschedule() or settle() are skipped.
      if (operation.status === 'InProgress' && operation.completesAtMs === atMs) this.finish(operation);
    }
    this.arm();
  }

  private finish(operation: OperationRecord): void {
    if (operation.status !== 'InProgress') return;
    // The completion handler applies the effect; with `failWith` set it rolls the resource to Failed.
    const error = this.complete(operation) ?? operation.failWith;
    operation.endMs = Math.max(this.clock.now(), operation.completesAtMs);
    operation.status = error ? 'Failed' : 'Succeeded';
    if (error) operation.error = error;
    this.finished.push(operation.id);
    this.onChange();
  }

  private prune(): void {
    const cutoff = this.clock.now() - this.retentionMs;
    while (this.finished.length > 0) {
      const oldest = this.operations.get(this.finished[0] ?? '');
      if (oldest && (oldest.endMs ?? 0) > cutoff && this.finished.length <= this.maxFinished) break;
      this.finished.shift();
      if (oldest) this.operations.delete(oldest.id);
    }
  }
}

function heapPush(heap: [number, OperationRecord][], entry: [number, OperationRecord]): void {
  heap.push(entry);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const p = heap[parent];
    if (!p || p[0] <= entry[0]) break;
    heap[i] = p;
    i = parent;
  }
  heap[i] = entry;
}

function heapPop(heap: [number, OperationRecord][]): void {
  const last = heap.pop();
  if (!last || heap.length === 0) return;
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    const right = left + 1;
    let smallest = i;
    let smallestAt = last[0];
    const l = heap[left];
    const r = heap[right];
    if (l && l[0] < smallestAt) {
      smallest = left;
      smallestAt = l[0];
    }
    if (r && r[0] < smallestAt) smallest = right;
    if (smallest === i) break;
    heap[i] = heap[smallest] ?? last;
    i = smallest;
  }
  heap[i] = last;
}

export function newOperationId(): string {
  return newGuid();
}
