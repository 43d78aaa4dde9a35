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
 *   from the emulator's request log, drained every step), and with Compute's subscription policy enforced the
 *   tighter of that and (ceil(count / limit) − 1) × window.
 * - Memory: process.memoryUsage().rss sampled; host, emulator and this driver share the process (Azurite is a
 *   child process of its own and reported apart).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { readFileSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { ARM_BUCKETS, floorSeconds, type ArmOperationKind } from '../lib/pacing/armBuckets';
import { policyRunInstanceId } from '../lib/naming';
import { applyFleet } from '../local/compute/fleet';
import { GENERATED_FLEET_DEFAULTS, generateFleet } from '../local/compute/generatedFleet';
import type { ComputePolicyOverrides, SimulationOverrides } from '../local/compute/server';
import { startStack, type Stack } from '../local/stack';

const SIZES = (process.env.RPO_BENCH_FLEET_SIZES ?? '1000,5000').split(',').map(Number);
const MODES = (process.env.RPO_BENCH_FLEET_MODES ?? 'arm,compute').split(',') as Mode[];
const SUBSCRIPTION = GENERATED_FLEET_DEFAULTS.subscriptionId;
const POLICY = 'fleet';
const START = '2026-03-02T07:00:00Z';
/** Clock step of the measured cycle, and how much clock time seeding moves per turn of its driver. */
const STEP_MS = 1_000;
const SEED_STEP_MS = 1_000;
const SEED_CONCURRENCY = 256;
/** The request log is drained every step: this many entries between two drains is plenty. */
const REQUEST_LOG_LIMIT = 20_000;
/** Give up on a cycle after this much clock time. */
const CYCLE_LIMIT_MS = 3 * 3_600_000;
/** Advance anyway when the stack has not gone idle within this much real time (counted, reported). */
const IDLE_PATIENCE_MS = 30_000;
const TARGET_RSS_MB = 400;

type Mode = 'arm' | 'compute';

/** The Compute subscription policy the second run enforces. */
const ENFORCED = { policy: 'PutRestorePointSubscriptionMaximum', limit: 300, windowMs: 60_000 } as const;

interface CycleResult {
  mode: Mode;
  vms: number;
  seedWallSeconds: number;
  seedVirtualSeconds: number;
  seedRequests: number;
  virtualSeconds: number;
  wallSeconds: number;
  counts: Record<ArmOperationKind, number>;
  restorePointPuts: number;
  armFloor: { kind: ArmOperationKind; seconds: number };
  computeFloorSeconds?: number;
  floorSeconds: number;
  throttled: number;
  throttledByKind: Record<string, number>;
  duplicates: number;
  missing: number;
  succeeded: number;
  runOutput: unknown;
  peakRssMb: number;
  maxRssMb: number;
  azuriteHwmMb?: number;
  forcedSteps: number;
  steps: number;
  finished: boolean;
  /** 429s by 10 s of clock time from the slot. */
  throttledAt: [number, number][];
  activities: Map<string, { count: number; ms: number }>;
}

// ---------------------------------------------------------------------------------------------------------------
// Idle detection: the stack is idle when nothing of it runs and no HTTP request is open.

class Activity {
  busy = 0;
  progress = 0;
  readonly byName = new Map<string, { count: number; ms: number }>();
  private readonly channels: [string, (message: unknown) => void][];

  constructor() {
    const open = (): void => {
      this.busy++;
      this.progress++;
    };
    const close = (): void => {
      this.busy = Math.max(0, this.busy - 1);
      this.progress++;
    };
    this.channels = [
      ['http.client.request.start', open],
      ['http.client.response.finish', close],
      ['http.client.request.error', close],
      ['http.server.request.start', open],
      ['http.server.response.finish', close],
    ];
    for (const [name, listener] of this.channels) subscribe(name, listener);
  }

  /** Counts the host's activity and orchestrator invocations (the engine calls the app through this object). */
  watch(stack: Stack): void {
    const invoker = stack.host.app.invoker;
    const activity = invoker.invokeActivity.bind(invoker);
    const orchestrator = invoker.invokeOrchestrator.bind(invoker);
    const timed = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
      this.busy++;
      this.progress++;
      const started = performance.now();
      try {
        return await run();
      } finally {
        this.busy--;
        this.progress++;
        const entry = this.byName.get(name) ?? { count: 0, ms: 0 };
        entry.count++;
        entry.ms += performance.now() - started;
        this.byName.set(name, entry);
      }
    };
    invoker.invokeActivity = (name, input) => timed(name, () => activity(name, input));
    invoker.invokeOrchestrator = (name, trigger) => timed(`(orchestrator) ${name}`, () => orchestrator(name, trigger));
  }

  /** Resolves when nothing ran for two checks in a row; false if that took longer than `patienceMs`. */
  async idle(patienceMs: number): Promise<boolean> {
    const until = performance.now() + patienceMs;
    let quiet = 0;
    let seen = this.progress;
    while (performance.now() < until) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      await delay(1);
      if (this.busy === 0 && this.progress === seen) {
        if (++quiet >= 2) return true;
      } else {
        quiet = 0;
        seen = this.progress;
      }
    }
    return false;
  }

  close(): void {
    for (const [name, listener] of this.channels) unsubscribe(name, listener);
  }
}

