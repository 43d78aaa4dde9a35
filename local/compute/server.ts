import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { clockFromEnvironment, type Clock } from '../clock';
import { ensureCertificates } from './certificates';
import { ComputeEmulatorCore, type RequestLogEntry } from './emulator';
import { resolveSimulation, type SimulationOverrides } from './simulation';
import { readSnapshot, writeSnapshot } from './snapshot';

export type { SimulationOverrides, SimulationSettings } from './simulation';
export type { ComputePolicies, ComputePolicyOverrides, ComputePolicySetting } from './computePolicies';
export type { RequestLogEntry } from './emulator';
export { EMULATOR_TAGS, DEFAULT_SIMULATION } from './simulation';

export interface ComputeEmulatorOptions {
  /** Default 0 = a free port (the CLI passes 8443). */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default clockFromEnvironment() (RPO_CLOCK_SCALE). */
  clock?: Clock;
  /** Where ca.pem (and the server key/cert) are written and reused; default '.rpo/certs'. */
  certDir?: string;
  /** Optional JSON snapshot of state: loaded at start, saved on change (debounced) and at stop. */
  snapshotPath?: string;
  /** Creation time, copy throughput, throttles, limits, compute policies: see SimulationSettings. */
  simulation?: SimulationOverrides;
  quiet?: boolean;
}

export interface RunningComputeEmulator {
  /** e.g. https://127.0.0.1:8443 */
  url: string;
  /** The CA certificate (PEM) to trust. */
  caPem: string;
  clock: Clock;
  /** The in-process core (state, request log, faults) for tests and the benchmark. */
  core: ComputeEmulatorCore;
  stop(): Promise<void>;
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;
const SNAPSHOT_DEBOUNCE_MS = 1_000;

/** Starts the Compute emulator over HTTPS (DESIGN §6). */
export async function startComputeEmulator(options: ComputeEmulatorOptions = {}): Promise<RunningComputeEmulator> {
  const clock = options.clock ?? clockFromEnvironment();
  const settings = resolveSimulation(options.simulation);
  const host = options.host ?? '127.0.0.1';
  const certificates = await ensureCertificates(options.certDir ?? '.rpo/certs');
  const core = new ComputeEmulatorCore(clock, settings);
  const snapshotPath = options.snapshotPath;
  if (snapshotPath) {
    const snapshot = await readSnapshot(snapshotPath);
    if (snapshot) core.load(snapshot);
  }

  let saveTimer: NodeJS.Timeout | undefined;
  let saving: Promise<void> = Promise.resolve();
  const save = (): Promise<void> => {
    if (!snapshotPath) return Promise.resolve();
    saving = saving
      .then(() => writeSnapshot(snapshotPath, core.snapshot()))
      .catch((error: unknown) => {
        if (!options.quiet) console.error('compute emulator: could not save the snapshot', error);
      });
    return saving;
  };
  if (snapshotPath) {
    core.onChange(() => {
      if (saveTimer) return;
      saveTimer = setTimeout(() => {
        saveTimer = undefined;
        void save();
      }, SNAPSHOT_DEBOUNCE_MS);
      saveTimer.unref();
    });
  }

  let baseUrl = '';
  const server: Server = createServer(
    { key: certificates.keyPem, cert: certificates.certPem, keepAlive: true },
    (request, response) => void serve(core, () => baseUrl, request, response),
  );
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostForUrl = host.includes(':') ? `[${host}]` : host;
  baseUrl = `https://${hostForUrl}:${address.port}`;
  if (!options.quiet)
    console.log(`Compute emulator listening on ${baseUrl} (CA: ${options.certDir ?? '.rpo/certs'}/ca.pem)`);

  let stopped = false;
  return {
    url: baseUrl,
    caPem: certificates.caPem,
    clock,
    core,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (saveTimer) clearTimeout(saveTimer);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      core.stop();
      await saving;
      // The final save is the one a restart depends on: its failure goes to the caller, quiet or not.
      if (snapshotPath) await writeSnapshot(snapshotPath, core.snapshot());
    },
  };
}

async function serve(
  core: ComputeEmulatorCore,
  baseUrl: () => string,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  try {
    const body = await readBody(request);
    const result = core.handle({
      method: request.method ?? 'GET',
      url: request.url ?? '/',
      body,
      baseUrl: baseUrl(),
      authorization: request.headers.authorization,
    });
    response.writeHead(result.status, result.headers);
    response.end(result.body);
  } catch (error) {
    const tooLarge = error instanceof RangeError;
    const status = tooLarge ? 413 : 400;
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    response.end(
      JSON.stringify({
        error: {
          code: tooLarge ? 'RequestEntityTooLarge' : 'InvalidRequestContent',
          message: error instanceof Error ? error.message : String(error),
        },
      }),
    );
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new RangeError(`The request body exceeds ${MAX_BODY_BYTES} bytes.`));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/** Reads the request log through the admin route's in-process equivalent. */
export function requestLog(emulator: RunningComputeEmulator): readonly RequestLogEntry[] {
  return emulator.core.requests();
}
