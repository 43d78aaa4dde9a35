import { ComputeManagementClient } from '@azure/arm-compute';
import type { TokenCredential } from '@azure/core-auth';
import {
  createHttpHeaders,
  type HttpClient,
  type PipelineRequest,
  type PipelineResponse,
  RestError,
} from '@azure/core-rest-pipeline';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  classifyArmResponse,
  classifyError,
  DEFAULT_RETRY_AFTER_SECONDS,
  errorCodeAndMessage,
  retryAfterSeconds,
} from '../../lib/armErrors';

const cloudError = (code: string, message: string) => JSON.stringify({ error: { code, message } });
const sasUrl =
  'https://md-abc.blob.core.windows.net/xyz/abcd?sv=2018-03-28&sr=b&si=1&sig=AbCdEf%2BGh%3D&se=2026-01-01T00%3A00%3A00Z';
const jwt = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQuYXp1cmUuY29tIn0.c2lnbmF0dXJl';

/** The documented restore point error codes (azure-api.md §5) and what RPO does about each. */
const documentedCodes: ReadonlyArray<[number, string, string, 'transient' | 'permanent' | 'notFound']> = [
  [
    409,
    'DiskRestorePointUsedByCustomer',
    'There is an active shared access signature outstanding for disk restore point. Call EndGetAccess before deleting the restore point.',
    'permanent',
  ],
  [
    409,
    'OperationNotAllowed',
    "Changes were made to the Virtual Machine while the operation 'Create Restore Point' was in progress. Operation Create Restore Point cannot be completed at this time. Please try again later.",
    'transient',
  ],
  [
    409,
    'OperationNotAllowed',
    "Operation 'Create Restore Point' is not allowed as disk(s) have not been allocated successfully. Please exclude these disk(s) using excludeDisks property and retry.",
    'permanent',
  ],
  [
    400,
    'VMRestorePointClientError',
    'Creation of Restore Point of a Virtual Machine with Shared disks is not supported. You may exclude this disk from the restore point via excludeDisks property.',
    'permanent',
  ],
  [
    409,
    'VMRestorePointClientError',
    "RestorePoint creation failed since a concurrent 'Create RestorePoint' operation was triggered on the VM.",
    'transient',
  ],
  [
    400,
    'VMRestorePointClientError',
    'Restore Point creation failed as the maximum allowed snapshot limit of one or more disk blobs has been reached. Please delete some existing restore points of this VM and then retry.',
    'permanent',
  ],
  [
    400,
    'VMRestorePointClientError',
    'Restore Point creation failed due to VSS Writers in bad state. Restart VSS Writer services and reboot VM.',
    'permanent',
  ],
  [
    500,
    'VMRestorePointInternalError',
    'Restore Point creation failed due to an internal execution error while creating VM snapshot. Please retry the operation after some time.',
    'transient',
  ],
  [400, 'VMAgentStatusCommunicationError', 'VM has not reported status for VM agent or extensions.', 'permanent'],
  [
    400,
    'DiskRestorePointClientError',
    'Keyvault associated with DiskEncryptionSet not found. The resource may have been deleted due to which Restore Point creation failed.',
    'permanent',
  ],
  [400, 'BadRequest', "This request can be made with api-version '2022-03-01' or newer.", 'permanent'],
  [500, 'InternalError', 'An internal execution error occurred. Please retry later.', 'transient'],
  [500, 'InternalExecutionError', 'An internal execution error occurred. Please retry later.', 'transient'],
  [500, 'InternalOperationError', 'An internal execution error occurred. Please retry later.', 'transient'],
  [500, 'InternalDiskRestorePointError', 'An internal execution error occurred. Please retry later.', 'transient'],
  [
    400,
    'OSProvisioningClientError',
    'OS Provisioning did not finish in the allotted time. This error occurred too many times consecutively from image.',
    'permanent',
  ],
  [409, 'AllocationFailed', 'Allocation failed. The cluster is out of capacity.', 'transient'],
  [404, 'ResourceNotFound', "The Resource 'Microsoft.Compute/virtualMachines/vm1' was not found.", 'notFound'],
  [404, 'NotFound', 'The entity was not found.', 'notFound'],
  [404, 'ParentResourceNotFound', 'Can not perform requested operation on nested resource.', 'notFound'],
  [409, 'Conflict', 'Another operation is in progress.', 'transient'],
  [403, 'AuthorizationFailed', 'The client does not have authorization to perform action.', 'permanent'],
  [429, 'RetryableErrorDueToAnotherOperation', 'Operation is in progress, retry later.', 'transient'],
];

