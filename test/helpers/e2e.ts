import { mkdtemp, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import type { RequestLogEntry } from '../../local/compute/requestLog';
import type { Stack } from '../../local/stack';
import { sourceCollectionName } from '../../lib/naming';
import type { Outcome } from '../../lib/tables/outcomeStore';
import { computeClientFor } from './computeClient';

/**
 * What the end-to-end tests share: the demo fleet's ids, policies PUT over the host's HTTP API, Durable
 * instance status over the Durable HTTP API, a driver that moves the stack's clock like the passing of a day
 * (small steps while an orchestration is in flight, straight to the next scheduleTick when none is), and
 * readings of the Compute emulator (request log, faults, restore points through @azure/arm-compute).
 */

export const PROD = 'b1f0c2d4-6e8a-4c1b-9d3f-5a7e9c2b4d60';
export const DEV = 'c2e1d3f5-7f9b-4d2c-8e4a-6b8f0d3c5e71';

export function vmId(subscriptionId: string, resourceGroup: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Compute/virtualMachines/${name}`;
}

/** A valid policy over the demo subscriptions; `overrides` replace whole fields. */
export function policyBody(name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    enabled: true,
    scope: { subscriptionIds: [PROD, DEV] },
    selector: { tags: { 'rpo-tier': 'silver' } },
    consistencyMode: 'CrashConsistent',
    fallbackToCrashConsistent: false,
    schedule: { everyHours: 2 },
    startWindowMinutes: 60,
    retention: { count: 10 },
    ...overrides,
  };
}

/** The demo fleet's VM ids by name (docs/demo-fleet.md). */
export const DEMO_VMS: Readonly<Record<string, string>> = Object.fromEntries([
  ...[
    'vm-web-01',
    'vm-web-02',
    'vm-web-03',
    'vm-api-01',
    'vm-api-02',
    'vm-api-03',
    'vm-api-04',
    'vm-batch-0',
    'vm-cvm-01',
    'vm-sql-01',
    'vm-analytics-01',
    'vm-cluster-01',
    'vm-cluster-02',
    'vm-logs-01',
    'vm-ephemeral-01',
    'vm-cache-rw-01',
    'vm-boost-01',
    'vm-agent-down-01',
    'vm-stopped-01',
    'vm-legacy-01',
  ].map((name) => [name, vmId(PROD, 'rg-shop-weu', name)]),
  ...['vm-dr-01', 'vm-reports-01'].map((name) => [name, vmId(PROD, 'rg-shop-neu', name)]),
  ...['vm-dev-01', 'vm-dev-02'].map((name) => [name, vmId(DEV, 'rg-dev-weu', name)]),
  ...['vm-dev-neu-01', 'vm-dev-neu-02'].map((name) => [name, vmId(DEV, 'rg-dev-neu', name)]),
]);

export function vmNameOf(id: string): string {
  return id.split('/').pop() ?? id;
}

export const HOUR = 3_600_000;
export const MINUTE = 60_000;

export async function putPolicy(stack: Stack, body: Record<string, unknown>): Promise<void> {
  const response = await stack.host.invokeHttp('PUT', `/api/policies/${String(body.name)}`, body);
  expect(response.status, response.body).toBe(201);
}

/** Instances not yet terminal (Pending or Running), from the host's Durable HTTP API. */
export async function activeInstances(stack: Stack): Promise<string[]> {
  const response = await stack.host.invokeHttp(
    'GET',
    '/runtime/webhooks/durabletask/instances?runtimeStatus=Pending,Running',
  );
  expect(response.status, response.body).toBe(200);
  return response.json<{ instanceId: string }[]>().map((i) => i.instanceId);
}

export interface InstanceStatus {
  readonly runtimeStatus: string;
  readonly output: unknown;
  readonly customStatus: unknown;
}

export async function instanceStatus(stack: Stack, instanceId: string): Promise<InstanceStatus | undefined> {
  const response = await stack.host.invokeHttp(
    'GET',
    `/runtime/webhooks/durabletask/instances/${encodeURIComponent(instanceId)}`,
  );
  if (response.status === 404) return undefined;
  return response.json<InstanceStatus>();
}

export async function listInstances(stack: Stack): Promise<{ instanceId: string; runtimeStatus: string }[]> {
  const response = await stack.host.invokeHttp('GET', '/runtime/webhooks/durabletask/instances');
  expect(response.status, response.body).toBe(200);
  return response.json<{ instanceId: string; runtimeStatus: string }[]>();
}

/** The last events of an instance's history, in short: what it last did and what it waits for. */
async function lastEvents(stack: Stack, instanceId: string): Promise<string> {
  const response = await stack.host.invokeHttp(
    'GET',
    `/runtime/webhooks/durabletask/instances/${encodeURIComponent(instanceId)}?showHistory=true&showInput=false`,
  );
  type Summary = Partial<Record<'EventType' | 'FunctionName' | 'Name' | 'FireAt' | 'Timestamp', string>>;
  const body = response.json<{ customStatus?: unknown; historyEvents?: Summary[] }>();
  const events = (body.historyEvents ?? [])
    .slice(-4)
    .map((e) => `${e.EventType ?? ''} ${e.FunctionName ?? e.Name ?? ''} ${e.FireAt ?? e.Timestamp ?? ''}`.trim());
  return `${JSON.stringify(body.customStatus ?? null)} [${events.join(' | ')}]`;
}

const TERMINAL = new Set(['Completed', 'Failed', 'Terminated', 'Canceled']);

/** Advances the clock until every instance is terminal; returns their statuses (fails the test on a timeout). */
export async function runUntilFinished(
  stack: Stack,
  instanceIds: readonly string[],
  options: { step?: number; limitMs?: number } = {},
): Promise<Map<string, InstanceStatus>> {
  const statuses = new Map<string, InstanceStatus>();
  const done = await stack.runUntil(
    async () => {
      for (const id of instanceIds) {
        if (statuses.has(id)) continue;
        const status = await instanceStatus(stack, id);
        if (status === undefined || !TERMINAL.has(status.runtimeStatus)) return false;
        statuses.set(id, status);
      }
      return true;
    },
    { step: options.step ?? 10_000, limitMs: options.limitMs ?? 6 * HOUR },
  );
  if (!done) {
    // What is still running, and what it says it waits for: enough to tell a stuck instance from a slow one.
    const active = await activeInstances(stack);
    const details = await Promise.all(active.map(async (id) => `${id}: ${await lastEvents(stack, id)}`));
    expect.fail(
      `not finished by the clock limit: ${instanceIds.filter((id) => !statuses.has(id)).join(', ')}; ` +
        `still active at ${new Date(stack.clock.now()).toISOString()}:\n${details.join('\n')}`,
    );
  }
  return statuses;
}

const TICK_MS = 5 * MINUTE;

export interface DriveOptions {
  /** Clock step while an orchestration is in flight (default 10 s). */
  readonly busyStepMs?: number;
  /** Called after every scheduleTick, with the tick's clock time (e.g. to drain the emulator's request log). */
  readonly afterTick?: (atMs: number) => Promise<void>;
}

/**
 * Runs the stack until `untilMs` of clock time the way a day passes: the host's own timer fires scheduleTick
 * at every 5-minute boundary the clock crosses (local/host/triggers/timer.ts arms it on the clock); at each
 * boundary the driver invokes the timer too, which waits for the host's invocation and then finds nothing
 * left to start, so the orchestrations of the tick exist before the driver looks. While any instance is
 * Pending or Running the clock moves in small steps (their durable timers and the emulator's creation time);
 * when none is, it jumps to the next boundary. Then it lets the last instances finish.
 */
export async function driveUntil(stack: Stack, untilMs: number, options: DriveOptions = {}): Promise<void> {
  const busyStep = options.busyStepMs ?? 10_000;
  let nextTick = Math.ceil(stack.clock.now() / TICK_MS) * TICK_MS;
  const tick = async (): Promise<void> => {
    await stack.clock.set(nextTick);
    await stack.host.triggerTimer('scheduleTick');
    await options.afterTick?.(nextTick);
    nextTick += TICK_MS;
  };
  if (nextTick === stack.clock.now()) await tick();
  for (;;) {
    const active = await activeInstances(stack);
    const now = stack.clock.now();
    if (active.length === 0) {
      if (nextTick > untilMs) return;
      await tick();
      continue;
    }
    if (now >= untilMs + 6 * HOUR) throw new Error(`still in flight 6 h after the end: ${active.join(', ')}`);
    if (now + busyStep >= nextTick && nextTick <= untilMs) await tick();
    else await stack.clock.advance(busyStep);
    // Let the engine take up what the timers it fired released (Azurite round trips are real I/O).
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A policyRun's output (orchestrations/contracts PolicyRunResult). */
export interface RunOutput {
  readonly total: number;
  readonly counts: Record<'Succeeded' | 'Failed' | 'Skipped' | 'Missed', number>;
  readonly created: number;
  readonly throttled: number;
}

export function runOutput(status: InstanceStatus | undefined): RunOutput {
  expect(status?.runtimeStatus).toBe('Completed');
  return status?.output as RunOutput;
}

// ---------------------------------------------------------------------------------------------------------
// The emulator's request log

const POINT_PATH = /\/restorePointCollections\/([^/]+)\/restorePoints\/([^/]+)$/i;

export interface PointPut {
  readonly collection: string;
  readonly point: string;
  readonly status: number;
  readonly atMs: number;
}

/** Every restore point PUT the emulator answered, oldest first. */
export function pointPuts(log: readonly RequestLogEntry[]): PointPut[] {
  return log.flatMap((entry) => {
    const match = entry.method === 'PUT' ? POINT_PATH.exec(entry.path) : null;
    if (match === null) return [];
    return [
      {
        collection: (match[1] as string).toLowerCase(),
        point: match[2] as string,
        status: entry.status,
        atMs: Date.parse(entry.time),
      },
    ];
  });
}

/** RPO's collection name of a VM, lower-cased as {@link pointPuts} reports it. */
export function collectionOf(vm: string): string {
  return sourceCollectionName(vm).toLowerCase();
}

/** The most PUTs one collection (one VM: RPO keeps one source collection per VM) received within any hour. */
export function mostPutsInAnHour(puts: readonly PointPut[]): { collection: string; count: number } {
  const byCollection = new Map<string, number[]>();
  for (const put of puts) byCollection.set(put.collection, [...(byCollection.get(put.collection) ?? []), put.atMs]);
  let worst = { collection: '', count: 0 };
  for (const [collection, times] of byCollection) {
    times.sort((a, b) => a - b);
    for (let i = 0, j = 0; j < times.length; j++) {
      while ((times[j] as number) - (times[i] as number) >= HOUR) i++;
      if (j - i + 1 > worst.count) worst = { collection, count: j - i + 1 };
    }
  }
  return worst;
}

export function statusCounts(log: readonly RequestLogEntry[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const entry of log) counts[entry.status] = (counts[entry.status] ?? 0) + 1;
  return counts;
}

export async function emulatorCall(stack: Stack, method: string, route: string, body?: unknown): Promise<Response> {
  const url = new URL(route, stack.emulator.url);
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, ca: stack.emulator.caPem, headers: text === undefined ? {} : { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve(new Response(Buffer.concat(chunks).toString('utf8') || null, { status: res.statusCode ?? 0 })),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** Reads and clears the emulator's request log (`GET` then `DELETE /_emulator/requests`). */
export async function drainRequestLog(stack: Stack): Promise<RequestLogEntry[]> {
  const response = await emulatorCall(stack, 'GET', '/_emulator/requests');
  expect(response.status).toBe(200);
  const entries = ((await response.json()) as { value: RequestLogEntry[] }).value;
  const cleared = await emulatorCall(stack, 'DELETE', '/_emulator/requests');
  expect(cleared.status).toBeLessThan(300);
  return entries;
}

export async function addFault(stack: Stack, fault: Record<string, unknown>): Promise<void> {
  const response = await emulatorCall(stack, 'POST', '/_emulator/faults', fault);
  expect(response.status, await response.text()).toBe(201);
}

export async function requestLog(stack: Stack): Promise<RequestLogEntry[]> {
  const response = await emulatorCall(stack, 'GET', '/_emulator/requests');
  expect(response.status).toBe(200);
  return ((await response.json()) as { value: RequestLogEntry[] }).value;
}

// ---------------------------------------------------------------------------------------------------------
// Outcomes

/** Every `create` outcome of the runs, one per VM and run. */
export async function createOutcomes(stack: Stack, runIds: readonly string[]): Promise<Outcome[]> {
  const all: Outcome[] = [];
  for (const runId of runIds) all.push(...(await stack.stores.outcomes.listOutcomesForRun(runId)));
  return all.filter((o) => o.operation === 'create');
}

export function describeOutcome(o: Outcome): string {
  return `${o.vmId.split('/').pop() ?? o.vmId} ${o.status} ${o.errorCode ?? ''} ${o.errorMessage ?? ''}`.trim();
}

// ---------------------------------------------------------------------------------------------------------
// Generated fleets

/** A fleet file of `count` plain Linux VMs (one 32 GiB Premium OS disk each) tagged `rpo-tier: bulk`. */
export async function writeBulkFleet(count: number, subscriptionId = PROD): Promise<string> {
  const virtualMachines = Array.from({ length: count }, (_, i) => {
    const name = `vm-bulk-${String(i + 1).padStart(3, '0')}`;
    return {
      name,
      size: 'Standard_D2s_v5',
      tags: { 'rpo-tier': 'bulk' },
      osDisk: { disk: { name: `${name}-os`, sku: 'Premium_LRS', sizeGB: 32, osType: 'Linux' } },
    };
  });
  const fleet = {
    description: `${count} plain VMs for the pacing tests`,
    subscriptions: [
      {
        id: subscriptionId,
        displayName: 'bulk',
        resourceGroups: [{ name: 'rg-bulk', location: 'westeurope', virtualMachines }],
      },
    ],
  };
  const dir = await mkdtemp(path.join(tmpdir(), 'rpo-fleet-'));
  const file = path.join(dir, 'bulk.json');
  await writeFile(file, JSON.stringify(fleet, null, 2));
  return file;
}

// ---------------------------------------------------------------------------------------------------------
// Restore points as the emulator holds them

export interface ListedPoint {
  readonly id: string;
  readonly name: string;
  readonly collection: string;
  /** The collection's `source.id`: the VM the point is of. */
  readonly sourceVmId: string;
  readonly provisioningState?: string;
  readonly consistencyMode?: string;
  readonly timeCreatedMs?: number;
  /** Lower-cased ids of the disks the point holds (OS and data) and of those it excludes. */
  readonly disks: readonly string[];
  readonly excludeDisks: readonly string[];
}

/** Every restore point of every collection of a subscription, through @azure/arm-compute. */
export async function listPoints(stack: Stack, subscriptionId: string): Promise<ListedPoint[]> {
  const compute = computeClientFor(stack.emulator, subscriptionId);
  const points: ListedPoint[] = [];
  for await (const collection of compute.restorePointCollections.listAll()) {
    const group = /\/resourceGroups\/([^/]+)\//i.exec(collection.id ?? '')?.[1] as string;
    const full = await compute.restorePointCollections.get(group, collection.name as string, {
      expand: 'restorePoints',
    });
    for (const point of full.restorePoints ?? []) {
      const storage = point.sourceMetadata?.storageProfile;
      const created = point.timeCreated as Date | string | undefined;
      points.push({
        id: point.id as string,
        name: point.name as string,
        collection: full.id as string,
        sourceVmId: full.source?.id ?? '',
        ...(point.provisioningState !== undefined ? { provisioningState: point.provisioningState } : {}),
        ...(point.consistencyMode !== undefined ? { consistencyMode: point.consistencyMode } : {}),
        ...(created !== undefined ? { timeCreatedMs: new Date(created).getTime() } : {}),
        disks: [storage?.osDisk, ...(storage?.dataDisks ?? [])].flatMap((d) =>
          d?.managedDisk?.id === undefined ? [] : [d.managedDisk.id.toLowerCase()],
        ),
        excludeDisks: (point.excludeDisks ?? []).flatMap((d) => (d.id === undefined ? [] : [d.id.toLowerCase()])),
      });
    }
  }
  return points;
}

/** Fails unless each VM has exactly one restore point in the demo subscriptions, and it Succeeded. */
export async function expectOnePointEach(stack: Stack, vmIds: readonly string[]): Promise<void> {
  const points = [...(await listPoints(stack, PROD)), ...(await listPoints(stack, DEV))];
  for (const vm of vmIds) {
    const own = points.filter((p) => p.sourceVmId.toLowerCase() === vm.toLowerCase());
    expect(own, vmNameOf(vm)).toHaveLength(1);
    expect(own[0]?.provisioningState, vmNameOf(vm)).toBe('Succeeded');
  }
}
