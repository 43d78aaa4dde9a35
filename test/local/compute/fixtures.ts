import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import type { ComputeManagementClient, VirtualMachine } from '@azure/arm-compute';
import type { OperationState, PollerLike } from '@azure/core-lro';
import { RestError } from '@azure/core-rest-pipeline';
import { expect } from 'vitest';
import { ManualClock } from '../../../local/clock';
import {
  startComputeEmulator,
  type RunningComputeEmulator,
  type SimulationOverrides,
} from '../../../local/compute/server';
import { computeClientFor, testPollingOptions } from '../../helpers/computeClient';

/** Test fixtures for the Compute emulator: an in-process emulator on a ManualClock, and VM builders. */
export interface TestEmulator {
  emulator: RunningComputeEmulator;
  clock: ManualClock;
  /** A client for a fresh subscription (own ARM token buckets), unless one is given. */
  client(subscriptionId?: string): { client: ComputeManagementClient; subscriptionId: string };
}

export async function startTestEmulator(
  simulation: SimulationOverrides = {},
  extra: { snapshotPath?: string; certDir?: string; clock?: ManualClock } = {},
): Promise<TestEmulator> {
  // A certificate directory per test file: parallel workers must not race on one ca.pem.
  const certDir = extra.certDir ?? (await mkdtemp(path.join(tmpdir(), 'rpo-compute-certs-')));
  const clock = extra.clock ?? new ManualClock('2026-01-01T00:00:00Z');
  const emulator = await startComputeEmulator({
    clock,
    certDir,
    quiet: true,
    simulation,
    ...(extra.snapshotPath ? { snapshotPath: extra.snapshotPath } : {}),
  });
  return {
    emulator,
    clock,
    client(subscriptionId = randomUUID()) {
      return { client: computeClientFor(emulator, subscriptionId), subscriptionId };
    },
  };
}

/** Submits an LRO, moves the manual clock past its completion, and waits for the SDK's result. */
export async function complete<T>(
  poller: PollerLike<OperationState<T>, T>,
  clock: ManualClock,
  duration = '5m',
): Promise<T> {
  await poller.submitted();
  await clock.advance(duration);
  return poller;
}

export function vmId(subscriptionId: string, resourceGroup: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Compute/virtualMachines/${name}`;
}

export function diskId(subscriptionId: string, resourceGroup: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Compute/disks/${name}`;
}

/** A Linux VM with an OS disk from an image and `dataDiskSizes.length` empty data disks. */
export function linuxVm(
  location: string,
  dataDiskSizes: number[] = [64],
  extra: Partial<VirtualMachine> = {},
): VirtualMachine {
  return {
    location,
    hardwareProfile: { vmSize: 'Standard_D2s_v5' },
    osProfile: { computerName: 'host', adminUsername: 'azureuser', adminPassword: 'not-returned-1!' },
    storageProfile: {
      imageReference: { publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: 'server', version: 'latest' },
      osDisk: { createOption: 'FromImage', osType: 'Linux', managedDisk: { storageAccountType: 'Premium_LRS' } },
      dataDisks: dataDiskSizes.map((diskSizeGB, lun) => ({ lun, createOption: 'Empty', diskSizeGB })),
    },
    ...extra,
  };
}

export async function createVm(
  client: ComputeManagementClient,
  clock: ManualClock,
  resourceGroup: string,
  name: string,
  vm: VirtualMachine,
): Promise<VirtualMachine> {
  return complete(client.virtualMachines.createOrUpdate(resourceGroup, name, vm, testPollingOptions), clock);
}

/** A VM plus its restore point collection (same name + '-rpc'). */
export async function vmWithCollection(
  client: ComputeManagementClient,
  clock: ManualClock,
  resourceGroup: string,
  name: string,
  vm: VirtualMachine = linuxVm('westus'),
): Promise<{ vm: VirtualMachine; collectionName: string }> {
  const created = await createVm(client, clock, resourceGroup, name, vm);
  const collectionName = `${name}-rpc`;
  await client.restorePointCollections.createOrUpdate(resourceGroup, collectionName, {
    location: vm.location,
    source: { id: created.id },
  });
  return { vm: created, collectionName };
}

/** Expects a RestError with this status and code (and message fragment). */
export async function expectRestError(
  promise: Promise<unknown>,
  expected: { status: number; code: string; message?: string | RegExp },
): Promise<RestError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected ${expected.code}`).toBeInstanceOf(RestError);
  const restError = error as RestError;
  expect({ status: restError.statusCode, code: restError.code }).toEqual({
    status: expected.status,
    code: expected.code,
  });
  if (expected.message !== undefined) expect(restError.message).toMatch(expected.message);
  return restError;
}

/**
 * Expects a long-running operation to end Failed. core-lro rejects with a plain Error whose message
 * is "The long-running operation has failed. <code>. <message>".
 */
export async function expectOperationFailure(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected the operation to fail with ${code}`).toBeInstanceOf(Error);
  expect((error as Error).message).toContain(`The long-running operation has failed. ${code}.`);
  if (message) expect((error as Error).message).toMatch(message);
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

/**
 * A plain HTTPS request to the emulator (for wire-level assertions the SDK hides), with a bearer
 * token unless `headers` replaces it (`authorization: undefined` sends none).
 */
export function rawRequest(
  emulator: RunningComputeEmulator,
  method: string,
  pathOrUrl: string,
  body?: string,
  headers: Record<string, string | undefined> = {},
): Promise<RawResponse> {
  const url = new URL(pathOrUrl, emulator.url);
  const sent: Record<string, string> = {};
  for (const [name, value] of Object.entries({
    'content-type': 'application/json',
    authorization: 'Bearer x',
    ...headers,
  })) {
    if (value !== undefined) sent[name] = value;
  }
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method, ca: emulator.caPem, headers: sent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text ? (JSON.parse(text) as unknown) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