describe('classifyArmResponse', () => {
  it.each(documentedCodes)('classifies %i %s as documented', (status, code, message, kind) => {
    const result = classifyArmResponse({ status, body: cloudError(code, message) });
    expect(result).toMatchObject({ kind, code, status });
    expect(result.message).toBe(message);
  });

  it('reads an ARM 429 with Retry-After seconds and the subscription write bucket at zero', () => {
    const result = classifyArmResponse({
      status: 429,
      headers: { 'Retry-After': '17', 'x-ms-ratelimit-remaining-subscription-writes': '0' },
      body: cloudError(
        'SubscriptionRequestsThrottled',
        "The request for subscription 'x' could not be processed due to an excessive volume of traffic. Please try again later.",
      ),
    });
    expect(result).toMatchObject({
      kind: 'throttled',
      retryAfterSeconds: 17,
      source: 'arm',
      code: 'SubscriptionRequestsThrottled',
    });
  });

  it('reads the documented Compute 429 (unwrapped body, TooManyRequests detail, repeated policy headers)', () => {
    const result = classifyArmResponse({
      status: 429,
      headers: createHttpHeaders({
        'x-ms-ratelimit-remaining-resource':
          'Microsoft.Compute/HighCostGet3Min;46, Microsoft.Compute/HighCostGet30Min;0',
        'retry-after': '1200',
      }),
      body: JSON.stringify({
        code: 'OperationNotAllowed',
        message: 'The server rejected the request because too many requests have been received for this subscription.',
        details: [
          {
            code: 'TooManyRequests',
            target: 'HighCostGet30Min',
            message: '{"operationGroup":"HighCostGet30Min","allowedRequestCount":800,"measuredRequestCount":1238}',
          },
        ],
      }),
    });
    expect(result).toEqual({
      kind: 'throttled',
      status: 429,
      retryAfterSeconds: 1200,
      source: 'compute',
      policy: 'HighCostGet30Min',
      code: 'OperationNotAllowed',
      message: 'The server rejected the request because too many requests have been received for this subscription.',
    });
  });

  it('names the exhausted Compute policy from the headers when the body has no detail', () => {
    const result = classifyArmResponse({
      status: 429,
      headers: {
        'x-ms-ratelimit-remaining-resource': 'Microsoft.Compute/PutRestorePointResource;0',
        'retry-after': '3600',
      },
    });
    expect(result).toMatchObject({
      kind: 'throttled',
      source: 'compute',
      policy: 'PutRestorePointResource',
      retryAfterSeconds: 3600,
    });
  });

  it('turns an HTTP-date Retry-After into seconds from now', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const result = classifyArmResponse(
      { status: 429, headers: { 'retry-after': 'Thu, 01 Jan 2026 00:02:00 GMT' } },
      { now },
    );
    expect(result).toMatchObject({
      kind: 'throttled',
      retryAfterSeconds: 120,
      source: 'unknown',
      code: 'TooManyRequests',
    });
  });

  it('waits the default when a 429 has no usable Retry-After', () => {
    expect(classifyArmResponse({ status: 429 })).toMatchObject({ retryAfterSeconds: DEFAULT_RETRY_AFTER_SECONDS });
    expect(classifyArmResponse({ status: 429, headers: { 'retry-after': 'soon' } })).toMatchObject({
      retryAfterSeconds: DEFAULT_RETRY_AFTER_SECONDS,
    });
    expect(classifyArmResponse({ status: 429 }, { defaultRetryAfterSeconds: 5 })).toMatchObject({
      retryAfterSeconds: 5,
    });
  });

  it('never asks to wait less than a second after a throttle, even for a date in the past', () => {
    const result = classifyArmResponse(
      { status: 429, headers: { 'retry-after': 'Thu, 01 Jan 2026 00:00:00 GMT' } },
      { now: Date.parse('2026-06-01T00:00:00Z') },
    );
    expect(result).toMatchObject({ kind: 'throttled', retryAfterSeconds: 1 });
  });

  it.each([500, 502, 503, 504, 408])('treats HTTP %i without a known code as transient', (status) => {
    expect(classifyArmResponse({ status, headers: { 'Retry-After': '10' } })).toMatchObject({
      kind: 'transient',
      retryAfterSeconds: 10,
    });
  });

  it('treats 501 Not Implemented as permanent', () => {
    expect(classifyArmResponse({ status: 501, body: cloudError('NotImplemented', 'nope') }).kind).toBe('permanent');
  });

  it.each([
    [501, 'NotImplemented'],
    [505, 'HttpVersionNotSupported'],
  ])('treats HTTP %i without an error body as permanent, with code %s', (status, code) => {
    expect(classifyArmResponse({ status })).toEqual({ kind: 'permanent', status, code, message: `HTTP ${status}` });
    expect(classifyArmResponse({ status, body: '' })).toMatchObject({ kind: 'permanent', code });
    expect(classifyArmResponse({ status, body: { error: { message: 'no code here' } } })).toMatchObject({
      kind: 'permanent',
      code,
      message: 'no code here',
    });
  });

  it('treats every 501 and 505 as permanent, whatever body, code and headers come with it', () => {
    const code = fc.oneof(
      fc.constantFrom('InternalServerError', 'InternalError', 'ServiceUnavailable', 'RetryableError', 'Conflict'),
      fc.constantFrom('OperationNotAllowed', 'VMRestorePointClientError', 'NotImplemented', 'TooManyRequests'),
      fc.string(),
    );
    const message = fc.oneof(fc.constant('Please try again later (concurrent operation)'), fc.string());
    const body = fc.oneof(
      fc.constant(undefined),
      fc.string(),
      fc.constant({}),
      message.map((m) => ({ error: { message: m } })),
      fc.tuple(code, message).map(([c, m]) => ({ error: { code: c, message: m } })),
      fc.tuple(code, message).map(([c, m]) => cloudError(c, m)),
      fc.tuple(code, message).map(([c, m]) => ({ code: c, message: m })),
    );
    const headers = fc.option(fc.record({ 'Retry-After': fc.nat({ max: 3600 }).map(String) }), { nil: undefined });
    fc.assert(
      fc.property(fc.constantFrom(501, 505), body, headers, (status, b, h) => {
        expect(classifyArmResponse({ status, body: b, headers: h }).kind).toBe('permanent');
      }),
    );
  });

  it('treats a 400 with an unknown code as permanent and keeps code and message', () => {
    expect(
      classifyArmResponse({ status: 400, body: { error: { code: 'InvalidThing', message: 'bad', details: [] } } }),
    ).toEqual({
      kind: 'permanent',
      status: 400,
      code: 'InvalidThing',
      message: 'bad',
    });
  });

  it('treats a 404 without a body as notFound', () => {
    expect(classifyArmResponse({ status: 404 })).toMatchObject({ kind: 'notFound', code: 'NotFound' });
  });

  it('copes with a body that is not JSON (a gateway HTML page)', () => {
    const result = classifyArmResponse({ status: 502, body: '<html><body><h1>502 Bad Gateway</h1></body></html>' });
    expect(result).toMatchObject({ kind: 'transient', code: 'InternalServerError', message: '502 Bad Gateway' });
    expect(classifyArmResponse({ status: 400, body: '{not json' })).toMatchObject({
      kind: 'permanent',
      message: '{not json',
    });
  });

  it('refuses a status that is not an error', () => {
    expect(() => classifyArmResponse({ status: 200 })).toThrow(/response\.status must be an HTTP error status/);
  });

  it('never returns a SAS signature or a bearer token in a message', () => {
    const result = classifyArmResponse({
      status: 400,
      body: cloudError('BadRequest', `Cannot use ${sasUrl} with Authorization: Bearer ${jwt}`),
    });
    expect(result.message).not.toMatch(/sig=|AbCdEf|eyJ/);
    expect(result.message).toContain('https://md-abc.blob.core.windows.net/xyz/abcd?<redacted>');
  });
});

