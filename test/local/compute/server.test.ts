import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../local/clock';
import { startComputeEmulator } from '../../../local/compute/server';
import { computeClientFor, testPollingOptions } from '../../helpers/computeClient';
import {
  complete,
  expectOperationFailure,
  expectRestError,
  rawRequest,
  startTestEmulator,
  vmWithCollection,
  type TestEmulator,
} from './fixtures';

describe('startComputeEmulator', () => {
  it('serves HTTPS with a generated CA written to certDir/ca.pem and reused on restart', async () => {
    const certDir = await mkdtemp(path.join(tmpdir(), 'rpo-ca-'));
    const first = await startComputeEmulator({ certDir, quiet: true, clock: new ManualClock() });
    const caPem = await readFile(path.join(certDir, 'ca.pem'), 'utf8');
    expect(first.caPem).toBe(caPem);
    expect(first.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    await first.stop();
    const second = await startComputeEmulator({ certDir, quiet: true, clock: new ManualClock() });
    try {
      expect(second.caPem).toBe(caPem);
      const response = await rawRequest(second, 'GET', '/_emulator/clock');
      expect(response.status).toBe(200);
    } finally {
      await second.stop();
    }
  });

  it('gives emulators started at the same time on one certDir the same CA', async () => {
    const certDir = await mkdtemp(path.join(tmpdir(), 'rpo-ca-race-'));
    const [a, b] = await Promise.all([
      startComputeEmulator({ certDir, quiet: true, clock: new ManualClock() }),
      startComputeEmulator({ certDir, quiet: true, clock: new ManualClock() }),
    ]);
    try {
      expect(a.caPem).toBe(b.caPem);
      for (const emulator of [a, b]) expect((await rawRequest(emulator, 'GET', '/_emulator/clock')).status).toBe(200);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('reports a snapshot that cannot be written when it stops, even when quiet', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rpo-snapshot-'));
    const snapshotPath = path.join(dir, 'compute.json');
    const emulator = await startTestEmulator({}, { snapshotPath, certDir: dir });
    // A directory where the snapshot file should go: the final write fails.
    await mkdir(snapshotPath);
    await expect(emulator.emulator.stop()).rejects.toThrow();
  });

  it('keeps the fleet across a restart with a snapshot, and finishes operations that were running', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rpo-snapshot-'));
    const snapshotPath = path.join(dir, 'compute.json');
    const clock = new ManualClock('2026-03-01T00:00:00Z');
    const first = await startTestEmulator({}, { snapshotPath, certDir: dir, clock });
    const { client, subscriptionId } = first.client();
    const { collectionName } = await vmWithCollection(client, clock, 'rg', 'kept');
    const poller = client.restorePoints.create('rg', collectionName, 'in-flight', {}, testPollingOptions);
    await poller.submitted();
    await first.emulator.stop();

    const second = await startTestEmulator({}, { snapshotPath, certDir: dir, clock });
    try {
      const again = computeClientFor(second.emulator, subscriptionId);
      expect((await again.virtualMachines.get('rg', 'kept')).provisioningState).toBe('Succeeded');
      expect((await again.restorePoints.get('rg', collectionName, 'in-flight')).provisioningState).toBe('Creating');
      await clock.advance('5m');
      expect((await again.restorePoints.get('rg', collectionName, 'in-flight')).provisioningState).toBe('Succeeded');
      // The per-VM windows survive too: the interval rule still sees the point.
      await expectRestError(again.restorePoints.create('rg', collectionName, 'too-soon', {}, testPollingOptions), {
        status: 409,
        code: 'OperationNotAllowed',
        message: /within 3 hour/,
      });
    } finally {
      await second.emulator.stop();
    }
  });
  it('keeps the compute policy counters across a restart (the policies themselves come from the options)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rpo-snapshot-'));
    const snapshotPath = path.join(dir, 'compute.json');
    const clock = new ManualClock('2026-03-01T00:00:00Z');
    const simulation = {
      computePolicies: { LowCostGetRestorePointSubscriptionMaximum: { limit: 1, windowMs: 3_600_000, enforce: true } },
    };
    const first = await startTestEmulator(simulation, { snapshotPath, certDir: dir, clock });
    const { client, subscriptionId } = first.client();
    await expectRestError(client.restorePointCollections.get('rg', 'c'), { status: 404, code: 'ResourceNotFound' });
    await first.emulator.stop();

    const second = await startTestEmulator(simulation, { snapshotPath, certDir: dir, clock });
    try {
      await expectRestError(computeClientFor(second.emulator, subscriptionId).restorePointCollections.get('rg', 'c'), {
        status: 429,
        code: 'OperationNotAllowed',
      });
    } finally {
      await second.emulator.stop();
    }
  });
});

