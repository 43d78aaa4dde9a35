import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ManualClock } from './clock';
import { startAzurite, type RunningAzurite } from './azurite';
import { applyFleet, loadFleetFile } from './compute/fleet';
import { startComputeEmulator, type RunningComputeEmulator, type SimulationOverrides } from './compute/server';
import { startHost, type FunctionsHost } from './host';
import { loadConfig } from '../lib/config';
import { storesFor } from '../lib/azure/stores';
import type { RpoStores } from '../lib/tables/stores';
import type { Policy } from '../lib/policy';

/**
 * The whole local stack in one test process, on one manual clock: its own Azurite (in memory), the Compute
 * emulator with a fleet applied through ARM, and the local host running this repository's built app (dist/)
 * with its Durable state in that Azurite. What the end-to-end tests and bench/fleet.ts drive.
 */
export const REPO = path.resolve(__dirname, '..');
export const DEMO_FLEET = path.join(REPO, 'local', 'fleets', 'demo.json');
export const DEMO_POLICIES = path.join(REPO, 'local', 'policies', '*.json');

/** The host side of the stack: Azurite, the local host and its stores, on one manual clock. */
export interface HostStack {
  readonly clock: ManualClock;
  readonly azurite: RunningAzurite;
  readonly host: FunctionsHost;
  readonly stores: RpoStores<Policy>;
  readonly env: Record<string, string>;
  /** Moves the clock in steps, letting real I/O settle between them, until `done()` or `limit` of clock time. */
  runUntil(
    done: () => Promise<boolean>,
    options?: { step?: number; limitMs?: number; settleMs?: number },
  ): Promise<boolean>;
  /** Starts a second host on the same storage (after the first was stopped): a restart. */
  restartHost(): Promise<FunctionsHost>;
  stop(): Promise<void>;
}

export interface Stack extends HostStack {
  readonly emulator: RunningComputeEmulator;
}

/** Where the host finds ARM: the emulator's URL and the file of the CA that signed its certificate. */
export interface ArmEndpoint {
  readonly url: string;
  readonly caFile: string;
  /** Stops it with the stack (after the host). */
  stop(): Promise<void>;
}

export interface StackOptions {
  readonly start?: string;
  readonly fleetFile?: string;
  readonly simulation?: SimulationOverrides;
  /** RPO_POLICY_FILES; none by default (tests PUT their policies). */
  readonly policyFiles?: string;
  readonly azurite?: RunningAzurite;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const clock = new ManualClock(options.start ?? '2026-03-02T08:00:00Z');
  const certDir = await mkdtemp(path.join(tmpdir(), 'rpo-stack-certs-'));
  const emulator = await startComputeEmulator({ clock, certDir, quiet: true, simulation: options.simulation ?? {} });
  if (options.fleetFile !== undefined) {
    let advancing: Promise<void> = Promise.resolve();
    const betweenPolls = (): Promise<void> => (advancing = advancing.then(() => clock.advance('5s')));
    await applyFleet(emulator.url, emulator.caPem, await loadFleetFile(options.fleetFile), {
      betweenPolls,
      concurrency: 16,
    });
  }
  const arm: ArmEndpoint = { url: emulator.url, caFile: path.join(certDir, 'ca.pem'), stop: () => emulator.stop() };
  // Object.assign keeps the host stack's `host` getter (a restart replaces the host).
  return Object.assign(await startHostStack(clock, arm, options), { emulator });
}

/** Azurite and the local host on `clock`, talking to ARM at `arm` (an emulator in this process or another). */
export async function startHostStack(
  clock: ManualClock,
  arm: ArmEndpoint,
  options: Pick<StackOptions, 'policyFiles' | 'azurite'> = {},
): Promise<HostStack> {
  const azurite = options.azurite ?? (await startAzurite({ inMemory: true }));
  const env: Record<string, string> = {
    AzureWebJobsStorage: azurite.connectionString,
    RPO_ARM_ENDPOINT: arm.url,
    RPO_ARM_CA_FILE: arm.caFile,
    RPO_TASK_HUB: `rpotest${Date.now().toString(36)}`,
    RPO_POLICY_FILES: options.policyFiles ?? '',
    RPO_CLOCK_SCALE: '1',
  };
  const launch = () =>
    startHost({
      appDir: REPO,
      port: 0,
      clock,
      quiet: true,
      store: 'azurite',
      connectionString: azurite.connectionString,
      env,
    });
  let host = await launch();
  const stores = await storesFor<Policy>(loadConfig(env));
  const stack: HostStack = {
    clock,
    azurite,
    get host() {
      return host;
    },
    stores,
    env,
    async runUntil(done, { step = 10_000, limitMs = 6 * 3_600_000, settleMs = 15 } = {}) {
      const until = clock.now() + limitMs;
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, settleMs));
        if (await done()) return true;
        if (clock.now() >= until) return false;
        await clock.advance(step);
      }
    },
    async restartHost() {
      host = await launch();
      return host;
    },
    async stop() {
      await host.stop().catch(() => undefined);
      await arm.stop();
      if (options.azurite === undefined) await azurite.stop();
    },
  };
  return stack;
}
