/**
 * `npm run emulator -- [--port <n>] [--fleet <file>] [--compute-policy <policy>=<limit>/<window>]`: the Compute emulator as a process (DESIGN §6).
 * HTTPS on 127.0.0.1:8443, state kept in `.rpo/compute.json` across restarts, CA certificate in
 * `.rpo/certs/ca.pem`, time from RPO_CLOCK_SCALE. A fleet file is applied through the ARM API once the
 * server listens; applying it to a restored state changes nothing (PUTs are idempotent).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { clockFromEnvironment } from '../clock';
import { ensureError } from '../../lib/errors';
import { ValidationError } from '../../lib/validation';
import { COMPUTE_POLICY_NAMES, parseComputePolicyFlag, type ComputePolicyOverrides } from './computePolicies';
import { applyFleet, loadFleetFile, type ApplyFleetResult } from './fleet';
import { startComputeEmulator } from './server';
import type { ComputeStore } from './store';

export const DEFAULT_PORT = 8443;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_STATE_DIR = '.rpo';

const USAGE = `usage: npm run emulator -- [--port <n>] [--fleet <file>] [--host <address>] [--state-dir <dir>]
                            [--compute-policy <policy>=<limit>/<window>[:report]]...

  --port <n>         HTTPS port (default ${DEFAULT_PORT}; 0 picks a free one)
  --fleet <file>     apply a fleet file (e.g. local/fleets/demo.json) through the ARM API at start
  --host <address>   address to listen on (default ${DEFAULT_HOST})
  --state-dir <dir>  where the snapshot (compute.json) and CA (certs/ca.pem) live (default ${DEFAULT_STATE_DIR})
  --compute-policy <policy>=<limit>/<window>[:report]
                     enforce a Compute RP policy: at most <limit> requests per fixed <window> (250ms, 30s,
                     10m, 1h), then 429 with Retry-After; ':report' counts and reports it only. Repeatable.
                     e.g. --compute-policy PutRestorePointSubscriptionMaximum=20/60s
                     Policies: ${COMPUTE_POLICY_NAMES.join(', ')}
                     (also at run time: PUT /_emulator/compute-policies)
  --help             show this text

Environment: RPO_CLOCK_SCALE (default 1; e.g. 3600 runs an hour a second).`;

export interface EmulatorArguments {
  port: number;
  host: string;
  fleet?: string;
  stateDir: string;
  /** From `--compute-policy`, in order (a later flag for the same policy wins). */
  computePolicies: ComputePolicyOverrides;
  help: boolean;
}

/** A command line the CLI cannot run; exit code 2, the message names the flag. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Parses `--flag value` and `--flag=value` forms; every flag at most once. */
export function parseArguments(argv: readonly string[]): EmulatorArguments {
  const result: EmulatorArguments = {
    port: DEFAULT_PORT,
    host: DEFAULT_HOST,
    stateDir: DEFAULT_STATE_DIR,
    computePolicies: {},
    help: false,
  };
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') {
      result.help = true;
      continue;
    }
    const match = /^(--[a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new UsageError(`unexpected argument "${arg}" (flags start with --)`);
    const flag = match[1] as string;
    if (!['--port', '--fleet', '--host', '--state-dir', '--compute-policy'].includes(flag)) {
      throw new UsageError(
        `unknown flag ${flag} (known: --port, --fleet, --host, --state-dir, --compute-policy, --help)`,
      );
    }
    if (seen.has(flag) && flag !== '--compute-policy') throw new UsageError(`${flag} is given twice`);
    seen.add(flag);
    let value = match[2];
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      value = next;
      i++;
    }
    switch (flag) {
      case '--port': {
        const port = Number(value);
        if (!/^\d+$/.test(value) || port > 65_535) {
          throw new UsageError(`--port must be a whole number from 0 to 65535, got "${value}"`);
        }
        result.port = port;
        break;
      }
      case '--fleet':
        if (value === '') throw new UsageError('--fleet needs a file name');
        result.fleet = value;
        break;
      case '--host':
        if (value === '') throw new UsageError('--host needs an address');
        result.host = value;
        break;
      case '--state-dir':
        if (value === '') throw new UsageError('--state-dir needs a directory');
        result.stateDir = value;
        break;
      case '--compute-policy':
        try {
          Object.assign(result.computePolicies, parseComputePolicyFlag(value));
        } catch (error) {
          throw new UsageError(`--compute-policy ${ensureError(error).message}`);
        }
        break;
    }
  }
  return result;
}

function describeCounts(result: ApplyFleetResult): string {
  const { counts } = result;
  const parts = [
    [counts.disk, 'disk', 'disks'],
    [counts.availabilitySet, 'availability set', 'availability sets'],
    [counts.virtualMachineScaleSet, 'scale set', 'scale sets'],
    [counts.virtualMachine, 'VM', 'VMs'],
  ] as const;
  return parts.map(([n, one, many]) => `${n} ${n === 1 ? one : many}`).join(', ');
}

function describeStore(store: ComputeStore): string {
  return [
    `${store.virtualMachines.size} VMs`,
    `${store.disks.size} disks`,
    `${store.availabilitySets.size + store.scaleSets.size} VM sets`,
    `${store.collections.size} restore point collections`,
    `${store.restorePoints.size} restore points`,
  ].join(', ');
}

