/**
 * `npm run bench -- emulator`: throughput of the Compute emulator through the real SDK, and its memory
 * with a large fleet. Targets on a 2-core machine (issue #3): ≥ 2,000 RestorePoints_Get/s, ≤ 300 MB
 * resident with 10,000 VMs and 50,000 restore points.
 *
 * - GET and create run over HTTPS with `@azure/arm-compute`, many requests in flight, creation and
 *   throttling simulation off (the figures measure the emulator, not its simulated Azure delays).
 * - The large state is loaded through the emulator's ARM request handler in process (`core.handle`:
 *   the same routing, validation and rules as over HTTPS, without TLS), so loading takes seconds; that
 *   part runs in a child process of its own, so the resident figure is the emulator's, not the SDK's.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import { fork } from 'node:child_process';
import type { ComputeManagementClient, VirtualMachine } from '@azure/arm-compute';
import { startComputeEmulator, type RunningComputeEmulator, type SimulationSettings } from '../local/compute/server';
import { computeClientFor } from '../test/helpers/computeClient';

const FAST: Partial<SimulationSettings> = {
  restorePointCreateBaseMs: 0,
  restorePointCreateMsPerGiB: 0,
  backgroundCopyMsPerGiB: 0,
  diskCreateBaseMs: 0,
  diskCreateMsPerGiB: 0,
  vmCreateMs: 0,
  vmPowerMs: 0,
  deleteMs: 0,
  accessMs: 0,
  armThrottling: false,
  computeThrottling: false,
  minIntervalApplicationConsistentMs: 0,
  minIntervalCrashConsistentMs: 0,
};

const COMPUTE_API = '2025-04-01';
const RG = 'rg-bench';
const LOCATION = 'westeurope';

/** Runs `work` from `concurrency` workers until `seconds` have passed; returns completed calls per second. */
async function rate(seconds: number, concurrency: number, work: (worker: number) => Promise<void>): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < deadline) {
        await work(worker);
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

function vmBody(): Record<string, unknown> {
  return {
    location: LOCATION,
    properties: {
      hardwareProfile: { vmSize: 'Standard_D2s_v5' },
      storageProfile: {
        imageReference: { publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: 'server', version: 'latest' },
        osDisk: { createOption: 'FromImage', osType: 'Linux', managedDisk: { storageAccountType: 'Premium_LRS' } },
      },
      osProfile: { computerName: 'bench', adminUsername: 'azureuser' },
    },
  };
}

/** The same VM in the SDK's model (properties flattened). */
function sdkVm(): VirtualMachine {
  return {
    location: LOCATION,
    hardwareProfile: { vmSize: 'Standard_D2s_v5' },
    storageProfile: {
      imageReference: { publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: 'server', version: 'latest' },
      osDisk: { createOption: 'FromImage', osType: 'Linux', managedDisk: { storageAccountType: 'Premium_LRS' } },
    },
    osProfile: { computerName: 'bench', adminUsername: 'azureuser' },
  };
}

function rgPath(subscriptionId: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Compute`;
}

/** Lets due operation timers (zero-duration LROs) complete. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 10));
}

/** One ARM call through the in-process handler; throws on an unexpected status. */
function handle(emulator: RunningComputeEmulator, method: string, target: string, body?: unknown): void {
  const response = emulator.core.handle({
    method,
    url: target,
    body: body === undefined ? '' : JSON.stringify(body),
    baseUrl: emulator.url,
    authorization: 'Bearer bench',
  });
  if (response.status >= 300) throw new Error(`${method} ${target} → ${response.status} ${response.body ?? ''}`);
}

/** VMs with a collection each, created through ARM (SDK over HTTPS), ready for restore points. */
async function vmsWithCollections(client: ComputeManagementClient, count: number, prefix: string): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => `${prefix}-vm-${i}`);
  await Promise.all(
    names.map(async (name) => {
      const vm = await client.virtualMachines.createOrUpdate(RG, name, sdkVm(), { updateIntervalInMs: 0 });
      await client.restorePointCollections.createOrUpdate(RG, `${name}-rpc`, {
        location: LOCATION,
        source: { id: vm.id ?? '' },
      });
    }),
  );
  return names;
}

/**
 * The load generator in a worker thread: the emulator keeps the main thread, and RPO's own Compute client
 * (lib/azure, loaded through tsx) gets the second core, as when RPO calls the emulator from its own process.
 */
const WORKER_SOURCE = `
const { parentPort, workerData: w } = require('node:worker_threads');
require(w.tsx).register();
const { openArmSession } = require(w.libAzure);
const config = { armEndpoint: w.url, managedIdentityClientId: undefined, armCaFile: undefined };
const client = openArmSession(w.subscriptionId, { config, caPem: w.caPem, now: Date.now }).compute;
let sequence = 0;
const one = (slot) => w.operation === 'get'
  ? client.restorePoints.get(w.rg, w.collections[0], 'rp-get')
  : client.restorePoints.create(w.rg, w.collections[slot], 'rp-worker-' + sequence++, {}, { updateIntervalInMs: 0 });
const run = async (ms) => {
  const end = performance.now() + ms;
  let done = 0;
  await Promise.all(w.collections.map(async (_, slot) => { while (performance.now() < end) { await one(slot); done++; } }));
  return done;
};
(async () => {
  await run(w.warmupMs);
  const started = performance.now();
  const done = await run(w.seconds * 1000);
  parentPort.postMessage({ perSecond: done / ((performance.now() - started) / 1000) });
})().catch((error) => parentPort.postMessage({ error: String((error && error.stack) || error) }));
`;

interface WorkerLoad {
  operation: 'get' | 'create';
  subscriptionId: string;
  /** Collections to work on: GET reads from the first; create uses one per concurrent slot. */
  collections: string[];
  /** For GET: how many requests in flight (the first collection repeated). */
  inFlight?: number;
  seconds: number;
}

function rateInWorker(emulator: RunningComputeEmulator, load: WorkerLoad): Promise<number> {
  const collections =
    load.operation === 'get'
      ? Array.from({ length: load.inFlight ?? 64 }, () => load.collections[0])
      : load.collections;
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      tsx: require.resolve('tsx/cjs/api'),
      libAzure: path.resolve(__dirname, '../lib/azure/compute.ts'),
      url: emulator.url,
      caPem: emulator.caPem,
      rg: RG,
      subscriptionId: load.subscriptionId,
      operation: load.operation,
      collections,
      seconds: load.seconds,
      warmupMs: 1000,
    },
  });
  return new Promise((resolve, reject) => {
    worker.once('message', (message: { perSecond?: number; error?: string }) => {
      void worker.terminate();
      if (message.error !== undefined || message.perSecond === undefined) reject(new Error(message.error));
      else resolve(message.perSecond);
    });
    worker.once('error', reject);
  });
}

async function throughput(): Promise<void> {
  const certDir = await mkdtemp(path.join(tmpdir(), 'rpo-bench-certs-'));
  const emulator = await startComputeEmulator({ port: 0, certDir, quiet: true, simulation: FAST });
  try {
    const subscriptionId = randomUUID();
    const client = computeClientFor(emulator, subscriptionId);
    const [first = ''] = await vmsWithCollections(client, 1, 'get');
    await client.restorePoints.create(RG, `${first}-rpc`, 'rp-get', {}, { updateIntervalInMs: 0 });
    const get = () => client.restorePoints.get(RG, `${first}-rpc`, 'rp-get').then(() => undefined);
    await rate(1, 32, get); // warm up connections and the JIT
    const sameThread = await rate(5, 64, get);
    const inWorker = await rateInWorker(emulator, {
      operation: 'get',
      subscriptionId,
      collections: [`${first}-rpc`],
      inFlight: 64,
      seconds: 5,
    });
    console.log(
      `RestorePoints_Get through the SDK, client in a worker thread: ${Math.round(inWorker)} per second (target ≥ 2,000; 64 in flight, 5 s)`,
    );
    console.log(
      `RestorePoints_Get through the SDK, client on the emulator's thread: ${Math.round(sameThread)} per second (64 in flight, 5 s)`,
    );

    // One slot per VM: the emulator (like Azure) refuses concurrent creation on one VM.
    const slots = 32;
    const sameThreadVms = await vmsWithCollections(client, slots, 'same');
    const workerVms = await vmsWithCollections(client, slots, 'worker');
    let sequence = 0;
    const createsSameThread = await rate(5, slots, async (slot) => {
      const name = sameThreadVms[slot] ?? '';
      await client.restorePoints.create(RG, `${name}-rpc`, `rp-${sequence++}`, {}, { updateIntervalInMs: 0 });
    });
    const createsInWorker = await rateInWorker(emulator, {
      operation: 'create',
      subscriptionId,
      collections: workerVms.map((name) => `${name}-rpc`),
      seconds: 5,
    });
    console.log(
      `RestorePoints_Create through the SDK, LRO polled to Succeeded, client in a worker thread: ${Math.round(createsInWorker)} per second (${slots} VMs in parallel, 5 s)`,
    );
    console.log(
      `RestorePoints_Create through the SDK, LRO polled to Succeeded, client on the emulator's thread: ${Math.round(createsSameThread)} per second (${slots} VMs in parallel, 5 s)`,
    );
  } finally {
    await emulator.stop();
    await rm(certDir, { recursive: true, force: true });
  }
}

