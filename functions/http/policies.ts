import { app, type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { appStores } from '../../lib/azure/stores';
import { assertPolicyName } from '../../lib/naming';
import { parsePolicy, type Policy } from '../../lib/policy';
import { PolicyConflictError, type StoredPolicy } from '../../lib/tables/policyStore';
import { ValidationError } from '../../lib/validation';
import { fromError, json, problem, readJson, validationProblem } from './responses';

/**
 * `GET /api/policies`, `GET|PUT|DELETE /api/policies/{name}` over RpoPolicies (DESIGN §4). Updates are
 * ETag-safe: `If-Match: <etag>` replaces only that version (412 otherwise), `If-None-Match: *` only creates
 * (409 if it exists). A bad policy is a 400 listing every field and rule, and nothing is stored.
 */

function view(stored: StoredPolicy<Policy>): Record<string, unknown> {
  return { ...stored.policy, enabled: stored.enabled, updatedAt: stored.updatedAt, etag: stored.etag };
}

function routeName(request: HttpRequest): string {
  const name = request.params.name;
  assertPolicyName(name, 'name');
  return name;
}

async function listPolicies(): Promise<HttpResponseInit> {
  try {
    const stores = await appStores<Policy>();
    return json(200, { value: (await stores.policies.list()).map(view) });
  } catch (error) {
    return fromError(error);
  }
}

async function getPolicy(request: HttpRequest): Promise<HttpResponseInit> {
  try {
    const name = routeName(request);
    const stores = await appStores<Policy>();
    const stored = await stores.policies.get(name);
    if (stored === undefined) return problem(404, 'PolicyNotFound', `policy ${name} does not exist`);
    return json(200, view(stored), { etag: stored.etag });
  } catch (error) {
    return fromError(error);
  }
}

async function putPolicy(request: HttpRequest): Promise<HttpResponseInit> {
  try {
    const name = routeName(request);
    const body = await readJson(request);
    if (!body.ok) return body.response;
    const value = body.value;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const given = (value as { name?: unknown }).name;
      if (given !== undefined && given !== name) {
        throw new ValidationError('policy', [
          {
            field: 'name',
            rule: 'route-mismatch',
            message: `is ${JSON.stringify(given)} but the URL names policy "${name}"`,
          },
        ]);
      }
    }
    const policy = parsePolicy(
      typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...value, name } : value,
    );
    const ifMatch = request.headers.get('if-match') ?? undefined;
    const createOnly = request.headers.get('if-none-match')?.trim() === '*';
    const stores = await appStores<Policy>();
    const existed =
      ifMatch === undefined && !createOnly ? (await stores.policies.get(name)) !== undefined : ifMatch !== undefined;
    const stored = await stores.policies.upsert(policy, {
      ...(ifMatch !== undefined && ifMatch !== '*' ? { ifMatch } : {}),
      ...(createOnly ? { createOnly: true } : {}),
    });
    return json(existed ? 200 : 201, view(stored), { etag: stored.etag });
  } catch (error) {
    if (error instanceof PolicyConflictError) {
      return error.reason === 'exists'
        ? problem(409, 'PolicyExists', error.message)
        : problem(412, 'PreconditionFailed', error.message);
    }
    if (error instanceof ValidationError) return validationProblem(error);
    return fromError(error);
  }
}

async function deletePolicy(request: HttpRequest): Promise<HttpResponseInit> {
  try {
    const name = routeName(request);
    const ifMatch = request.headers.get('if-match') ?? undefined;
    const stores = await appStores<Policy>();
    const deleted = await stores.policies.delete(name, ifMatch !== undefined && ifMatch !== '*' ? { ifMatch } : {});
    if (!deleted) return problem(404, 'PolicyNotFound', `policy ${name} does not exist`);
    return { status: 204 };
  } catch (error) {
    if (error instanceof PolicyConflictError) return problem(412, 'PreconditionFailed', error.message);
    return fromError(error);
  }
}

app.http('listPolicies', { route: 'policies', methods: ['GET'], authLevel: 'function', handler: listPolicies });
app.http('getPolicy', { route: 'policies/{name}', methods: ['GET'], authLevel: 'function', handler: getPolicy });
app.http('putPolicy', { route: 'policies/{name}', methods: ['PUT'], authLevel: 'function', handler: putPolicy });
app.http('deletePolicy', {
  route: 'policies/{name}',
  methods: ['DELETE'],
  authLevel: 'function',
  handler: deletePolicy,
});
