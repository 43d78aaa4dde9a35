import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../../local/stack';
import { policyBody } from '../../helpers/e2e';

/**
 * The policies API over the local host (HTTP trigger → RpoPolicies in Azurite): every bad input is a clear
 * 400/404/409/412 naming the field and the rule, and stores or starts nothing.
 */

interface Problem {
  readonly error: { code: string; message: string; details?: { field: string; rule: string }[] };
}

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ start: '2026-03-02T07:00:00Z' });
}, 120_000);
afterAll(async () => {
  await stack.stop();
});

const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  stack.host.invokeHttp(method, path, body, headers);

async function storedNames(): Promise<string[]> {
  const response = await call('GET', '/api/policies');
  expect(response.status).toBe(200);
  const value = response.json<{ value?: { name: string }[] } | { name: string }[]>();
  return (Array.isArray(value) ? value : (value.value ?? [])).map((p) => p.name).sort();
}

describe('the policies API', () => {
  it('creates with 201, reads with its ETag, replaces with 200 and deletes with 204', async () => {
    const created = await call('PUT', '/api/policies/alpha', policyBody('alpha'));
    expect(created.status, created.body).toBe(201);
    const read = await call('GET', '/api/policies/alpha');
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBeTruthy();
    const replaced = await call('PUT', '/api/policies/alpha', policyBody('alpha', { enabled: false }), {
      'if-match': String(read.headers.get('etag')),
    });
    expect(replaced.status, replaced.body).toBe(200);
    expect(await storedNames()).toContain('alpha');
    const deleted = await call('DELETE', '/api/policies/alpha');
    expect(deleted.status).toBe(204);
    expect(await storedNames()).not.toContain('alpha');
  });

  const bad: [string, Record<string, unknown>, string][] = [
    [
      'a schedule under Azure minimum interval',
      { consistencyMode: 'ApplicationConsistent', schedule: { everyHours: 1 } },
      'schedule',
    ],
    ['an unknown consistency mode', { consistencyMode: 'Sometimes' }, 'consistencyMode'],
    ['a retention count over the 500-point cap', { retention: { count: 501 } }, 'retention'],
    ['a malformed subscription id', { scope: { subscriptionIds: ['not-a-guid'] } }, 'scope'],
    ['a body whose name differs from the URL', { name: 'other' }, 'name'],
  ];
  for (const [label, override, field] of bad) {
    it(`refuses ${label} with a 400 naming ${field}, and stores nothing`, async () => {
      const response = await call('PUT', '/api/policies/bad-one', { ...policyBody('bad-one'), ...override });
      expect(response.status, response.body).toBe(400);
      const problem = response.json<Problem>();
      expect(problem.error.code).toBe('ValidationFailed');
      expect(
        problem.error.details?.some((d) => d.field.startsWith(field) && d.rule.length > 0),
        response.body,
      ).toBe(true);
      expect(await storedNames()).not.toContain('bad-one');
      expect(await stack.stores.policies.get('bad-one')).toBeUndefined();
    });
  }

  it('refuses a body that is not JSON with a 400', async () => {
    const response = await call('PUT', '/api/policies/bad-json', '{ not json', { 'content-type': 'application/json' });
    expect(response.status, response.body).toBe(400);
    expect(await stack.stores.policies.get('bad-json')).toBeUndefined();
  });

  it('answers 404 for a policy that does not exist, on GET and DELETE', async () => {
    expect((await call('GET', '/api/policies/nobody')).status).toBe(404);
    const deleted = await call('DELETE', '/api/policies/nobody');
    expect(deleted.status).toBe(404);
    expect(deleted.json<Problem>().error.code).toBe('PolicyNotFound');
  });

  it('keeps the stored version on a stale If-Match (412) and on a create-only PUT of an existing name (409)', async () => {
    expect((await call('PUT', '/api/policies/beta', policyBody('beta'))).status).toBe(201);
    const stale = await call('PUT', '/api/policies/beta', policyBody('beta', { enabled: false }), {
      'if-match': 'W/"datetime\'2000-01-01T00%3A00%3A00.000Z\'"',
    });
    expect(stale.status, stale.body).toBe(412);
    const exists = await call('PUT', '/api/policies/beta', policyBody('beta', { enabled: false }), {
      'if-none-match': '*',
    });
    expect(exists.status, exists.body).toBe(409);
    const stored = await stack.stores.policies.get('beta');
    expect(stored?.policy.enabled).toBe(true);
  });
});
