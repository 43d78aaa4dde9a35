import { SEED_CONCURRENCY, TARGET_RSS_MB, type CycleResult, type Mode } from './model';

/** Prints one cycle's figures. */
export function report(run: CycleResult): void {
  const target = 1.1 * run.floorSeconds + 60;
  const c = run.computeFloor;
  const floorText = `max(ARM ${run.armFloor.kind}s ${run.armFloor.seconds.toFixed(0)} s, Compute ${c.policy} ${c.requests} requests ${c.seconds.toFixed(0)} s)`;
  const output = run.runOutput as { counts?: Record<string, number>; throttled?: number } | undefined;
  console.log(
    `\n${run.vms.toLocaleString('en')} VMs, ${run.mode === 'arm' ? "ARM token buckets (Compute's subscription policies reported, far from binding)" : "ARM token buckets + Compute's subscription policies enforced at the emulator's defaults"}`,
  );
  console.log(
    `  seeding: ${run.seedWallSeconds.toFixed(1)} s wall, ${run.seedVirtualSeconds.toFixed(0)} s virtual, through ARM with ${SEED_CONCURRENCY} in flight`,
  );
  console.log(
    `  requests in the cycle: ${run.counts.read} reads, ${run.counts.write} writes (${run.restorePointPuts} restore point PUTs, the last at ${run.lastPutSeconds} s), ${run.counts.delete} deletes`,
  );
  console.log(
    `    by operation: ${Object.entries(run.requestsByKind)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ×${n}`)
      .join('; ')}`,
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
    `  wall time ${run.wallSeconds.toFixed(1)} s; peak RSS ${run.peakRssMb.toFixed(0)} MB sampled in the cycle (the host and this driver; target ≤ ${TARGET_RSS_MB} MB at 5,000), ` +
      `process max RSS ${run.maxRssMb.toFixed(0)} MB, emulator (child process) max ${run.emulatorMaxRssMb.toFixed(0)} MB${run.azuriteHwmMb !== undefined ? `, Azurite (child process) peak ${run.azuriteHwmMb.toFixed(0)} MB` : ''}`,
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

/** The table of every run, and how wall time grew from the smallest size to the largest. */
export function summarize(runs: readonly CycleResult[], sizes: readonly number[], modes: readonly Mode[]): void {
  console.log('\nmode     VMs  virtual s  floor s  ratio  target  429s  dup  wall s  peak RSS MB');
  for (const run of runs) {
    const target = 1.1 * run.floorSeconds + 60;
    console.log(
      `${run.mode.padEnd(7)} ${String(run.vms).padStart(5)} ${run.virtualSeconds.toFixed(0).padStart(10)} ${run.floorSeconds.toFixed(0).padStart(8)} ` +
        `${(run.virtualSeconds / Math.max(1, run.floorSeconds)).toFixed(2).padStart(6)} ${(run.virtualSeconds <= target ? 'met' : 'MISSED').padStart(7)} ` +
        `${String(run.throttled).padStart(5)} ${String(run.duplicates).padStart(4)} ${run.wallSeconds.toFixed(0).padStart(7)} ${run.peakRssMb.toFixed(0).padStart(12)}`,
    );
  }
  for (const mode of modes) {
    const small = runs.find((r) => r.mode === mode && r.vms === sizes[0]);
    const large = runs.find((r) => r.mode === mode && r.vms === sizes[sizes.length - 1]);
    if (!small || !large || small === large) continue;
    const ratio = large.wallSeconds / small.wallSeconds;
    const linear = large.vms / small.vms;
    console.log(
      `${mode}: wall time(${large.vms}) / wall time(${small.vms}) = ${ratio.toFixed(2)} (linear: ${linear.toFixed(1)}): ${ratio <= linear ? 'met' : 'MISSED'}`,
    );
  }
}
