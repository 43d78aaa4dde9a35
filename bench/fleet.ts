/**
 * `npm run bench -- fleet`: one crash-consistent cycle of one policy over 1,000 and 5,000 emulated VMs in one
 * subscription, through the whole local stack in this process (local/stack.ts: Azurite in memory, the Compute
 * emulator with ARM's token buckets on, the local host running the built app from dist/), on one manual clock.
 * Targets (issue): virtual time ≤ 1.1 × floor + 60 s, 0 planned 429s, 0 duplicates, peak RSS ≤ 400 MB at 5,000
 * VMs, wall time growing no faster than linearly from 1,000 to 5,000.
 *
 * - Seeding: a generated fleet (local/compute/generatedFleet.ts) applied through the emulator's ARM API with
 *   high concurrency while the clock runs ahead in wide steps (the emulator's buckets throttle the seeding
 *   too); then the clock moves to the next full hour, long past the time the buckets need to fill again.
 * - The cycle: the policy is PUT at the slot, scheduleTick runs, and the clock moves in 1 s steps, each only
 *   once the stack is idle (no activity or orchestrator episode running, no HTTP request in flight): virtual
 *   time is what the plan costs in Azure's time, wall time what the stack costs in real time.
 * - The floor: max over ARM's buckets of floorSeconds(bucket, requests of that kind the cycle issued) (counted
 *   from the emulator's request log, drained every step), and over Compute's subscription-wide policies of
 *   (ceil(requests it counted / limit) − 1) × window. The arm run reports those policies with limits no cycle
 *   comes near, so ARM's write bucket binds; the compute run enforces them at the emulator's defaults (150 PUTs
 *   of points and 150 of collections, 600 GETs a minute), the tighter of the two. (RPO paces by the counts Azure
 *   reports and cannot tell a reported policy from an enforced one: reported at their defaults, they bind as
 *   much as enforced.)
 * - Memory: process.memoryUsage().rss sampled in this process, which holds the host and this driver only: the
 *   emulator runs in a child process on a clock moved over IPC (bench/fleet/remoteEmulator.ts), Azurite in
 *   another; both are reported apart. `npm run bench:fleet` caps this process's heap at 256 MB
 *   (`--max-old-space-size`, what `languageWorkers__node__arguments` sets on a Function App): uncapped, V8 grows
 *   its heap lazily to what the machine offers (740 MB RSS at 1,000 VMs for a live heap under 100 MB), and RSS
 *   would measure the machine rather than the host.
 */
import { cpus } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { computeOperationOf, isSubscriptionPolicy, operationKind } from '../lib/azure/observations';
import { ARM_BUCKETS, floorSeconds, type ArmOperationKind } from '../lib/pacing/armBuckets';
import { policyRunInstanceId } from '../lib/naming';
import { GENERATED_FLEET_DEFAULTS } from '../local/compute/generatedFleet';
import {
  COMPUTE_POLICY_NAMES,
  DEFAULT_COMPUTE_POLICIES,
  type ComputePolicies,
  type ComputePolicyName,
} from '../local/compute/computePolicies';
import type { SimulationOverrides } from '../local/compute/server';
import { ManualClock } from '../local/clock';
import { startHostStack, type HostStack } from '../local/stack';
import { RemoteEmulator } from './fleet/remoteEmulator';
import type { SubscriptionPacing } from '../lib/azure/pacer';
import { COMPUTE_POLICIES_BY_OPERATION, owedOf, type ComputeOperation } from '../lib/pacing/computePolicies';
import { STATE_PARTITIONS } from '../lib/tables/stateStore';
import { StackActivity } from './fleet/idle';
import type { CycleResult, Mode } from './fleet/model';
import { report, summarize } from './fleet/report';
import { azuriteHighWaterMb, seed } from './fleet/seed';

const SIZES = (process.env.RPO_BENCH_FLEET_SIZES ?? '1000,5000').split(',').map(Number);
const MODES = (process.env.RPO_BENCH_FLEET_MODES ?? 'arm,compute').split(',') as Mode[];
const SUBSCRIPTION = GENERATED_FLEET_DEFAULTS.subscriptionId;
const POLICY = 'fleet';
const START = '2026-03-02T07:00:00Z';
/** Clock step of the measured cycle. */
const STEP_MS = 1_000;
/** The request log is drained every step: this many entries between two drains is plenty. */
const REQUEST_LOG_LIMIT = 20_000;
/** Give up on a cycle after this much clock time. */
const CYCLE_LIMIT_MS = 3 * 3_600_000;
/** Advance anyway when the stack has not gone idle within this much real time (counted, reported). */
const IDLE_PATIENCE_MS = 30_000;