function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  gc?.();
}

async function memory(vmCount: number, pointsPerVm: number): Promise<void> {
  const certDir = await mkdtemp(path.join(tmpdir(), 'rpo-bench-certs-'));
  const emulator = await startComputeEmulator({ port: 0, certDir, quiet: true, simulation: FAST });
  try {
    collectGarbage();
    const baseline = process.memoryUsage().rss;
    const started = performance.now();
    // 100 subscriptions of 100 VMs: realistic spread, and list/limit indexes per subscription.
    const subscriptions = Array.from({ length: Math.ceil(vmCount / 100) }, () => randomUUID());
    const vms: { base: string; name: string }[] = [];
    for (let i = 0; i < vmCount; i++) {
      vms.push({ base: rgPath(subscriptions[i % subscriptions.length] ?? ''), name: `vm-${i}` });
    }
    for (const { base, name } of vms) {
      handle(emulator, 'PUT', `${base}/virtualMachines/${name}?api-version=${COMPUTE_API}`, vmBody());
    }
    await settle();
    for (const { base, name } of vms) {
      handle(emulator, 'PUT', `${base}/restorePointCollections/${name}-rpc?api-version=${COMPUTE_API}`, {
        location: LOCATION,
        properties: { source: { id: `${base}/virtualMachines/${name}` } },
      });
    }
    // Round by round: one creation at a time per VM.
    for (let round = 0; round < pointsPerVm; round++) {
      for (const { base, name } of vms) {
        handle(
          emulator,
          'PUT',
          `${base}/restorePointCollections/${name}-rpc/restorePoints/rp-${round}?api-version=${COMPUTE_API}`,
          {
            properties: {},
          },
        );
      }
      await settle();
    }
    const seconds = (performance.now() - started) / 1000;
    collectGarbage();
    const justLoaded = process.memoryUsage();
    // What an operator sees on a loaded, idle emulator: V8 hands back load-time garbage within seconds.
    for (let i = 0; i < 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      collectGarbage();
    }
    const settled = process.memoryUsage();
    const store = emulator.core.store;
    const mb = (bytes: number) => `${Math.round(bytes / 1048576)} MB`;
    console.log(
      `Loaded ${store.virtualMachines.size} VMs, ${store.disks.size} disks, ${store.collections.size} collections, ` +
        `${store.restorePoints.size} restore points through the ARM handler in ${seconds.toFixed(1)} s`,
    );
    console.log(
      `Resident memory with ${vmCount.toLocaleString('en')} VMs and ${(vmCount * pointsPerVm).toLocaleString('en')} restore points: ` +
        `${mb(settled.rss)} after 8 s idle, ${mb(justLoaded.rss)} right after loading (target ≤ 300 MB; heap ${mb(settled.heapUsed)}, ` +
        `process before loading ${mb(baseline)})`,
    );
  } finally {
    await emulator.stop();
    await rm(certDir, { recursive: true, force: true });
  }
}

/** Runs this file again in a fresh process for one part, so its memory figure holds only the emulator. */
function runPartInChild(part: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, [], {
      env: { ...process.env, [PART_VARIABLE]: part },
      execArgv: process.execArgv, // the TypeScript loader (tsx) the parent runs under
      stdio: 'inherit',
    });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`bench ${part} exited with ${code}`))));
  });
}

const PART_VARIABLE = 'RPO_BENCH_EMULATOR_PART';

export async function main(): Promise<void> {
  if (process.env[PART_VARIABLE] === 'memory') {
    await memory(10_000, 5);
    // A stopped emulator must let its state go (tests start many).
    collectGarbage();
    console.log(`Heap after stopping that emulator: ${Math.round(process.memoryUsage().heapUsed / 1048576)} MB`);
    return;
  }
  const [load1] = loadavg();
  console.log(
    `(machine: ${cpus().length} cores, load average ${load1?.toFixed(1)} at start: figures scale with the CPU share left)`,
  );
  await throughput();
  // In a fresh process: the resident figure then holds node, the emulator and its state, nothing else.
  await runPartInChild('memory');
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
