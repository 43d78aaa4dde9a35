import { readFileSync, readdirSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { applyFleet } from '../../local/compute/fleet';
import { generateFleet } from '../../local/compute/generatedFleet';
import { SEED_CONCURRENCY, type CycleResult } from './model';

/** How much clock time seeding moves per turn of its driver. */
const SEED_STEP_MS = 1_000;

export /** Peak resident size of Azurite (a child of this process), if /proc says. */
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

/** Applies a generated fleet of `vms` through the emulator's ARM API while the clock runs ahead. */
export async function seed(
  emulator: { url: string; caPem: string },
  vms: number,
  advance: (ms: number) => Promise<void>,
  now: () => number,
): Promise<Pick<CycleResult, 'seedWallSeconds' | 'seedVirtualSeconds'>> {
  const fleet = generateFleet({ vms });
  const fromMs = now();
  const started = performance.now();
  let seeding = true;
  // The clock runs ahead while the fleet loader works: LROs complete, the emulator's buckets refill.
  const driver = (async () => {
    while (seeding) {
      await advance(SEED_STEP_MS);
      await delay(2);
    }
  })();
  try {
    await applyFleet(emulator.url, emulator.caPem, fleet, {
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
    seedVirtualSeconds: (now() - fromMs) / 1000,
  };
}
