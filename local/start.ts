/**
 * `npm start`: the whole local stack with the demo fleet (DESIGN §6).
 *
 *   Azurite            127.0.0.1:10000-10002  data in .rpo/azurite (reused if one already listens there)
 *   Compute emulator   https://127.0.0.1:8443 demo fleet from local/fleets/demo.json, state in .rpo/compute.json
 *   Functions host     http://127.0.0.1:7071  this repo's built app, Durable state in Azurite
 *
 * The host runs as a child process so that it trusts the emulator's CA the way an app in Azure trusts
 * ARM's certificate (NODE_EXTRA_CA_CERTS is read at process start). All parts share one clock through
 * RPO_CLOCK_ORIGIN and RPO_CLOCK_SCALE. A progress line is printed whenever something changes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { ensureError } from '../lib/errors';
import { DEFAULT_AZURITE_PORTS, startAzurite, type RunningAzurite } from './azurite';
import { clockFromEnvironment } from './clock';
import { applyFleet, loadFleetFile } from './compute/fleet';
import { requestLog, startComputeEmulator, type RunningComputeEmulator } from './compute/server';
import { loadConfig } from '../lib/config';
import { storesFor } from '../lib/azure/stores';
import { startView } from './startView';

const ROOT = path.resolve(__dirname, '..');
const STATE_DIR = path.join(ROOT, '.rpo');
const HOST_PORT = 7071;
const EMULATOR_PORT = 8443;
const PROGRESS_EVERY_MS = 10_000;
/** Six minutes a second: the demo policies (every 2 h and every 4 h) run several cycles within two minutes. */
const DEFAULT_SCALE = '360';
const CLOCK_FILE = path.join(STATE_DIR, 'clock.json');

/**
 * The stack's clock resumes where the previous `npm start` stopped (.rpo/clock.json), so that the restore
 * points, durable timers and schedule cursors it left behind are not in the future: no duplicate, no lost slot.
 * A scaled clock reads origin + (real - origin) × scale; continuing from clock time V at real time R takes the
 * origin (R·scale − V) / (scale − 1).
 */
function resumedOrigin(scale: number, nowReal: number): number {
  if (scale === 1) return nowReal;
  try {
    const saved = JSON.parse(readFileSync(CLOCK_FILE, 'utf8')) as { clockMs?: unknown };
    const v = typeof saved.clockMs === 'number' ? saved.clockMs : undefined;
    if (v !== undefined && v > nowReal) {
      const origin = Math.floor((nowReal * scale - v) / (scale - 1));
      if (origin > 0 && origin < nowReal) return origin;
    }
  } catch {
    // No saved clock: start from now.
  }
  return nowReal;
}

function saveClock(now: () => number): void {
  writeFileSync(CLOCK_FILE, JSON.stringify({ clockMs: now(), savedAt: new Date().toISOString() }));
}

function say(line: string): void {
  console.log(`[rpo] ${line}`);
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

interface Stack {
  azurite?: RunningAzurite;
  emulator?: RunningComputeEmulator;
  host?: ChildProcess;
  progress?: NodeJS.Timeout;
  stopView?: () => void;
  saveClock?: () => void;
}

async function stopStack(stack: Stack): Promise<void> {
  if (stack.progress) clearInterval(stack.progress);
  stack.stopView?.();
  const host = stack.host;
  if (host && host.exitCode === null && host.signalCode === null) {
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => host.kill('SIGKILL'), 10_000);
      host.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      host.kill('SIGTERM');
    });
  }
  await stack.emulator?.stop();
  stack.saveClock?.();
  await stack.azurite?.stop();
}

