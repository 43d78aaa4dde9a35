import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestLogEntry } from '../../local/compute/requestLog';
import { DEMO_FLEET, REPO, startStack, type Stack } from '../../local/stack';
import { policyRestorePointName, policyRunInstanceId, vmSetBackupInstanceId } from '../../lib/naming';
import type { Outcome } from '../../lib/tables/outcomeStore';
import type { RunRecord } from '../../lib/tables/runStore';
import {
  activeInstances,
  DEMO_VMS,
  DEV,
  drainRequestLog,
  driveUntil,
  HOUR,
  listPoints,
  MINUTE,
  PROD,
  putPolicy,
  vmNameOf,
  type ListedPoint,
} from '../helpers/e2e';

/**
 * A simulated day of scheduled protection over the demo fleet (docs/demo-fleet.md), end to end: policies PUT
 * over the host's HTTP API, scheduleTick fired by the host's timer every 5 minutes of clock, policyRun →
 * policyRunBatch → vmSetBackup → vmBackup replayed by the local Durable host with its state in Azurite, the
 * Compute emulator answering over HTTPS through @azure/arm-compute. Every assertion reads what the parts
 * recorded: the emulator's restore points (through the SDK) and request log, RpoOutcomes and RpoRuns.
 */

const DAY_START = Date.parse('2026-03-02T00:00:00Z');
/** The last scheduleTick of the day (the 23:00 slot is the last one). */
const DAY_END = DAY_START + 24 * HOUR - 5 * MINUTE;

const HOURLY_SLOTS = Array.from({ length: 24 }, (_, h) => new Date(DAY_START + h * HOUR).toISOString());
const GOLD_SLOTS = HOURLY_SLOTS.filter((_, h) => h % 4 === 0);

/** The hourly crash-consistent policy: silver, every hour. */
const SILVER_CREATED = [
  'vm-api-01',
  'vm-api-02',
  'vm-api-03',
  'vm-api-04',
  'vm-analytics-01',
  'vm-logs-01',
  'vm-ephemeral-01',
  'vm-cache-rw-01',
  'vm-boost-01',
  'vm-reports-01',
  'vm-dev-01',
  'vm-dev-neu-01',
];
const SILVER_REFUSED: Record<string, string> = {
  'vm-batch-0': 'uniformScaleSet',
  'vm-stopped-01': 'vmNotRunning',
  'vm-legacy-01': 'unmanagedDisks',
};
/** The 4-hourly application-consistent policy: gold, without copies, with the crash-consistent fallback. */
const GOLD_CREATED = [
  'vm-web-01',
  'vm-web-02',
  'vm-web-03',
  'vm-sql-01',
  'vm-cluster-01',
  'vm-cluster-02',
  'vm-agent-down-01',
  'vm-dr-01',
  'vm-dev-neu-02',
];
const GOLD_REFUSED: Record<string, string> = { 'vm-cvm-01': 'confidentialVm' };

const diskId = (subscriptionId: string, group: string, name: string): string =>
  `/subscriptions/${subscriptionId}/resourceGroups/${group}/providers/Microsoft.Compute/disks/${name}`.toLowerCase();

/** The automatic exclusions of each VM in its policy's mode: [disk id, reason code]. */
const EXCLUSIONS: Record<string, [string, string][]> = {
  'vm-ephemeral-01': [[diskId(PROD, 'rg-shop-weu', 'vm-ephemeral-01_OsDisk_ephemeral'), 'ephemeralOsDisk']],
  'vm-analytics-01': [[diskId(PROD, 'rg-shop-weu', 'vm-analytics-01-data0'), 'premiumV2DiskInCrashMode']],
  'vm-logs-01': [[diskId(PROD, 'rg-shop-weu', 'vm-logs-01-data0'), 'writeAcceleratedInCrashMode']],
  'vm-cluster-01': [[diskId(PROD, 'rg-shop-weu', 'disk-cluster-shared'), 'sharedDisk']],
  'vm-cluster-02': [[diskId(PROD, 'rg-shop-weu', 'disk-cluster-shared'), 'sharedDisk']],
};

function demoPolicy(name: string): Record<string, unknown> {
  const text = readFileSync(path.join(REPO, 'local', 'policies', `${name}.json`), 'utf8');
  return JSON.parse(text) as Record<string, unknown>;
}

const THROTTLE = /429|TooManyRequests|throttl|OperationNotAllowed/i;

