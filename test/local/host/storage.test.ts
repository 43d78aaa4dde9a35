import { describe, expect, it } from 'vitest';
import { resolveStorageConnection } from '../../../local/host/storage';

describe('resolveStorageConnection', () => {
  it('turns UseDevelopmentStorage=true into Azurite on its default loopback ports', () => {
    const resolved = resolveStorageConnection('UseDevelopmentStorage=true');
    expect(resolved).toContain('AccountName=devstoreaccount1');
    expect(resolved).toContain('TableEndpoint=http://127.0.0.1:10002/devstoreaccount1');
    expect(resolveStorageConnection(' usedevelopmentstorage = TRUE; ')).toBe(resolved);
  });

  it('passes any other connection string through unchanged', () => {
    const real = 'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=a2V5;EndpointSuffix=core.windows.net';
    expect(resolveStorageConnection(real)).toBe(real);
  });
});