export interface MainOptions {
  env?: NodeJS.ProcessEnv;
  out?: (line: string) => void;
  err?: (line: string) => void;
  /** Resolves when the emulator should stop; defaults to the first SIGINT or SIGTERM. */
  stopSignal?: Promise<string>;
}

function firstSignal(): Promise<string> {
  return new Promise((resolve) => {
    const handler = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
      resolve(signal);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}

/**
 * Runs the emulator until a stop signal; resolves with the process exit code
 * (0 after a clean stop, 1 when it could not start or the fleet failed, 2 for a bad command line).
 */
export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  const out = options.out ?? ((line: string) => console.log(line));
  const err = options.err ?? ((line: string) => console.error(line));
  let args: EmulatorArguments;
  let clock: ReturnType<typeof clockFromEnvironment>;
  try {
    args = parseArguments(argv);
    clock = clockFromEnvironment(options.env ?? process.env);
  } catch (error) {
    err(`emulator: ${ensureError(error).message}`);
    err(USAGE);
    return 2;
  }
  if (args.help) {
    out(USAGE);
    return 0;
  }
  const fleetFile = args.fleet === undefined ? undefined : path.resolve(args.fleet);
  if (fleetFile !== undefined && !existsSync(fleetFile)) {
    err(`emulator: --fleet ${args.fleet}: no such file`);
    return 2;
  }
  const stateDir = path.resolve(args.stateDir);
  const snapshotPath = path.join(stateDir, 'compute.json');
  const certDir = path.join(stateDir, 'certs');
  const hadSnapshot = existsSync(snapshotPath);
  // Listen for signals before the (slow) start so an early Ctrl+C still stops cleanly.
  const stopSignal = options.stopSignal ?? firstSignal();

  let emulator: Awaited<ReturnType<typeof startComputeEmulator>>;
  try {
    emulator = await startComputeEmulator({
      port: args.port,
      host: args.host,
      clock,
      certDir,
      snapshotPath,
      simulation: { computePolicies: args.computePolicies },
      quiet: true,
    });
  } catch (error) {
    err(`emulator: could not start on ${args.host}:${args.port}: ${ensureError(error).message}`);
    return 1;
  }
  out(`Compute emulator listening on ${emulator.url}`);
  out(
    `CA certificate: ${path.join(certDir, 'ca.pem')} (trust it, e.g. NODE_EXTRA_CA_CERTS=${path.join(certDir, 'ca.pem')})`,
  );
  out(`State snapshot: ${snapshotPath} (${hadSnapshot ? `restored: ${describeStore(emulator.core.store)}` : 'new'})`);
  out(`Clock: ${clock.scale === 1 ? 'real time' : `real time x${clock.scale} (RPO_CLOCK_SCALE)`}`);
  const enforced = Object.entries(emulator.core.settings.computePolicies).filter(([, policy]) => policy.enforce);
  if (enforced.length > 0) {
    const described = enforced.map(([name, policy]) => `${name} ${policy.limit} per ${policy.windowMs} ms`);
    out(`Compute policies enforced: ${described.join(', ')}`);
  }

  let exitCode = 0;
  let stoppedBy: string | undefined;
  if (fleetFile !== undefined) {
    const started = Date.now();
    out(
      `Applying fleet ${args.fleet} through the ARM API (creation takes simulated time; RPO_CLOCK_SCALE speeds it up)…`,
    );
    const applying = (async (): Promise<number> => {
      try {
        const fleet = await loadFleetFile(fleetFile);
        const applied = await applyFleet(emulator.url, emulator.caPem, fleet, { concurrency: 32 });
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        out(
          `Fleet ${path.relative(process.cwd(), fleetFile) || fleetFile}: ${applied.ids.length} resources applied (${describeCounts(applied)}) in ${seconds} s`,
        );
        return 0;
      } catch (error) {
        if (stoppedBy !== undefined) return 0; // the server went away under it on purpose
        err(error instanceof ValidationError ? error.message : `emulator: fleet failed: ${ensureError(error).message}`);
        return 1;
      }
    })();
    // Ctrl+C must work while a fleet is still being created (tens of seconds at real time).
    const first = await Promise.race([applying.then((code) => ({ code })), stopSignal.then((signal) => ({ signal }))]);
    if ('signal' in first) {
      stoppedBy = first.signal;
      out(`${first.signal}: stopping before the fleet was fully applied (applying it again later is idempotent)`);
    } else {
      exitCode = first.code;
    }
  } else {
    out('No fleet given (--fleet <file>): serving the state as it is.');
  }

  if (exitCode === 0 && stoppedBy === undefined) {
    out('Ready. Stop with Ctrl+C (SIGINT) or SIGTERM.');
    const signal = await stopSignal;
    out(`${signal}: stopping`);
  }
  try {
    await emulator.stop();
    out(`Compute emulator stopped; state saved to ${snapshotPath}`);
  } catch (error) {
    err(`emulator: stopping failed: ${ensureError(error).message}`);
    exitCode = exitCode || 1;
  }
  return exitCode;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
