/**
 * Durable engine throughput: fan-out/fan-in of 1,000 and 10,000 trivial activities through
 * sub-orchestrations of 100, on the in-memory store and on Azurite, through the real
 * durable-functions package (the fixture app's benchFanOut / benchChunk / benchNoop).
 * Prints activities per second, time(10,000)/time(1,000) and peak resident memory.
 */
import os from 'node:os';
import path from 'node:path';
import { startAzurite } from '../local/azurite';
import { ScaledClock } from '../local/clock';
import { createDurableRuntime, createMemoryStore, createTableStore, type DurableStore } from '../local/host/durable';
import { loadFunctionsApp, type LoadedFunctionsApp } from '../local/host/load/appLoader';

const FIXTURE_APP = path.resolve(__dirname, '../test/fixtures/app');
const CHUNK = 100;
const SIZES = [1_000, 10_000];
const TARGETS = { memory: 300, azurite: 100, ratio: 12 };

interface Run {
  store: 'memory' | 'azurite';
  total: number;
  seconds: number;
  perSecond: number;
  peakRssMb: number;
}

/** Expected fan-in: benchNoop returns i % 7. */
function expectedSum(total: number): number {
  let sum = 0;
  for (let i = 0; i < total; i++) sum += i % 7;
  return sum;
}

async function runOnce(app: LoadedFunctionsApp, store: DurableStore, kind: Run['store'], total: number): Promise<Run> {
  const cores = Math.max(1, os.availableParallelism());
  const runtime = createDurableRuntime({
    store,
    clock: new ScaledClock(1),
    invoker: app.invoker,
    hubName: 'BenchHub',
    baseUrl: () => 'http://127.0.0.1:7071',
    // The extension's defaults: 10 × processor count.
    maxConcurrentActivityFunctions: 10 * cores,
    maxConcurrentOrchestratorFunctions: 10 * cores,
    log: (level, message) => {
      if (level === 'error') console.error(message);
    },
  });
  await runtime.start();
  const started = performance.now();
  const response = await runtime.handleHttp({
    method: 'POST',
    url: new URL('http://127.0.0.1:7071/durabletask/orchestrators/benchFanOut'),
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ total, chunk: CHUNK }),
  });
  if (response?.status !== 202) throw new Error(`bench: start failed: ${response?.status} ${response?.body}`);
  const { id } = JSON.parse(response.body) as { id: string };
  const status = (await runtime.waitForInstance(id, { timeoutMs: 600_000 })) as {
    runtimeStatus: string;
    output: unknown;
  };
  const seconds = (performance.now() - started) / 1000;
  await runtime.stop();
  if (status.runtimeStatus !== 'Completed' || status.output !== expectedSum(total)) {
    throw new Error(`bench: ${total} on ${kind} ended ${status.runtimeStatus} with ${JSON.stringify(status.output)}`);
  }
  return {
    store: kind,
    total,
    seconds,
    perSecond: total / seconds,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

export async function main(): Promise<void> {
  const app = await loadFunctionsApp(FIXTURE_APP, {
    logger: { log: () => undefined },
    env: { FIXTURE_HUB_NAME: 'BenchHub' },
  });
  const runs: Run[] = [];
  for (const total of SIZES) runs.push(await runOnce(app, createMemoryStore(), 'memory', total));
  const azurite = await startAzurite({ inMemory: true });
  try {
    for (const total of SIZES) {
      const store = await createTableStore(azurite.connectionString, `Bench${total}x${Date.now().toString(36)}`);
      runs.push(await runOnce(app, store, 'azurite', total));
    }
  } finally {
    await azurite.stop();
  }
  await app.terminate();

  console.log(`fan-out/fan-in through sub-orchestrations of ${CHUNK} (${os.availableParallelism()} cores)`);
  console.log('store    activities   seconds   activities/s   peak RSS');
  for (const run of runs) {
    console.log(
      `${run.store.padEnd(8)} ${String(run.total).padStart(10)} ${run.seconds.toFixed(2).padStart(9)} ` +
        `${run.perSecond.toFixed(0).padStart(14)} ${run.peakRssMb.toFixed(0).padStart(7)} MB`,
    );
  }
  for (const kind of ['memory', 'azurite'] as const) {
    const small = runs.find((r) => r.store === kind && r.total === SIZES[0]);
    const large = runs.find((r) => r.store === kind && r.total === SIZES[1]);
    if (!small || !large) continue;
    const ratio = large.seconds / small.seconds;
    const target = TARGETS[kind];
    console.log(
      `${kind}: ${large.perSecond.toFixed(0)} activities/s at 10,000 (target ≥ ${target}), ` +
        `time(10,000)/time(1,000) = ${ratio.toFixed(1)} (target ≤ ${TARGETS.ratio})`,
    );
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
