/**
 * The Compute emulator in a child process of its own (bench/fleet/emulatorProcess.ts), on a manual clock this
 * process moves over IPC: the bench's process then holds the host and its driver only, and its resident memory
 * is the host's (the target is the host's, and the emulator's store of 5,000 VMs is no part of it).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RequestLogEntry } from '../../local/compute/requestLog';
import type { SimulationOverrides } from '../../local/compute/server';
import type { ArmEndpoint } from '../../local/stack';

/** What the bench asks of the emulator's process. */
export type EmulatorCall =
  { op: 'set'; ms: number } | { op: 'drain' } | { op: 'points'; sinceMs: number } | { op: 'memory' };

/** Restore points created since a time (copies aside): how many, on how many VMs, how many Succeeded. */
export interface PointCounts {
  created: number;
  vms: number;
  /** VMs with more than one. */
  duplicates: number;
  succeeded: number;
}

export interface EmulatorAnswers {
  set: { nowMs: number };
  drain: { entries: RequestLogEntry[] };
  points: PointCounts;
  memory: { maxRssMb: number };
}

export interface EmulatorStart {
  startMs: number;
  certDir: string;
  simulation: SimulationOverrides;
}

export type EmulatorReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: string }
  | { ready: { url: string; caPem: string } };

export class RemoteEmulator implements ArmEndpoint {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly caPem: string,
    readonly caFile: string,
  ) {
    child.on('message', (message: EmulatorReply) => {
      if (!('id' in message)) return;
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.ok) waiter?.resolve(message.value);
      else waiter?.reject(new Error(`emulator process: ${message.error}`));
    });
    child.on('exit', (code) => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`emulator process exited (${code})`));
      this.pending.clear();
    });
  }

  static async start(startMs: number, simulation: SimulationOverrides): Promise<RemoteEmulator> {
    const certDir = await mkdtemp(path.join(tmpdir(), 'rpo-bench-certs-'));
    // Under tsx the child loads TypeScript the same way (this process's execArgv); the host's heap cap is not
    // the emulator's (its store of the fleet is no part of the host).
    const execArgv = process.execArgv.filter((arg) => !arg.startsWith('--max-old-space-size'));
    const child = fork(path.join(__dirname, 'emulatorProcess.ts'), [], {
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const start: EmulatorStart = { startMs, certDir, simulation };
    child.send(start);
    const ready = await new Promise<{ url: string; caPem: string }>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`emulator process exited before it listened (${code})`)));
      child.on('message', (message: EmulatorReply) => {
        if ('ready' in message) resolve(message.ready);
      });
    });
    return new RemoteEmulator(child, ready.url, ready.caPem, path.join(certDir, 'ca.pem'));
  }

  call<K extends EmulatorCall['op']>(call: Extract<EmulatorCall, { op: K }>): Promise<EmulatorAnswers[K]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.child.send({ id, ...call });
    });
  }

  /** The emulator's clock moves first: what the host sends within the step meets the emulator at its end. */
  async set(ms: number): Promise<void> {
    await this.call({ op: 'set', ms });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}
