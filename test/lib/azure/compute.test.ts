import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagedIdentityCredential } from '@azure/identity';
import { armCredential, isLoopbackEndpoint, LocalDevelopmentCredential } from '../../../lib/azure/credential';
import { openArmSession } from '../../../lib/azure/compute';
import { classifyError } from '../../../lib/armErrors';
import { rawRequest, startTestEmulator, type TestEmulator } from '../../local/compute/fixtures';

const SUBSCRIPTION = '0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6';

describe('the Compute client of lib/azure', () => {
  let t: TestEmulator;
  const session = () =>
    openArmSession(SUBSCRIPTION, {
      config: { armEndpoint: t.emulator.url, managedIdentityClientId: undefined, armCaFile: undefined },
      caPem: t.emulator.caPem,
      now: () => t.clock.now(),
    });

  beforeAll(async () => {
    t = await startTestEmulator();
  });
  afterAll(async () => {
    await t.emulator.stop();
  });

  it('authenticates to a loopback endpoint with the local development token, which the emulator requires', async () => {
    const s = session();
    const vms = [];
    for await (const vm of s.compute.virtualMachines.listAll()) vms.push(vm);
    expect(vms).toEqual([]);
    expect(s.requests.read).toBe(1);
  });

  it("records the subscription bucket's remaining count of every answer, for pacing", async () => {
    const s = session();
    await s.compute.restorePointCollections
      .get('rg-none', 'rpc-none')
      .catch((error: unknown) => expect(classifyError(error).kind).toBe('notFound'));
    const observation = s.observations.at(-1);
    expect(observation?.kind).toBe('read');
    expect(observation?.bucketRemaining).toBeGreaterThan(0);
  });

  it("has the SDK's own retries off: a 429 with a 10-minute Retry-After comes back at once, for a durable timer", async () => {
    const fault = await rawRequest(
      t.emulator,
      'POST',
      '/_emulator/faults',
      JSON.stringify({ method: 'GET', pathPattern: 'virtualMachines', status: 429, retryAfterSeconds: 600, times: 1 }),
    );
    expect(fault.status).toBeLessThan(300);
    const s = session();
    const started = Date.now();
    let thrown: unknown;
    try {
      for await (const vm of s.compute.virtualMachines.listAll()) void vm;
    } catch (error) {
      thrown = error;
    }
    expect(Date.now() - started).toBeLessThan(5_000);
    const c = classifyError(thrown);
    expect(c).toMatchObject({ kind: 'throttled', retryAfterSeconds: 600 });
    expect(s.observations.at(-1)?.status).toBe(429);
    expect(s.requests.read).toBe(1);
  });
});

describe('the credential of lib/azure', () => {
  it('uses the development token only for loopback endpoints', () => {
    expect(isLoopbackEndpoint('https://127.0.0.1:8443')).toBe(true);
    expect(isLoopbackEndpoint('https://localhost:8443')).toBe(true);
    expect(isLoopbackEndpoint('https://management.azure.com')).toBe(false);
    expect(isLoopbackEndpoint('https://127.0.0.1.nip.io')).toBe(false);
    expect(armCredential('https://127.0.0.1:8443', undefined)).toBeInstanceOf(LocalDevelopmentCredential);
    expect(armCredential('https://management.azure.com', '11111111-2222-3333-4444-555555555555')).toBeInstanceOf(
      ManagedIdentityCredential,
    );
    expect(armCredential('https://management.azure.com', undefined)).not.toBeInstanceOf(LocalDevelopmentCredential);
  });
});
