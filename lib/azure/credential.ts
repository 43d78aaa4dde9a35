import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';

/**
 * The credential RPO calls Azure with: the user-assigned managed identity named by `AZURE_CLIENT_ID`, else
 * DefaultAzureCredential (system-assigned identity in Azure, a developer's `az login` elsewhere).
 *
 * Against a loopback ARM endpoint (the local Compute emulator, DESIGN §6) there is no identity to ask: a fixed
 * development token is sent instead. It is refused for any other host, so it can never reach real Azure.
 */
export const LOCAL_DEVELOPMENT_TOKEN = 'rpo-local-development-token';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export function isLoopbackEndpoint(endpoint: string): boolean {
  try {
    return LOOPBACK_HOSTS.has(new URL(endpoint).hostname.toLowerCase());
  } catch {
    return false;
  }
}

/** A bearer token for the local emulator only (it accepts any token, as DESIGN §6 says; it refuses none). */
export class LocalDevelopmentCredential implements TokenCredential {
  getToken(): Promise<AccessToken> {
    return Promise.resolve({ token: LOCAL_DEVELOPMENT_TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 });
  }
}

const cache = new Map<string, TokenCredential>();

/** One credential per endpoint and identity, shared so that tokens are cached across calls. */
export function armCredential(armEndpoint: string, managedIdentityClientId: string | undefined): TokenCredential {
  const key = `${armEndpoint}|${managedIdentityClientId ?? ''}`;
  let credential = cache.get(key);
  if (credential === undefined) {
    credential = isLoopbackEndpoint(armEndpoint)
      ? new LocalDevelopmentCredential()
      : managedIdentityClientId !== undefined
        ? new ManagedIdentityCredential({ clientId: managedIdentityClientId })
        : new DefaultAzureCredential();
    cache.set(key, credential);
  }
  return credential;
}