describe('retryAfterSeconds', () => {
  it('prefers the millisecond headers, rounding up', () => {
    expect(retryAfterSeconds({ 'retry-after-ms': '1500', 'retry-after': '99' })).toBe(2);
    expect(retryAfterSeconds({ 'x-ms-retry-after-ms': '10' })).toBe(1);
  });

  it('caps absurd values at a day', () => {
    expect(retryAfterSeconds({ 'retry-after': '99999999' })).toBe(86400);
  });

  it('is undefined without the header', () => {
    expect(retryAfterSeconds({})).toBeUndefined();
    expect(retryAfterSeconds(undefined)).toBeUndefined();
  });
});

describe('classifyError', () => {
  it('classifies a core-rest-pipeline RestError from its status, headers and raw body', () => {
    const error = new RestError('throttled', {
      statusCode: 429,
      response: {
        status: 429,
        headers: createHttpHeaders({ 'Retry-After': '30', 'x-ms-ratelimit-remaining-subscription-reads': '0' }),
        bodyAsText: cloudError('TooManyRequests', 'too many'),
        request: undefined as unknown as PipelineRequest,
      },
    });
    expect(classifyError(error)).toMatchObject({ kind: 'throttled', retryAfterSeconds: 30, source: 'arm' });
  });

  it.each([501, 505])('treats a RestError with status %i and no body as permanent', (status) => {
    const withoutResponse = new RestError('Not Implemented', { statusCode: status });
    expect(classifyError(withoutResponse)).toMatchObject({ kind: 'permanent', status });
    const emptyBody = new RestError('Not Implemented', {
      statusCode: status,
      response: {
        status,
        headers: createHttpHeaders({ 'Retry-After': '5' }),
        bodyAsText: '',
        request: undefined as unknown as PipelineRequest,
      },
    });
    expect(classifyError(emptyBody)).toMatchObject({ kind: 'permanent', status });
    const noBodyAsText = new RestError('Not Implemented', {
      statusCode: status,
      response: {
        status,
        headers: createHttpHeaders(),
        request: undefined as unknown as PipelineRequest,
      },
    });
    expect(classifyError(noBodyAsText)).toMatchObject({ kind: 'permanent', status });
  });

  it.each(['ECONNRESET', 'ETIMEDOUT', 'ECONNREFUSED', 'EAI_AGAIN'])(
    'treats a %s network error as transient',
    (code) => {
      const error = Object.assign(new Error(`connect ${code} 10.0.0.1:443`), { code });
      expect(classifyError(error)).toMatchObject({ kind: 'transient', code, status: undefined });
    },
  );

  it('treats a RestError without a response (REQUEST_SEND_ERROR) as transient', () => {
    expect(classifyError(new RestError('socket hang up', { code: RestError.REQUEST_SEND_ERROR }))).toMatchObject({
      kind: 'transient',
    });
  });

  it('finds the socket error inside a fetch failure', () => {
    const error = new TypeError('fetch failed', {
      cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
    });
    expect(classifyError(error)).toMatchObject({ kind: 'transient', code: 'ECONNRESET' });
  });

  it('classifies the error core-lro throws when the operation ends Failed by its code', () => {
    const failed = new Error(
      'The long-running operation has failed. VMRestorePointInternalError. Restore Point creation failed due to an internal execution error.',
    );
    expect(classifyError(failed)).toMatchObject({ kind: 'transient', code: 'VMRestorePointInternalError' });
    const agent = new Error(
      'The long-running operation has failed. VMAgentStatusCommunicationError. VM has not reported status.',
    );
    expect(classifyError(agent)).toMatchObject({ kind: 'permanent', code: 'VMAgentStatusCommunicationError' });
  });

  it('treats anything else as permanent, with a redacted message', () => {
    expect(classifyError(new Error(`boom at ${sasUrl}`))).toMatchObject({ kind: 'permanent', code: 'UnknownError' });
    expect(classifyError(new Error(`boom at ${sasUrl}`)).message).not.toContain('sig=');
    expect(classifyError('just a string')).toMatchObject({ kind: 'permanent', message: 'just a string' });
  });
});

