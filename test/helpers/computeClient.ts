import { ComputeManagementClient } from '@azure/arm-compute';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { openArmSession } from '../../lib/azure/compute';

/**
 * A real `ComputeManagementClient` pointed at an in-process Compute emulator: HTTPS with the
 * emulator's CA passed as `tlsOptions.ca` (NODE_EXTRA_CA_CERTS is only read at process start),
 * and a credential that hands out a fake bearer token (the emulator accepts any).
 */
export const fakeCredential: TokenCredential = {
  getToken: (): Promise<AccessToken> =>
    Promise.resolve({ token: 'emulator-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
};

export interface ComputeClientForOptions {
  /**
   * Retries of the SDK pipeline (429 with Retry-After, 5xx). Default 0, so a test sees the
   * emulator's answer instead of the SDK sleeping through Retry-After in real time.
   */
  maxRetries?: number;
}

export function computeClientFor(
  emulator: { url: string; caPem: string },
  subscriptionId: string,
  options: ComputeClientForOptions = {},
): ComputeManagementClient {
  // The app's own client (lib/azure: retries off, the local development token for a loopback endpoint).
  if ((options.maxRetries ?? 0) === 0) {
    const config = { armEndpoint: emulator.url, managedIdentityClientId: undefined, armCaFile: undefined };
    return openArmSession(subscriptionId, { config, caPem: emulator.caPem, now: Date.now }).compute;
  }
  // A test of the SDK's own retry policy against the emulator builds the client itself.
  return new ComputeManagementClient(fakeCredential, subscriptionId, {
    endpoint: emulator.url,
    tlsOptions: { ca: emulator.caPem },
    retryOptions: { maxRetries: options.maxRetries ?? 0 },
  });
}

/** Polling options for LROs in tests: poll again at once instead of every 2 s. */
export const testPollingOptions = { updateIntervalInMs: 0 } as const;