/** RPO_BENCH_TRACE=1: with each progress line, what the subscription's pacing row holds (to see what paces). */
const TRACE = process.env.RPO_BENCH_TRACE === '1';
/** With the trace, a progress line every this many clock steps (RPO_BENCH_TRACE_EVERY, default 30). */
const TRACE_EVERY = Math.max(1, Number(process.env.RPO_BENCH_TRACE_EVERY ?? 30) || 30);

async function tracePacing(stack: HostStack): Promise<void> {
  const row = await stack.stores.state.read<SubscriptionPacing>(STATE_PARTITIONS.subscription, SUBSCRIPTION);
  const now = stack.clock.now();
  for (const [policy, p] of Object.entries(row?.compute ?? {})) {
    const at = (ms: number | undefined) => (ms === undefined ? '-' : `${((ms - now) / 1000).toFixed(0)}s`);
    console.log(
      `    ${policy}: limit ${p.limit} remaining ${p.remaining} spent ${p.spent} owed ${owedOf(p, now)} seen ${at(p.observedAtMs)} ` +
        `window ${p.windowMs ?? '-'}${p.windowExact === true ? ' exact' : ''} from ${at(p.windowStartMs)} next ${at(p.nextAllowedMs)} probe ${at(p.probeAtMs)} ` +
        `line ${at(p.lineEndMs)} queued ${p.queued ?? 0}`,
    );
  }
}

/** The process's resident size, and with RPO_BENCH_TRACE=1 what V8 holds of it (to tell live data from garbage). */
function memoryLine(): string {
  const mb = (bytes: number) => (bytes / 1048576).toFixed(0);
  const m = process.memoryUsage();
  return TRACE
    ? `RSS ${mb(m.rss)} MB (heap ${mb(m.heapUsed)} of ${mb(m.heapTotal)}, external ${mb(m.external)}, buffers ${mb(m.arrayBuffers)})`
    : `RSS ${mb(m.rss)} MB`;
}

/**
 * The arm run measures the pacing on ARM's buckets: Compute's subscription-wide policies are reported with a
 * limit no cycle comes near (they never reach their low-water mark). The compute run enforces them at the
 * emulator's defaults: 150 point PUTs, 150 collection PUTs, 600 GETs a minute.
 */
const REPORTED_ONLY_LIMIT = 1_000_000;

function computePoliciesFor(mode: Mode): ComputePolicies {
  const policies = { ...DEFAULT_COMPUTE_POLICIES };
  for (const name of COMPUTE_POLICY_NAMES) {
    if (!isSubscriptionPolicy(name)) continue;
    policies[name] =
      mode === 'compute'
        ? { ...policies[name], enforce: true }
        : { ...policies[name], limit: REPORTED_ONLY_LIMIT, enforce: false };
  }
  return policies;
}

function simulationFor(mode: Mode): SimulationOverrides {
  return { requestLogLimit: REQUEST_LOG_LIMIT, computePolicies: computePoliciesFor(mode) };
}

/**
 * The tightest of Compute's subscription-wide policies over the cycle's requests (RPO paces by the counts Azure
 * reports whether or not a policy is enforced: it cannot tell them apart). Requests are mapped to policies as the
 * emulator counts them (a GET counts before its lookup, a 404 too).
 */
function computeFloorOf(
  mode: Mode,
  requestsByOperation: ReadonlyMap<ComputeOperation, number>,
): CycleResult['computeFloor'] {
  const settings = computePoliciesFor(mode);
  let floor: CycleResult['computeFloor'] = { policy: '-', requests: 0, seconds: 0 };
  for (const [operation, policies] of Object.entries(COMPUTE_POLICIES_BY_OPERATION) as [
    ComputeOperation,
    readonly string[],
  ][]) {
    const requests = requestsByOperation.get(operation) ?? 0;
    for (const policy of policies) {
      const setting = settings[policy as ComputePolicyName];
      const seconds = (Math.max(1, Math.ceil(requests / setting.limit)) - 1) * (setting.windowMs / 1000);
      if (seconds > floor.seconds) floor = { policy, requests, seconds };
    }
  }
  return floor;
}