describe('admin routes', () => {
  let t: TestEmulator;
  beforeAll(async () => {
    t = await startTestEmulator();
  });
  afterAll(async () => t.emulator.stop());

  it('GET /_emulator/clock reports the emulator’s clock', async () => {
    const response = await rawRequest(t.emulator, 'GET', '/_emulator/clock');
    expect(response.json).toEqual({ now: new Date(t.clock.now()).toISOString(), epochMs: t.clock.now() });
  });

  it('GET /_emulator/requests lists method, path, status and clock time of ARM requests', async () => {
    const { client, subscriptionId } = t.client();
    await expectRestError(client.virtualMachines.get('rg', 'logged'), { status: 404, code: 'ResourceNotFound' });
    const response = await rawRequest(t.emulator, 'GET', '/_emulator/requests');
    const entries = (response.json as { value: { method: string; path: string; status: number; time: string }[] })
      .value;
    expect(entries.at(-1)).toEqual({
      method: 'GET',
      path: `/subscriptions/${subscriptionId}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/logged`,
      status: 404,
      time: new Date(t.clock.now()).toISOString(),
    });
    expect(entries.some((e) => e.path.startsWith('/_emulator'))).toBe(false);
  });

  it('POST /_emulator/faults answers matching requests with the fault (429 + Retry-After) the given number of times', async () => {
    const { client } = t.client();
    await vmWithCollection(client, t.clock, 'rg', 'faulty');
    const added = await rawRequest(
      t.emulator,
      'POST',
      '/_emulator/faults',
      JSON.stringify({
        method: 'GET',
        pathPattern: '/virtualMachines/faulty$',
        status: 429,
        code: 'TooManyRequests',
        message: 'slow down',
        retryAfterSeconds: 17,
        times: 2,
      }),
    );
    expect(added.status).toBe(201);
    for (let i = 0; i < 2; i++) {
      const error = await expectRestError(client.virtualMachines.get('rg', 'faulty'), {
        status: 429,
        code: 'TooManyRequests',
        message: 'slow down',
      });
      expect(error.response?.headers.get('retry-after')).toBe('17');
    }
    expect((await client.virtualMachines.get('rg', 'faulty')).name).toBe('faulty');
  });

  it('lets the SDK’s retry policy honour Retry-After and succeed after a throttled attempt', async () => {
    const { subscriptionId } = t.client();
    const client = computeClientFor(t.emulator, subscriptionId, { maxRetries: 1 });
    await rawRequest(
      t.emulator,
      'POST',
      '/_emulator/faults',
      JSON.stringify({
        pathPattern: `/subscriptions/${subscriptionId}/.*/restorePointCollections$`,
        status: 429,
        retryAfterSeconds: 1,
      }),
    );
    const started = Date.now();
    const names: string[] = [];
    for await (const c of client.restorePointCollections.list('rg')) names.push(c.name ?? '');
    expect(names).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('DELETE /_emulator/faults clears every fault', async () => {
    const { client } = t.client();
    await rawRequest(t.emulator, 'POST', '/_emulator/faults', JSON.stringify({ status: 500, times: 100 }));
    await rawRequest(t.emulator, 'DELETE', '/_emulator/faults');
    await expectRestError(client.virtualMachines.get('rg', 'none'), { status: 404, code: 'ResourceNotFound' });
  });

  it('a fault with phase "operation" lets the request start and fails its long-running operation with the code', async () => {
    const { client } = t.client();
    const { collectionName } = await vmWithCollection(client, t.clock, 'rg', 'op-fault');
    await rawRequest(
      t.emulator,
      'POST',
      '/_emulator/faults',
      JSON.stringify({
        method: 'PUT',
        pathPattern: '/restorePoints/',
        status: 500,
        code: 'VMRestorePointInternalError',
        message: 'boom',
        phase: 'operation',
      }),
    );
    await expectOperationFailure(
      complete(client.restorePoints.create('rg', collectionName, 'rp1', {}, testPollingOptions), t.clock),
      'VMRestorePointInternalError',
      /boom/,
    );
    expect((await client.restorePoints.get('rg', collectionName, 'rp1')).provisioningState).toBe('Failed');
  });

  it('refuses an invalid fault with 400 naming the field', async () => {
    const response = await rawRequest(t.emulator, 'POST', '/_emulator/faults', JSON.stringify({ status: 'x' }));
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({
      error: { code: 'InvalidFault', message: expect.stringContaining('fault.status') as unknown },
    });
  });
});