// ---------------------------------------------------------------------------------------------------------------

function simulationFor(mode: Mode): SimulationOverrides {
  const computePolicies: ComputePolicyOverrides =
    mode === 'compute'
      ? { [ENFORCED.policy]: { limit: ENFORCED.limit, windowMs: ENFORCED.windowMs, enforce: true } }
      : {};
  return { requestLogLimit: REQUEST_LOG_LIMIT, computePolicies };
}

function kindOf(method: string): ArmOperationKind {
  if (method === 'GET' || method === 'HEAD') return 'read';
  return method === 'DELETE' ? 'delete' : 'write';
}

/** PUT …/restorePointCollections/{c}/restorePoints/{p}: what PutRestorePointSubscriptionMaximum counts. */
const RESTORE_POINT_PUT = /\/restorePointCollections\/[^/]+\/restorePoints\/[^/]+$/i;

/** Peak resident size of Azurite (a child of this process), if /proc says. */
function azuriteHighWaterMb(): number | undefined {
  try {
    let best: number | undefined;
    for (const task of readdirSync('/proc/self/task')) {
      const children = readFileSync(`/proc/self/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
      for (const pid of children) {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        if (!cmdline.includes('azurite')) continue;
        const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]);
        if (Number.isFinite(kb)) best = Math.max(best ?? 0, kb / 1024);
      }
    }
    return best;
  } catch {
    return undefined;
  }
}

async function seed(stack: Stack, vms: number): Promise<Pick<CycleResult, 'seedWallSeconds' | 'seedVirtualSeconds'>> {
  const fleet = generateFleet({ vms });
  const fromMs = stack.clock.now();
  const started = performance.now();
  let seeding = true;
  // The clock runs ahead while the fleet loader works: LROs complete, the emulator's buckets refill.
  const driver = (async () => {
    while (seeding) {
      await stack.clock.advance(SEED_STEP_MS);
      await delay(2);
    }
  })();
  try {
    await applyFleet(stack.emulator.url, stack.emulator.caPem, fleet, {
      concurrency: SEED_CONCURRENCY,
      betweenPolls: () => delay(5),
      timeoutMs: 900_000,
    });
  } finally {
    seeding = false;
    await driver;
  }
  return {
    seedWallSeconds: (performance.now() - started) / 1000,
    seedVirtualSeconds: (stack.clock.now() - fromMs) / 1000,
  };
}

async function runCycle(vms: number, mode: Mode): Promise<CycleResult> {
  const stack = await startStack({ start: START, simulation: simulationFor(mode) });
  const activity = new Activity();
  let sampler: NodeJS.Timeout | undefined;
  try {
    activity.watch(stack);
    const core = stack.emulator.core;
    const seeded = await seed(stack, vms);
    const seedRequests = core.requests().length;

    // The slot: the next full hour at least a minute after seeding (every bucket long full again).
    const slotMs = Math.ceil((stack.clock.now() + 60_000) / 3_600_000) * 3_600_000;
    await stack.clock.set(slotMs);
    await activity.idle(IDLE_PATIENCE_MS);
    core.clearRequests();
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
    let throttled = 0;
    const throttledAt = new Map<number, number>();
    let restorePointPuts = 0;
    const drain = (): void => {
      const entries = core.requests();
      core.clearRequests();
      if (entries.length >= REQUEST_LOG_LIMIT) console.warn(`fleet: the request log filled up (${entries.length})`);
      for (const entry of entries) {
        const kind = kindOf(entry.method);
        counts[kind]++;
        if (entry.status === 429) {
          throttled++;
          const what = `${entry.method} ${entry.path.replace(/^.*\/providers\/Microsoft\.Compute\//, '').replace(/\/[^/]+(?=\/|$)/g, '/…')}`;
          throttledByKind[what] = (throttledByKind[what] ?? 0) + 1;
          const at = Math.floor((Date.parse(entry.time) - slotMs) / 10_000) * 10;
          throttledAt.set(at, (throttledAt.get(at) ?? 0) + 1);
        }
        if (entry.method === 'PUT' && RESTORE_POINT_PUT.test(entry.path)) restorePointPuts++;
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
        finishedAtMs = stack.clock.now();
        runOutput = status;
      },
      (error: unknown) => (failure = error instanceof Error ? error : new Error(String(error))),
    );
    let steps = 0;
    let forcedSteps = 0;
    for (;;) {
      if (!(await activity.idle(IDLE_PATIENCE_MS))) forcedSteps++;
      drain();
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
      if (finishedAtMs !== undefined || failure !== undefined) break;
      if (stack.clock.now() - slotMs > CYCLE_LIMIT_MS) {
        console.log(`  ${runId} did not finish within ${CYCLE_LIMIT_MS / 3_600_000} h of clock time: stopped there`);
        break;
      }
      await stack.clock.advance(STEP_MS);
      steps++;
      if (steps % 300 === 0) {
        const done = [...core.store.restorePoints.values()].filter((p) => p.createdMs >= slotMs).length;
        console.log(
          `  … ${vms} VMs (${mode}): ${(stack.clock.now() - slotMs) / 1000} s virtual, ${((performance.now() - wallStarted) / 1000).toFixed(0)} s wall, ` +
            `${done} restore points, ${throttled} 429s, ${forcedSteps} forced steps, RSS ${(process.memoryUsage.rss() / 1048576).toFixed(0)} MB`,
        );
      }
    }
    const wallSeconds = (performance.now() - wallStarted) / 1000;
    if (failure !== undefined) throw failure;
    clearInterval(sampler);
    sampler = undefined;

    // Restore points per VM created for the slot.
    const perVm = new Map<string, number>();
    for (const point of core.store.restorePoints.values()) {
      if (point.createdMs < slotMs || point.isCopy) continue;
      perVm.set(point.vmKey, (perVm.get(point.vmKey) ?? 0) + 1);
    }
    const duplicates = [...perVm.values()].filter((n) => n > 1).length;
    const succeeded = [...core.store.restorePoints.values()].filter(
      (p) => p.createdMs >= slotMs && p.provisioningState === 'Succeeded',
    ).length;

    const kinds = ['read', 'write', 'delete'] as const;
    const armFloor = kinds
      .map((kind) => ({ kind, seconds: floorSeconds(ARM_BUCKETS[kind], counts[kind]) }))
      .reduce((a, b) => (b.seconds > a.seconds ? b : a));
    const computeFloorSeconds =
      mode === 'compute'
        ? (Math.max(1, Math.ceil(restorePointPuts / ENFORCED.limit)) - 1) * (ENFORCED.windowMs / 1000)
        : undefined;
    return {
      mode,
      vms,
      ...seeded,
      seedRequests,
      virtualSeconds: ((finishedAtMs ?? stack.clock.now()) - slotMs) / 1000,
      wallSeconds,
      counts,
      restorePointPuts,
      armFloor,
      ...(computeFloorSeconds !== undefined ? { computeFloorSeconds } : {}),
      floorSeconds: Math.max(armFloor.seconds, computeFloorSeconds ?? 0),
      throttled,
      throttledByKind,
      duplicates,
      missing: vms - perVm.size,
      succeeded,
      runOutput: (runOutput as { output?: unknown } | undefined)?.output,
      peakRssMb: peakRss / 1048576,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
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

function report(run: CycleResult): void {
  const target = 1.1 * run.floorSeconds + 60;
  const floorText =
    run.computeFloorSeconds === undefined
      ? `ARM ${run.armFloor.kind}s ${run.armFloor.seconds.toFixed(0)} s`
      : `max(ARM ${run.armFloor.kind}s ${run.armFloor.seconds.toFixed(0)} s, Compute ${ENFORCED.policy} ${run.computeFloorSeconds.toFixed(0)} s)`;
  const output = run.runOutput as { counts?: Record<string, number>; throttled?: number } | undefined;
  console.log(
    `\n${run.vms.toLocaleString('en')} VMs, ${run.mode === 'arm' ? 'ARM token buckets' : `ARM buckets + ${ENFORCED.policy} ${ENFORCED.limit}/${ENFORCED.windowMs / 1000} s enforced`}`,
  );
  console.log(
    `  seeding: ${run.seedWallSeconds.toFixed(1)} s wall, ${run.seedVirtualSeconds.toFixed(0)} s virtual, through ARM with ${SEED_CONCURRENCY} in flight`,
  );
  console.log(
    `  requests in the cycle: ${run.counts.read} reads, ${run.counts.write} writes (${run.restorePointPuts} restore point PUTs), ${run.counts.delete} deletes`,
  );
  console.log(
    `  virtual time ${run.virtualSeconds.toFixed(0)} s; floor ${run.floorSeconds.toFixed(0)} s (${floorText}); ratio ${(run.virtualSeconds / Math.max(1, run.floorSeconds)).toFixed(2)}; ` +
      `target ≤ 1.1 × floor + 60 s = ${target.toFixed(0)} s: ${run.virtualSeconds <= target ? 'met' : 'MISSED'}`,
  );
  console.log(
    `  429s: ${run.throttled}${
      run.throttled > 0
        ? ` (${Object.entries(run.throttledByKind)
            .map(([k, n]) => `${k} ×${n}`)
            .join(', ')})`
        : ''
    }; ` +
      `duplicates: ${run.duplicates}; VMs without a point: ${run.missing}; points Succeeded: ${run.succeeded}; ` +
      `run counts ${JSON.stringify(output?.counts ?? {})}, throttled ${output?.throttled ?? '?'}`,
  );
  console.log(
    `  wall time ${run.wallSeconds.toFixed(1)} s; peak RSS ${run.peakRssMb.toFixed(0)} MB sampled in the cycle (host, emulator and driver in this process; target ≤ ${TARGET_RSS_MB} MB at 5,000), ` +
      `process max RSS ${run.maxRssMb.toFixed(0)} MB${run.azuriteHwmMb !== undefined ? `, Azurite (child process) peak ${run.azuriteHwmMb.toFixed(0)} MB` : ''}`,
  );
  if (run.throttledAt.length > 0) {
    console.log(
      `  429s by clock time from the slot: ${run.throttledAt.map(([at, n]) => `${at}-${at + 10} s ×${n}`).join(', ')}`,
    );
  }
  console.log(
    `  clock steps ${run.steps} (${run.forcedSteps} taken before the stack was idle)${run.finished ? '' : '; NOT FINISHED'}`,
  );
  const busiest = [...run.activities.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 8);
  console.log(
    `  busiest functions (count, mean ms): ${busiest.map(([name, s]) => `${name} ${s.count} × ${(s.ms / s.count).toFixed(1)}`).join('; ')}`,
  );
}

export async function main(): Promise<void> {
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
  console.log('\nmode     VMs  virtual s  floor s  ratio  target  429s  dup  wall s  peak RSS MB');
  for (const run of runs) {
    const target = 1.1 * run.floorSeconds + 60;
    console.log(
      `${run.mode.padEnd(7)} ${String(run.vms).padStart(5)} ${run.virtualSeconds.toFixed(0).padStart(10)} ${run.floorSeconds.toFixed(0).padStart(8)} ` +
        `${(run.virtualSeconds / Math.max(1, run.floorSeconds)).toFixed(2).padStart(6)} ${(run.virtualSeconds <= target ? 'met' : 'MISSED').padStart(7)} ` +
        `${String(run.throttled).padStart(5)} ${String(run.duplicates).padStart(4)} ${run.wallSeconds.toFixed(0).padStart(7)} ${run.peakRssMb.toFixed(0).padStart(12)}`,
    );
  }
  for (const mode of MODES) {
    const small = runs.find((r) => r.mode === mode && r.vms === SIZES[0]);
    const large = runs.find((r) => r.mode === mode && r.vms === SIZES[SIZES.length - 1]);
    if (!small || !large || small === large) continue;
    const ratio = large.wallSeconds / small.wallSeconds;
    const linear = large.vms / small.vms;
    console.log(
      `${mode}: wall time(${large.vms}) / wall time(${small.vms}) = ${ratio.toFixed(2)} (linear: ${linear.toFixed(1)}): ${ratio <= linear ? 'met' : 'MISSED'}`,
    );
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