async function runCycle(vms: number, mode: Mode): Promise<CycleResult> {
  const emulator = await RemoteEmulator.start(Date.parse(START), simulationFor(mode));
  const clock = new ManualClock(START);
  const stack = await startHostStack(clock, emulator).catch(async (error: unknown) => {
    await emulator.stop();
    throw error;
  });
  // The emulator's clock moves first: what the host sends within a step meets the emulator at its end.
  const moveTo = async (ms: number): Promise<void> => {
    await emulator.set(ms);
    await clock.set(ms);
  };
  const advance = (ms: number): Promise<void> => moveTo(clock.now() + ms);
  const drainLog = async () => (await emulator.call({ op: 'drain' })).entries;
  const activity = new StackActivity();
  let sampler: NodeJS.Timeout | undefined;
  try {
    activity.watch(stack);
    const seeded = await seed(emulator, vms, advance, () => clock.now());
    const seedRequests = (await drainLog()).length;

    // The slot: the next full hour at least a minute after seeding (every bucket long full again).
    const slotMs = Math.ceil((clock.now() + 60_000) / 3_600_000) * 3_600_000;
    await moveTo(slotMs);
    await activity.idle(IDLE_PATIENCE_MS);
    await drainLog();
    const slotIso = new Date(slotMs).toISOString();
    const policy = {
      name: POLICY,
      enabled: true,
      scope: { subscriptionIds: [SUBSCRIPTION] },
      selector: { tags: { ...GENERATED_FLEET_DEFAULTS.tags } },
      consistencyMode: 'CrashConsistent',
      fallbackToCrashConsistent: false,
      schedule: { everyHours: 1 },
      retention: { count: 24 },
    };
    const put = await stack.host.invokeHttp('PUT', `/api/policies/${POLICY}`, policy);
    if (put.status >= 300) throw new Error(`PUT policy: ${put.status} ${put.body}`);

    let peakRss = process.memoryUsage.rss();
    sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 100);
    const runId = policyRunInstanceId(POLICY, slotIso);
    const counts: Record<ArmOperationKind, number> = { read: 0, write: 0, delete: 0 };
    const throttledByKind: Record<string, number> = {};
    const requestsByKind: Record<string, number> = {};
    const requestsByOperation = new Map<ComputeOperation, number>();
    let throttled = 0;
    const throttledAt = new Map<number, number>();
    let lastPutMs = slotMs;
    const drain = async (): Promise<void> => {
      const entries = await drainLog();
      if (entries.length >= REQUEST_LOG_LIMIT) console.warn(`fleet: the request log filled up (${entries.length})`);
      for (const entry of entries) {
        const kind = operationKind(entry.method);
        counts[kind]++;
        const what = `${entry.method} ${entry.path.replace(/^.*\/providers\/Microsoft\.Compute\//, '').replace(/\/[^/]+(?=\/|$)/g, '/…')}`;
        const key = `${what} ${entry.status}`;
        requestsByKind[key] = (requestsByKind[key] ?? 0) + 1;
        if (entry.status === 429) {
          throttled++;
          throttledByKind[what] = (throttledByKind[what] ?? 0) + 1;
          const at = Math.floor((Date.parse(entry.time) - slotMs) / 10_000) * 10;
          throttledAt.set(at, (throttledAt.get(at) ?? 0) + 1);
        }
        const operation = computeOperationOf(entry.method, entry.path);
        if (operation !== undefined) requestsByOperation.set(operation, (requestsByOperation.get(operation) ?? 0) + 1);
        if (operation === 'createRestorePoint') lastPutMs = Math.max(lastPutMs, Date.parse(entry.time));
      }
    };

    const wallStarted = performance.now();
    await stack.host.triggerTimer('scheduleTick');
    // Later ticks must not start the next hour's slot if this one runs long: the run has its policy already.
    const disable = await stack.host.invokeHttp('PUT', `/api/policies/${POLICY}`, { ...policy, enabled: false });
    if (disable.status >= 300) throw new Error(`PUT policy (disable): ${disable.status} ${disable.body}`);
    let finishedAtMs: number | undefined;
    let runOutput: unknown;
    let failure: Error | undefined;
    void stack.host.durable.waitForInstance(runId, { timeoutMs: 4 * 3_600_000 }).then(
      (status) => {
        finishedAtMs = clock.now();
        runOutput = status;
      },
      (error: unknown) => (failure = error instanceof Error ? error : new Error(String(error))),
    );
    let steps = 0;
    let forcedSteps = 0;
    for (;;) {
      if (!(await activity.idle(IDLE_PATIENCE_MS))) forcedSteps++;
      await drain();
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
      if (finishedAtMs !== undefined || failure !== undefined) break;
      if (clock.now() - slotMs > CYCLE_LIMIT_MS) {
        console.log(`  ${runId} did not finish within ${CYCLE_LIMIT_MS / 3_600_000} h of clock time: stopped there`);
        break;
      }
      await advance(STEP_MS);
      steps++;
      if (steps % (TRACE ? TRACE_EVERY : 300) === 0) {
        const done = (await emulator.call({ op: 'points', sinceMs: slotMs })).created;
        console.log(
          `  … ${vms} VMs (${mode}): ${(clock.now() - slotMs) / 1000} s virtual, ${((performance.now() - wallStarted) / 1000).toFixed(0)} s wall, ` +
            `${done} restore points, ${throttled} 429s, ${forcedSteps} forced steps, ${memoryLine()}`,
        );
        if (TRACE) await tracePacing(stack);
      }
    }
    const wallSeconds = (performance.now() - wallStarted) / 1000;
    if (failure !== undefined) throw failure;
    clearInterval(sampler);
    sampler = undefined;

    // Restore points per VM created for the slot.
    const points = await emulator.call({ op: 'points', sinceMs: slotMs });
    const emulatorMemory = await emulator.call({ op: 'memory' });

    const kinds = ['read', 'write', 'delete'] as const;
    const armFloor = kinds
      .map((kind) => ({ kind, seconds: floorSeconds(ARM_BUCKETS[kind], counts[kind]) }))
      .reduce((a, b) => (b.seconds > a.seconds ? b : a));
    const computeFloor = computeFloorOf(mode, requestsByOperation);
    return {
      mode,
      vms,
      ...seeded,
      seedRequests,
      virtualSeconds: ((finishedAtMs ?? clock.now()) - slotMs) / 1000,
      wallSeconds,
      counts,
      restorePointPuts: requestsByOperation.get('createRestorePoint') ?? 0,
      lastPutSeconds: (lastPutMs - slotMs) / 1000,
      armFloor,
      computeFloor,
      floorSeconds: Math.max(armFloor.seconds, computeFloor.seconds),
      throttled,
      throttledByKind,
      requestsByKind,
      duplicates: points.duplicates,
      missing: vms - points.vms,
      succeeded: points.succeeded,
      runOutput: (runOutput as { output?: unknown } | undefined)?.output,
      peakRssMb: peakRss / 1048576,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
      emulatorMaxRssMb: emulatorMemory.maxRssMb,
      ...(azuriteHighWaterMb() !== undefined ? { azuriteHwmMb: azuriteHighWaterMb() } : {}),
      forcedSteps,
      steps,
      finished: finishedAtMs !== undefined,
      throttledAt: [...throttledAt.entries()].sort((a, b) => a[0] - b[0]),
      activities: new Map(activity.byName),
    };
  } finally {
    if (sampler) clearInterval(sampler);
    activity.close();
    await stack.stop();
  }
}

export async function main(): Promise<void> {
  const heapLimitMb = getHeapStatistics().heap_size_limit / 1048576;
  if (heapLimitMb > 400)
    console.warn(
      `fleet: this process's heap may grow to ${heapLimitMb.toFixed(0)} MB: run \`npm run bench:fleet\` to cap it as the figures assume`,
    );
  console.log(
    `one crash-consistent cycle, one subscription, manual clock (${cpus().length} cores); sizes ${SIZES.join(', ')}; runs ${MODES.join(', ')}`,
  );
  const runs: CycleResult[] = [];
  for (const mode of MODES) {
    for (const vms of SIZES) {
      const run = await runCycle(vms, mode);
      report(run);
      runs.push(run);
    }
  }
  summarize(runs, SIZES, MODES);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