describe('a simulated day (24 h of clock) of hourly silver and 4-hourly gold cycles over the demo fleet', () => {
  let stack: Stack;
  const log: RequestLogEntry[] = [];
  let outcomes: Outcome[] = [];
  let policyRuns: RunRecord[] = [];
  let points: ListedPoint[] = [];

  const outcomesOf = (vm: string, policy: string): Outcome[] =>
    outcomes.filter((o) => o.vmId.toLowerCase() === DEMO_VMS[vm]?.toLowerCase() && o.policy === policy);
  const pointsOf = (vm: string): ListedPoint[] =>
    points.filter((p) => p.sourceVmId.toLowerCase() === DEMO_VMS[vm]?.toLowerCase());

  beforeAll(async () => {
    stack = await startStack({ fleetFile: DEMO_FLEET, start: '2026-03-01T23:30:00Z' });
    const { copies: _notYet, ...gold } = demoPolicy('gold');
    await putPolicy(stack, gold);
    await putPolicy(stack, { ...demoPolicy('silver'), schedule: { everyHours: 1 }, startWindowMinutes: 30 });
    await drainRequestLog(stack); // the fleet's own PUTs
    await stack.clock.set(DAY_START - MINUTE);
    await driveUntil(stack, DAY_END, {
      // The log keeps its newest 2,000 entries: read it every hour of clock (well below that).
      afterTick: async (at) => {
        if (at % HOUR === 0) log.push(...(await drainRequestLog(stack)));
      },
    });
    log.push(...(await drainRequestLog(stack)));
    policyRuns = await stack.stores.runs.list({ kind: 'policyRun' });
    for (const run of policyRuns) outcomes.push(...(await stack.stores.outcomes.listOutcomesForRun(run.runId)));
    outcomes = outcomes.sort((a, b) => (a.startedAt < b.startedAt ? -1 : 1));
    points = [...(await listPoints(stack, PROD)), ...(await listPoints(stack, DEV))];
  }, 300_000);

  afterAll(async () => {
    await stack?.stop();
  });

  // How long the day takes in wall time is a benchmark's figure (bench/), not a test's bound.
  it('runs the whole day and ends it with nothing in flight', async () => {
    expect(stack.clock.now()).toBeGreaterThanOrEqual(DAY_END);
    expect(await activeInstances(stack)).toEqual([]);
  });

  it('runs every slot once: 24 hourly silver runs and 6 gold runs, each started by scheduleTick and Succeeded', () => {
    const expected = [
      ...HOURLY_SLOTS.map((slot) => policyRunInstanceId('silver', slot)),
      ...GOLD_SLOTS.map((slot) => policyRunInstanceId('gold', slot)),
    ].sort();
    expect(policyRuns.map((r) => r.runId).sort()).toEqual(expected);
    for (const run of policyRuns) {
      expect(run.state, `${run.runId}: ${run.message ?? ''}`).toBe('Succeeded');
      expect(run.trigger).toBe('timer');
      expect(run.finishedAt).toBeDefined();
    }
  });

  it('creates exactly one Succeeded restore point per eligible VM per slot, named rpo-{policy}-{yyyyMMddHHmm}, and no other', () => {
    const expected = new Map<string, string[]>([
      ...SILVER_CREATED.map((vm) => [vm, HOURLY_SLOTS.map((s) => policyRestorePointName('silver', s))] as const),
      ...GOLD_CREATED.map((vm) => [vm, GOLD_SLOTS.map((s) => policyRestorePointName('gold', s))] as const),
    ]);
    const byVm = new Map<string, string[]>();
    for (const point of points) {
      const vm = vmNameOf(point.sourceVmId);
      byVm.set(vm, [...(byVm.get(vm) ?? []), point.name]);
      expect(point.provisioningState, point.id).toBe('Succeeded');
    }
    expect([...byVm.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [vm, names] of expected) expect(byVm.get(vm)?.sort(), vm).toEqual([...names].sort());
    expect(points).toHaveLength(SILVER_CREATED.length * 24 + GOLD_CREATED.length * 6);

    // The outcomes say the same: one Succeeded create per VM and run, for the point that exists.
    const created = outcomes.filter((o) => o.operation === 'create' && o.status === 'Succeeded');
    expect(created).toHaveLength(points.length);
    const ids = new Set(points.map((p) => p.id.toLowerCase()));
    const seen = new Set<string>();
    for (const o of created) {
      expect(ids.has(o.restorePointId?.toLowerCase() ?? ''), o.restorePointId).toBe(true);
      expect(seen.has(`${o.runId}|${o.vmId}`), `${o.runId} ${vmNameOf(o.vmId)}`).toBe(false);
      seen.add(`${o.runId}|${o.vmId}`);
    }
    // Nothing was deleted: silver keeps 24 points, gold 42, and neither reached its age limit in a day.
    expect(outcomes.filter((o) => o.operation === 'delete')).toEqual([]);
  });

  it('sends one restore point PUT per point, plus one per fallback, and meets no throttle all day', () => {
    const statuses = new Map<number, number>();
    for (const e of log) statuses.set(e.status, (statuses.get(e.status) ?? 0) + 1);
    expect(log.length).toBeGreaterThan(points.length);
    expect(statuses.get(429) ?? 0, JSON.stringify([...statuses])).toBe(0);
    const puts = log.filter((e) => e.method === 'PUT' && /\/restorePoints\/[^/]+$/i.test(e.path));
    const fallbacks = outcomes.filter((o) => o.fallback).length;
    expect(fallbacks).toBe(GOLD_SLOTS.length);
    expect(puts).toHaveLength(points.length + fallbacks);
    expect(puts.filter((e) => e.status >= 300)).toEqual([]);
    for (const o of outcomes) {
      expect(o.throttled, `${o.runId} ${vmNameOf(o.vmId)}`).toBe(0);
      expect(o.status, `${o.runId} ${vmNameOf(o.vmId)} ${o.errorCode ?? ''} ${o.errorMessage ?? ''}`).not.toBe(
        'Failed',
      );
      expect(o.errorCode ?? '').not.toMatch(THROTTLE);
    }
  });

  it('records every exclusion of the demo fleet with its reason, in the outcome and in the request Azure got', () => {
    for (const [policy, vms] of [
      ['silver', SILVER_CREATED],
      ['gold', GOLD_CREATED],
    ] as const) {
      for (const vm of vms) {
        const want = (EXCLUSIONS[vm] ?? []).map(([id, reason]) => [id, reason]).sort();
        const rows = outcomesOf(vm, policy).filter((o) => o.operation === 'create');
        expect(rows, `${vm} ${policy}`).toHaveLength(policy === 'silver' ? 24 : 6);
        for (const o of rows) {
          const got = (o.excludedDisks ?? []).map((d) => [d.id.toLowerCase(), d.reason.split(':')[0]]).sort();
          expect(got, `${vm} ${o.runId}`).toEqual(want);
        }
        for (const point of pointsOf(vm)) {
          expect([...point.excludeDisks].sort(), point.id).toEqual(want.map(([id]) => id));
          for (const [id] of want) expect(point.disks, point.id).not.toContain(id);
        }
      }
    }
    // Ultra is fine in application-consistent mode: vm-sql-01's gold points hold its Ultra disk.
    const ultra = diskId(PROD, 'rg-shop-weu', 'vm-sql-01-data0');
    for (const point of pointsOf('vm-sql-01')) expect(point.disks).toContain(ultra);
  });

  it('records every refusal as Skipped with its reason code and a message, in every slot', () => {
    for (const [policy, refused, slots] of [
      ['silver', SILVER_REFUSED, 24],
      ['gold', GOLD_REFUSED, 6],
    ] as const) {
      for (const [vm, code] of Object.entries(refused)) {
        const rows = outcomesOf(vm, policy);
        expect(rows, vm).toHaveLength(slots);
        for (const o of rows) {
          expect([o.operation, o.status, o.errorCode], `${vm} ${o.runId}`).toEqual(['skip', 'Skipped', code]);
          expect(o.errorMessage ?? '').toContain(vm);
        }
        expect(pointsOf(vm)).toEqual([]);
      }
    }
    // vm-dev-02 is untagged: no policy selects it, so nothing is recorded for it at all.
    expect(outcomes.filter((o) => o.vmId.toLowerCase() === DEMO_VMS['vm-dev-02']?.toLowerCase())).toEqual([]);
  });

  it('warns that crash consistency is not guaranteed on vm-cache-rw-01 (ReadWrite caching) and vm-boost-01 (Azure Boost)', () => {
    for (const vm of ['vm-cache-rw-01', 'vm-boost-01', 'vm-ephemeral-01'])
      expect(outcomesOf(vm, 'silver')).toHaveLength(24);
    for (const o of outcomesOf('vm-cache-rw-01', 'silver')) {
      expect((o.warnings ?? []).join('\n')).toMatch(
        /crash consistency is not guaranteed .*ReadWrite host caching .*data0/,
      );
    }
    for (const o of outcomesOf('vm-boost-01', 'silver')) {
      expect((o.warnings ?? []).join('\n')).toMatch(/Azure Boost size Standard_D4s_v6 with 2 data disks/);
    }
    // A VM without these risks gets neither warning (vm-ephemeral-01: no host-cached disk left, no Boost size).
    for (const o of outcomesOf('vm-ephemeral-01', 'silver')) {
      expect((o.warnings ?? []).join('\n')).not.toMatch(/ReadWrite host caching|Azure Boost/);
    }
  });

  it('labels the crash-consistent fallback of vm-agent-down-01 in every gold slot, and only there', () => {
    const rows = outcomesOf('vm-agent-down-01', 'gold');
    expect(rows).toHaveLength(GOLD_SLOTS.length);
    for (const o of rows) {
      expect([o.operation, o.status, o.fallback, o.consistencyMode]).toEqual([
        'create',
        'Succeeded',
        true,
        'CrashConsistent',
      ]);
      expect(o.attempts).toBe(2);
      expect((o.warnings ?? []).join('\n')).toMatch(
        /VMAgentStatusCommunicationError.*took a crash-consistent one instead/,
      );
    }
    for (const point of pointsOf('vm-agent-down-01')) expect(point.consistencyMode).toBe('CrashConsistent');
    // Every other gold VM got the mode it asked for (Linux reports it as FileSystemConsistent).
    for (const vm of GOLD_CREATED.filter((v) => v !== 'vm-agent-down-01')) {
      for (const o of outcomesOf(vm, 'gold')) {
        expect(o.fallback, vm).toBe(false);
        expect(['ApplicationConsistent', 'FileSystemConsistent'], vm).toContain(o.consistencyMode);
      }
    }
    for (const vm of SILVER_CREATED) {
      for (const point of pointsOf(vm)) expect(point.consistencyMode, vm).toBe('CrashConsistent');
    }
  });

  it('records the member skew of avset-web and vmss-api on a vmSetBackup run per slot, as the points show it', async () => {
    const sets = [
      ['gold', GOLD_SLOTS, 'availabilitySets/avset-web', ['vm-web-01', 'vm-web-02', 'vm-web-03']],
      [
        'silver',
        HOURLY_SLOTS,
        'virtualMachineScaleSets/vmss-api',
        ['vm-api-01', 'vm-api-02', 'vm-api-03', 'vm-api-04'],
      ],
    ] as const;
    for (const [policy, slots, set, members] of sets) {
      const setId = `/subscriptions/${PROD}/resourceGroups/rg-shop-weu/providers/Microsoft.Compute/${set}`;
      for (const slot of slots) {
        const pointName = policyRestorePointName(policy, slot);
        const run = await stack.stores.runs.get(vmSetBackupInstanceId(setId, pointName), 'vmSetBackup');
        expect(run, `${set} ${slot}`).toBeDefined();
        expect(run?.state).toBe('Succeeded');
        expect(run?.policy).toBe(policy);
        expect(run?.total).toBe(members.length);
        expect(run?.counts).toEqual({ Succeeded: members.length, Failed: 0, Skipped: 0, Missed: 0 });
        const created = members.map((vm) => pointsOf(vm).find((p) => p.name === pointName)?.timeCreatedMs ?? NaN);
        const skew = Math.round((Math.max(...created) - Math.min(...created)) / 1000);
        expect(Number.isFinite(skew)).toBe(true);
        expect(run?.skewSeconds, `${set} ${slot}`).toBe(skew);
        expect(run?.message).toContain(`member skew ${skew} s`);
      }
    }
  });

  it('records on each policyRun the counts by status of its outcomes', () => {
    for (const run of policyRuns) {
      const rows = outcomes.filter((o) => o.runId === run.runId && o.operation !== 'delete');
      const counts = { Succeeded: 0, Failed: 0, Skipped: 0, Missed: 0 };
      for (const o of rows) counts[o.status] += 1;
      expect(run.counts, run.runId).toEqual(counts);
      expect(run.total, run.runId).toBe(rows.length);
      const silver = run.policy === 'silver';
      expect(run.counts, run.runId).toEqual({
        Succeeded: silver ? SILVER_CREATED.length : GOLD_CREATED.length,
        Failed: 0,
        Skipped: Object.keys(silver ? SILVER_REFUSED : GOLD_REFUSED).length,
        Missed: 0,
      });
    }
  });

  it('reports every VM created all day Protected at the end, with its newest point', async () => {
    const response = await stack.host.invokeHttp('GET', '/api/compliance');
    expect(response.status, response.body).toBe(200);
    const body = response.json<{
      value: { vmName: string; state: string; policy: string | null; newestGoodPoint?: { restorePointId: string } }[];
    }>();
    const byName = new Map(body.value.map((e) => [e.vmName, e]));
    const last = { silver: HOURLY_SLOTS.at(-1) as string, gold: GOLD_SLOTS.at(-1) as string };
    for (const [policy, vms] of [
      ['silver', SILVER_CREATED],
      ['gold', GOLD_CREATED],
    ] as const) {
      for (const vm of vms) {
        const entry = byName.get(vm);
        expect(entry?.state, vm).toBe('Protected');
        expect(entry?.policy).toBe(policy);
        expect(entry?.newestGoodPoint?.restorePointId).toMatch(
          new RegExp(`/restorePoints/${policyRestorePointName(policy, last[policy])}$`),
        );
      }
    }
    expect(byName.get('vm-dev-02')?.state).toBe('Unprotected');
  });
});
