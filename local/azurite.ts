import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';

/** Azurite's well-known development account (public, documented by Microsoft; not a secret). */
export const DEV_ACCOUNT = 'devstoreaccount1';
export const DEV_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuritePorts {
  blob: number;
  queue: number;
  table: number;
}

export interface StartAzuriteOptions {
  /** Keep data in memory only (tests). Otherwise `location` holds it. */
  inMemory?: boolean;
  location?: string;
  /** Fixed ports; by default three free loopback ports are picked. */
  ports?: AzuritePorts;
  /** Forward Azurite's own output to this process's stderr. */
  verbose?: boolean;
}

export interface RunningAzurite {
  ports: AzuritePorts;
  connectionString: string;
  stop(): Promise<void>;
}

export const DEFAULT_AZURITE_PORTS: AzuritePorts = { blob: 10000, queue: 10001, table: 10002 };

export function azuriteConnectionString(ports: AzuritePorts, host = '127.0.0.1'): string {
  return [
    'DefaultEndpointsProtocol=http',
    `AccountName=${DEV_ACCOUNT}`,
    `AccountKey=${DEV_ACCOUNT_KEY}`,
    `BlobEndpoint=http://${host}:${ports.blob}/${DEV_ACCOUNT}`,
    `QueueEndpoint=http://${host}:${ports.queue}/${DEV_ACCOUNT}`,
    `TableEndpoint=http://${host}:${ports.table}/${DEV_ACCOUNT}`,
  ].join(';');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts Azurite from this repo's devDependencies; resolves once all three services listen.
 * Free ports are picked by binding and releasing them, which another process can win in between;
 * so when Azurite dies before listening on picked ports, it is started again on fresh ones.
 */
export async function startAzurite(options: StartAzuriteOptions = {}): Promise<RunningAzurite> {
  const attempts = options.ports ? 1 : 3;
  for (let attempt = 1; ; attempt++) {
    const ports = options.ports ?? { blob: await freePort(), queue: await freePort(), table: await freePort() };
    const child = spawn(process.execPath, azuriteArgs(ports, options), { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      await waitForListening(child, options.verbose ?? false);
    } catch (error) {
      await stopChild(child);
      if (attempt >= attempts) throw error;
      continue;
    }
    return {
      ports,
      connectionString: azuriteConnectionString(ports),
      stop: () => stopChild(child),
    };
  }
}

function azuriteArgs(ports: AzuritePorts, options: StartAzuriteOptions): string[] {
  const args = [
    require.resolve('azurite/dist/src/azurite.js'),
    '--disableTelemetry',
    '--skipApiVersionCheck',
    '--loose',
    '--blobHost',
    '127.0.0.1',
    '--queueHost',
    '127.0.0.1',
    '--tableHost',
    '127.0.0.1',
    '--blobPort',
    String(ports.blob),
    '--queuePort',
    String(ports.queue),
    '--tablePort',
    String(ports.table),
  ];
  if (options.inMemory ?? !options.location) args.push('--inMemoryPersistence');
  else args.push('--location', path.resolve(options.location ?? '.rpo/azurite'));
  return args;
}

function waitForListening(child: ChildProcess, verbose: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    let listening = 0;
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString();
      if (verbose) process.stderr.write(text);
      output += text;
      listening = (output.match(/successfully listening/g) ?? []).length;
      if (listening >= 3) {
        cleanup();
        resolve();
      }
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`Azurite exited with code ${String(code)} before listening:\n${output}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      child.kill();
      reject(new Error(`Azurite did not start within 60 s:\n${output}`));
    }, 60_000);
    const cleanup = (): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      if (verbose) {
        child.stdout?.pipe(process.stderr);
        child.stderr?.pipe(process.stderr);
      } else {
        child.stdout?.resume();
        child.stderr?.resume();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
