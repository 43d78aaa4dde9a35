import { randomUUID } from 'node:crypto';
import { ComputeManagementClient } from '@azure/arm-compute';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticationError } from '../../../local/compute/auth';
import { computeClientFor } from '../../helpers/computeClient';
import { expectRestError, linuxVm, rawRequest, startTestEmulator, type TestEmulator } from './fixtures';

const MISSING = {
  error: { code: 'AuthenticationFailed', message: "Authentication failed. The 'Authorization' header is missing." },
};
const INVALID = {
  error: {
    code: 'AuthenticationFailedInvalidHeader',
    message: "Authentication failed. The 'Authorization' header is provided in an invalid format.",
  },
};

describe('authenticationError', () => {
  it('accepts any non-empty bearer token, whatever the case of the scheme', () => {
    for (const header of ['Bearer x', 'bearer eyJ0eXAiOiJKV1QifQ.e30.sig', 'BEARER  token '])
      expect(authenticationError(header), header).toBeUndefined();
  });

  it('answers a missing or blank header with 401 AuthenticationFailed and a WWW-Authenticate challenge', () => {
    for (const header of [undefined, '', '  ']) {
      const error = authenticationError(header);
      expect(error?.status).toBe(401);
      expect(error?.body()).toEqual(MISSING);
      expect(error?.extra.headers?.['www-authenticate']).toBe(
        'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", error_description="The authentication failed because of missing \'Authorization\' header."',
      );
    }
  });

  it('answers a header that is not `Bearer <token>` with 401 AuthenticationFailedInvalidHeader', () => {
    for (const header of ['Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'token-without-scheme', 'Bearer a b']) {
      const error = authenticationError(header);
      expect(error?.status, header).toBe(401);
      expect(error?.body(), header).toEqual(INVALID);
      expect(error?.extra.headers?.['www-authenticate'], header).toMatch(/^Bearer authorization_uri=.*invalid_token/);
    }
  });
});

describe('ARM authentication over HTTPS', () => {
  let t: TestEmulator;
  beforeAll(async () => {
    t = await startTestEmulator();
  });
  afterAll(async () => t.emulator.stop());

  const noToken = { authorization: undefined };
  const api = '?api-version=2025-04-01';
  const rg = (sub: string) => `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.Compute`;

  it('answers a request without a token with 401 in CloudError shape, before routing, api-version and throttles', async () => {
    const sub = randomUUID();
    const targets = [
      ['GET', `${rg(sub)}/restorePointCollections/c1${api}`],
      ['PUT', `${rg(sub)}/restorePointCollections/c1/restorePoints/rp1${api}`],
      ['DELETE', `${rg(sub)}/disks/d1${api}`],
      ['GET', `${rg(sub)}/galleries${api}`], // unknown route: 401, not 501
      ['GET', `${rg(sub)}/restorePointCollections/c1`], // no api-version: 401, not 400
      ['GET', `/subscriptions/not-a-guid/providers/Microsoft.Compute/restorePointCollections${api}`],
      ['GET', '/'],
    ] as const;
    for (const [method, target] of targets) {
      const response = await rawRequest(t.emulator, method, target, method === 'PUT' ? '{}' : undefined, noToken);
      expect(response.status, `${method} ${target}`).toBe(401);
      expect(response.json, `${method} ${target}`).toEqual(MISSING);
      expect(response.headers['www-authenticate']).toContain('error="invalid_token"');
      expect(response.headers['x-ms-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      // Refused at the front door: no subscription bucket was charged.
      expect(response.headers['x-ms-ratelimit-remaining-subscription-reads']).toBeUndefined();
    }
    const first = await rawRequest(t.emulator, 'GET', `${rg(sub)}/restorePointCollections${api}`);
    expect(first.status).toBe(200);
    expect(first.headers['x-ms-ratelimit-remaining-subscription-reads']).toBe('249');
    const log = t.emulator.core.requests().filter((entry) => entry.path.includes(sub));
    expect(log.filter((entry) => entry.status === 401)).toHaveLength(5);
  });

  it('answers a malformed Authorization header with 401 AuthenticationFailedInvalidHeader', async () => {
    const target = `${rg(randomUUID())}/restorePointCollections${api}`;
    for (const authorization of ['Basic dXNlcjpwYXNz', 'Bearer', 'secret']) {
      const response = await rawRequest(t.emulator, 'GET', target, undefined, { authorization });
      expect(response.status, authorization).toBe(401);
      expect(response.json, authorization).toEqual(INVALID);
    }
    expect((await rawRequest(t.emulator, 'GET', target, undefined, { authorization: 'bearer any' })).status).toBe(200);
  });

  it('guards the operation-status URLs of long-running operations too', async () => {
    const sub = randomUUID();
    const { location, ...properties } = linuxVm('westus');
    const created = await rawRequest(
      t.emulator,
      'PUT',
      `${rg(sub)}/virtualMachines/vm1${api}`,
      JSON.stringify({ location, properties }),
    );
    expect(created.status).toBe(201);
    const statusUrl = String(created.headers['azure-asyncoperation']);
    expect(statusUrl).toContain('/operations/');
    const refused = await rawRequest(t.emulator, 'GET', statusUrl, undefined, noToken);
    expect(refused.status).toBe(401);
    expect(refused.json).toEqual(MISSING);
    const polled = await rawRequest(t.emulator, 'GET', statusUrl);
    expect(polled.status).toBe(200);
    expect(polled.json).toMatchObject({ status: 'InProgress' });
    const monitor = await rawRequest(t.emulator, 'GET', `${statusUrl}&monitor=true`, undefined, noToken);
    expect(monitor.status).toBe(401);
  });

  it('leaves the admin routes under /_emulator/ open', async () => {
    expect((await rawRequest(t.emulator, 'GET', '/_emulator/clock', undefined, noToken)).status).toBe(200);
    expect((await rawRequest(t.emulator, 'GET', '/_emulator/requests', undefined, noToken)).status).toBe(200);
    expect((await rawRequest(t.emulator, 'GET', '/_emulator/compute-policies', undefined, noToken)).status).toBe(200);
  });

  it('lets the real SDK through with a token and refuses it without one', async () => {
    const sub = randomUUID();
    expect(await computeClientFor(t.emulator, sub).restorePointCollections.list('rg').next()).toMatchObject({
      done: true,
    });

    // A credential that hands out an empty token: the SDK sends `Bearer ` and ARM cannot read it.
    const emptyToken: TokenCredential = {
      getToken: (): Promise<AccessToken> => Promise.resolve({ token: '', expiresOnTimestamp: Date.now() + 3_600_000 }),
    };
    const empty = new ComputeManagementClient(emptyToken, sub, {
      endpoint: t.emulator.url,
      tlsOptions: { ca: t.emulator.caPem },
      retryOptions: { maxRetries: 0 },
    });
    await expectRestError(empty.restorePointCollections.get('rg', 'c1'), {
      status: 401,
      code: 'AuthenticationFailedInvalidHeader',
      message: "Authentication failed. The 'Authorization' header is provided in an invalid format.",
    });

    // A pipeline that drops the header after signing: the header is missing.
    const stripped = computeClientFor(t.emulator, sub);
    stripped.pipeline.addPolicy(
      {
        name: 'dropAuthorization',
        sendRequest: (request, next) => {
          request.headers.delete('authorization');
          return next(request);
        },
      },
      { afterPhase: 'Sign' },
    );
    await expectRestError(stripped.restorePointCollections.get('rg', 'c1'), {
      status: 401,
      code: 'AuthenticationFailed',
      message: "Authentication failed. The 'Authorization' header is missing.",
    });
  });
});