async function start(stack: Stack): Promise<void> {
  mkdirSync(STATE_DIR, { recursive: true });
  const scale = process.env.RPO_CLOCK_SCALE ?? DEFAULT_SCALE;
  const clockEnv = {
    RPO_CLOCK_SCALE: scale,
    RPO_CLOCK_ORIGIN: process.env.RPO_CLOCK_ORIGIN ?? String(resumedOrigin(Number(scale), Date.now())),
  };
  const clock = clockFromEnvironment(clockEnv);
  const clockNow = clock.now.bind(clock);
  stack.saveClock = () => saveClock(clockNow);
  const saver = setInterval(() => saveClock(clockNow), 2_000);
  saver.unref();
  const at = new Date(clock.now()).toISOString().slice(0, 16).replace('T', ' ');
  say(
    `clock ${at} UTC, running ${clock.scale}× faster than the wall clock (RPO_CLOCK_SCALE; .rpo/clock.json resumes it)`,
  );

  if (await portOpen(DEFAULT_AZURITE_PORTS.table)) {
    say('Azurite already listens on 127.0.0.1:10000-10002; using it');
  } else {
    stack.azurite = await startAzurite({ location: path.join(STATE_DIR, 'azurite'), ports: DEFAULT_AZURITE_PORTS });
    say('Azurite on 127.0.0.1:10000-10002 (data in .rpo/azurite)');
  }

  if (await portOpen(EMULATOR_PORT)) {
    throw new Error(`port ${EMULATOR_PORT} is taken: stop the other Compute emulator (npm run emulator) first`);
  }
  stack.emulator = await startComputeEmulator({
    port: EMULATOR_PORT,
    certDir: path.join(STATE_DIR, 'certs'),
    snapshotPath: path.join(STATE_DIR, 'compute.json'),
    clock,
    quiet: true,
  });
  say(`Compute emulator on ${stack.emulator.url}; CA in .rpo/certs/ca.pem; applying the demo fleet through ARM…`);
  // Creating disks and VMs takes simulated ARM time (tens of seconds at scale 1); the host need not wait.
  const fleetApplied = applyDemoFleet(stack.emulator);

  if (await portOpen(HOST_PORT))
    throw new Error(`port ${HOST_PORT} is taken: stop the other host (npm run host) first`);
  stack.host = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'local', 'host', 'main.ts'), '--app', ROOT, '--port', String(HOST_PORT)],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...clockEnv,
        NODE_EXTRA_CA_CERTS: path.join(STATE_DIR, 'certs', 'ca.pem'),
        RPO_ARM_CA_FILE: path.join(STATE_DIR, 'certs', 'ca.pem'),
        AzureWebJobsStorage: process.env.AzureWebJobsStorage ?? 'UseDevelopmentStorage=true',
        RPO_ARM_ENDPOINT: stack.emulator.url,
        RPO_POLICY_FILES: process.env.RPO_POLICY_FILES ?? path.join(ROOT, 'local', 'policies', '*.json'),
        RPO_TASK_HUB: process.env.RPO_TASK_HUB ?? 'rpolocal',
      },
    },
  );
  // The host's own log goes to a file; its errors also to the terminal, so the view stays readable.
  const hostLog = createWriteStream(path.join(STATE_DIR, 'host.log'), { flags: 'a' });
  stack.host.stdout?.pipe(hostLog);
  stack.host.stderr?.on('data', (chunk: Buffer) => {
    hostLog.write(chunk);
    for (const line of chunk.toString('utf8').split('\n')) if (/\berror\b/i.test(line)) say(`host: ${line.trim()}`);
  });
  stack.host.once('exit', (code, signal) => {
    say(`the host exited (${signal ?? `code ${String(code)}`}); stopping the stack`);
    process.kill(process.pid, 'SIGTERM');
  });
  const api = `http://127.0.0.1:${HOST_PORT}`;
  say(`Functions host on ${api} (log in .rpo/host.log; Durable HTTP API under /runtime/webhooks/durabletask)`);
  say(`API: curl ${api}/api/policies · curl ${api}/api/compliance   (demo policies: local/policies/*.json)`);
  say('Ctrl-C stops everything; npm start again resumes where it stopped');
  stack.progress = startProgress(stack.emulator, clockNow);
  await fleetApplied;
  const stores = await storesFor(
    loadConfig({ AzureWebJobsStorage: process.env.AzureWebJobsStorage ?? 'UseDevelopmentStorage=true' }),
  );
  stack.stopView = startView({ stores, apiUrl: api, now: clockNow, say: (line) => console.log(line) });
}

async function applyDemoFleet(emulator: RunningComputeEmulator): Promise<void> {
  const fleetFile = path.join(ROOT, 'local', 'fleets', 'demo.json');
  const started = Date.now();
  const applied = await applyFleet(emulator.url, emulator.caPem, await loadFleetFile(fleetFile), { concurrency: 16 });
  const counts = Object.entries(applied.counts)
    .map(([kind, n]) => `${n} ${kind}`)
    .join(', ');
  say(`demo fleet ready (${counts}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** One line whenever the emulator has seen new requests: clock time, ARM requests by outcome since the last line. */
function startProgress(emulator: RunningComputeEmulator, now: () => number): NodeJS.Timeout {
  let since = '';
  const timer = setInterval(() => {
    const fresh = requestLog(emulator).filter((entry) => String(entry.time) > since);
    if (fresh.length === 0) return;
    since = String(fresh[fresh.length - 1]?.time ?? since);
    const writes = fresh.filter((entry) => entry.method !== 'GET').length;
    const throttled = fresh.filter((entry) => entry.status === 429).length;
    // 404s are expected answers (a collection not created yet), not errors.
    const failed = fresh.filter((entry) => entry.status >= 400 && entry.status !== 429 && entry.status !== 404).length;
    const at = new Date(now()).toISOString().slice(0, 16).replace('T', ' ');
    say(`${at} UTC · ARM: ${fresh.length} requests (${writes} writes, ${throttled} throttled 429, ${failed} errors)`);
  }, PROGRESS_EVERY_MS);
  timer.unref();
  return timer;
}

async function main(): Promise<void> {
  const stack: Stack = {};
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping`);
    stopStack(stack).then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(ensureError(error));
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  try {
    await start(stack);
  } catch (error) {
    console.error(`[rpo] could not start the local stack: ${ensureError(error).message}`);
    await stopStack(stack);
    process.exit(1);
  }
}

void main();