/** The SDK itself, with the transport swapped for canned answers: the errors are the ones arm-compute really throws. */
describe('classifyError with @azure/arm-compute', () => {
  const credential: TokenCredential = {
    getToken: () => Promise.resolve({ token: 'test-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
  };
  const subscription = '00000000-0000-0000-0000-000000000001';

  function clientAnswering(
    answers: ReadonlyArray<{ status: number; headers?: Record<string, string>; body?: unknown }>,
  ) {
    let call = 0;
    const httpClient: HttpClient = {
      sendRequest: (request: PipelineRequest): Promise<PipelineResponse> => {
        const answer = answers[Math.min(call++, answers.length - 1)]!;
        return Promise.resolve({
          request,
          status: answer.status,
          headers: createHttpHeaders({ 'content-type': 'application/json', ...answer.headers }),
          bodyAsText: answer.body === undefined ? '' : JSON.stringify(answer.body),
        });
      },
    };
    return new ComputeManagementClient(credential, subscription, { httpClient, retryOptions: { maxRetries: 0 } });
  }

  it('classifies a Compute 429 thrown by a GET', async () => {
    const client = clientAnswering([
      {
        status: 429,
        headers: {
          'retry-after': '1200',
          'x-ms-ratelimit-remaining-resource': 'Microsoft.Compute/LowCostGetResource;0',
        },
        body: {
          code: 'OperationNotAllowed',
          message: 'too many requests',
          details: [{ code: 'TooManyRequests', target: 'LowCostGet3Min' }],
        },
      },
    ]);
    const error: unknown = await client.virtualMachines.get('rg', 'vm1').catch((e: unknown) => e);
    expect(classifyError(error)).toMatchObject({ kind: 'throttled', retryAfterSeconds: 1200, source: 'compute' });
  });

  it('classifies a 404 ResourceNotFound thrown by a GET', async () => {
    const client = clientAnswering([
      { status: 404, body: { error: { code: 'ResourceNotFound', message: 'not found' } } },
    ]);
    const error: unknown = await client.disks.get('rg', 'd1').catch((e: unknown) => e);
    expect(classifyError(error)).toMatchObject({ kind: 'notFound', code: 'ResourceNotFound', status: 404 });
  });

  it('classifies a restore point creation that ends Failed on the VM agent', async () => {
    const operation =
      'https://management.azure.com/subscriptions/x/providers/Microsoft.Compute/locations/westeurope/operations/op1?p=1&api-version=2026-04-01';
    const client = clientAnswering([
      {
        status: 201,
        headers: { 'azure-asyncoperation': operation },
        body: { properties: { provisioningState: 'Creating' } },
      },
      {
        status: 200,
        body: {
          status: 'Failed',
          error: {
            code: 'VMAgentStatusCommunicationError',
            message: 'VM has not reported status for VM agent or extensions.',
          },
        },
      },
    ]);
    const error: unknown = await client.restorePoints.create('rg', 'rpc', 'rp1', {}, { updateIntervalInMs: 0 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(classifyError(error)).toMatchObject({ kind: 'permanent', code: 'VMAgentStatusCommunicationError' });
    expect(errorCodeAndMessage(error).message).toBe('VM has not reported status for VM agent or extensions.');
  });

  it('classifies a 409 concurrent creation thrown by the initial PUT as transient', async () => {
    const client = clientAnswering([
      {
        status: 409,
        body: {
          error: {
            code: 'VMRestorePointClientError',
            message:
              "RestorePoint creation failed since a concurrent 'Create RestorePoint' operation was triggered on the VM.",
          },
        },
      },
    ]);
    const error: unknown = await client.restorePoints.create('rg', 'rpc', 'rp1', {}, { updateIntervalInMs: 0 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(classifyError(error)).toMatchObject({ kind: 'transient', code: 'VMRestorePointClientError', status: 409 });
  });
});

describe('errorCodeAndMessage', () => {
  it('reads CloudError bodies, unwrapped bodies and JSON text', () => {
    expect(errorCodeAndMessage({ error: { code: 'A', message: 'a' } })).toEqual({ code: 'A', message: 'a' });
    expect(errorCodeAndMessage({ code: 'B', message: 'b' })).toEqual({ code: 'B', message: 'b' });
    expect(errorCodeAndMessage(cloudError('C', 'c'))).toEqual({ code: 'C', message: 'c' });
    expect(errorCodeAndMessage(undefined)).toEqual({ code: undefined, message: undefined });
  });
});
