import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../local/clock';
import { createDurableRuntime, createMemoryStore, type DurableRuntime } from '../../../../local/host/durable';
import { formatStatusTime, instanceIdProblem } from '../../../../local/host/durable/httpApi';
import { fixtureApp } from './harness';

let server: Server;
let runtime: DurableRuntime;
let base: string;

/** The real durable-functions client, built from our binding data exactly as `df.getClient` does in a function. */
function realClient(): df.DurableClient {
  const input = df.input.durableClient();
  const context = new InvocationContext({ options: { extraInputs: [input] } });
  context.extraInputs.set(input, JSON.parse(runtime.clientBindingData()));
  return df.getClient(context);
}

async function call(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${base}${path}`, { method, body, headers });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as unknown) : undefined };
}

beforeAll(async () => {
  const app = await fixtureApp();
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [key, value] of Object.entries(req.headers)) if (typeof value === 'string') headers[key] = value;
      runtime
        .handleHttp({
          method: req.method ?? 'GET',
          url: new URL(req.url ?? '/', base),
          headers,
          body: Buffer.concat(chunks).toString('utf8'),
        })
        .then((response) => {
          if (!response) {
            res.writeHead(404).end();
            return;
          }
          res.writeHead(response.status, response.headers).end(response.body);
        })
        .catch((error: unknown) => res.writeHead(500).end(String(error)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  runtime = createDurableRuntime({
    store: createMemoryStore(),
    clock: new ManualClock('2026-05-01T10:00:00Z'),
    invoker: app.invoker,
    hubName: 'HttpHub',
    baseUrl: () => base,
    maxConcurrentActivityFunctions: 4,
    maxConcurrentOrchestratorFunctions: 4,
    log: () => undefined,
  });
  await runtime.start();
});

afterAll(async () => {
  await runtime.stop();
  await new Promise((resolve) => server.close(resolve));
});

describe('Durable HTTP API with the real durable-functions client', () => {
  it('gives binding data that df.getClient accepts, with rpcBaseUrl on the /durabletask/ prefix', () => {
    const data = JSON.parse(runtime.clientBindingData()) as {
      taskHubName: string;
      rpcBaseUrl: string;
      managementUrls: Record<string, string>;
      creationUrls: Record<string, string>;
    };
    expect(data.taskHubName).toBe('HttpHub');
    expect(data.rpcBaseUrl).toBe(`${base}/durabletask/`);
    expect(data.managementUrls.id).toBe('INSTANCEID');
    expect(data.managementUrls.statusQueryGetUri).toBe(
      `${base}/runtime/webhooks/durabletask/instances/INSTANCEID?taskHub=HttpHub&connection=Storage`,
    );
    expect(data.creationUrls.createNewInstancePostUri).toContain('/orchestrators/{functionName}[/{instanceId}]');
    expect(realClient().taskHubName).toBe('HttpHub');
  });

  it('starts, raises an event to, and reads the status of an instance through the client', async () => {
    const client = realClient();
    const id = await client.startNew('approval', { input: { order: 7 } });
    const running = await client.getStatus(id, { showInput: true });
    expect(running.instanceId).toBe(id);
    expect(['Pending', 'Running']).toContain(running.runtimeStatus);
    expect(running.input).toEqual({ order: 7 });
    await client.raiseEvent(id, 'approve', { ok: true });
    const status = (await runtime.waitForInstance(id)) as Record<string, unknown>;
    expect(status.output).toEqual({ ok: true });
    const done = await client.getStatus(id);
    expect(done.runtimeStatus).toBe(df.OrchestrationRuntimeStatus.Completed);
    expect(done.customStatus).toEqual({ stage: 'approved' });
  });

  it('suspends and resumes through the client; events wait while suspended', async () => {
    const client = realClient();
    const id = await client.startNew('approval', { instanceId: 'client-suspend' });
    await client.suspend(id, 'maintenance');
    for (
      let i = 0;
      i < 200 && (await client.getStatus(id)).runtimeStatus !== df.OrchestrationRuntimeStatus.Suspended;
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect((await client.getStatus(id)).runtimeStatus).toBe('Suspended');
    await client.raiseEvent(id, 'approve', 'while suspended');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await client.getStatus(id)).runtimeStatus).toBe('Suspended');
    await client.resume(id, 'done');
    expect(await runtime.waitForInstance(id)).toMatchObject({ runtimeStatus: 'Completed', output: 'while suspended' });
  });

  it('terminates and purges through the client, and lists by status', async () => {
    const client = realClient();
    const id = await client.startNew('approval', { instanceId: 'client-terminate' });
    await client.terminate(id, 'no longer needed');
    const status = (await runtime.waitForInstance(id)) as Record<string, unknown>;
    expect(status).toMatchObject({ runtimeStatus: 'Terminated', output: 'no longer needed' });
    const terminated = await client.getStatusBy({ runtimeStatus: [df.OrchestrationRuntimeStatus.Terminated] });
    expect(terminated.map((s) => s.instanceId)).toContain(id);
    expect((await client.purgeInstanceHistory(id)).instancesDeleted).toBe(1);
    expect((await client.purgeInstanceHistory(id)).instancesDeleted).toBe(0);
    await expect(client.getStatus(id)).rejects.toThrow(/404/);
  });

  it('answers waitForCompletionOrCreateCheckStatusResponse with the output once done', async () => {
    const client = realClient();
    const id = await client.startNew('helloSequence');
    await runtime.waitForInstance(id);
    const request = new (await import('@azure/functions')).HttpRequest({ url: `${base}/api/x`, method: 'GET' });
    const response = await client.waitForCompletionOrCreateCheckStatusResponse(request, id, {
      timeoutInMilliseconds: 2000,
      retryIntervalInMilliseconds: 100,
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(['Hello Tokyo', 'Hello Seattle', 'Hello London']);
  });

  it('serves the check-status URLs it hands out, on both route prefixes', async () => {
    const started = await call('POST', '/runtime/webhooks/durabletask/orchestrators/helloSequence/prefix-check', '');
    expect(started.status).toBe(202);
    expect(started.headers.get('location')).toBe(
      `${base}/runtime/webhooks/durabletask/instances/prefix-check?taskHub=HttpHub&connection=Storage`,
    );
    expect(started.headers.get('retry-after')).toBe('10');
    const body = started.body as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual(
      [
        'id',
        'purgeHistoryDeleteUri',
        'restartPostUri',
        'resumePostUri',
        'rewindPostUri',
        'sendEventPostUri',
        'statusQueryGetUri',
        'suspendPostUri',
        'terminatePostUri',
      ].sort(),
    );
    await runtime.waitForInstance('prefix-check');
    const viaWebhook = await call('GET', new URL(body.statusQueryGetUri ?? '').pathname);
    const viaRpc = await call('GET', '/durabletask/instances/prefix-check');
    expect(viaWebhook.status).toBe(200);
    expect(viaRpc.body).toEqual(viaWebhook.body);
  });

  it('formats the status payload like the extension: explicit nulls, second-precision times, summarised history', async () => {
    await call('POST', '/durabletask/orchestrators/helloSequence/payload-check', '');
    await runtime.waitForInstance('payload-check');
    const { body } = await call('GET', '/durabletask/instances/payload-check?showHistory=true&showHistoryOutput=true');
    const payload = body as Record<string, unknown> & { historyEvents: Array<Record<string, unknown>> };
    expect(payload).toMatchObject({ name: 'helloSequence', instanceId: 'payload-check', runtimeStatus: 'Completed' });
    expect(payload.input).toBeNull();
    expect(payload.customStatus).toBeNull();
    expect(payload.createdTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const types = payload.historyEvents.map((e) => e.EventType);
    expect(types).toEqual([
      'ExecutionStarted',
      'TaskCompleted',
      'TaskCompleted',
      'TaskCompleted',
      'ExecutionCompleted',
    ]);
    const completed = payload.historyEvents[1];
    expect(completed).toMatchObject({ FunctionName: 'sayHello', Result: 'Hello Tokyo' });
    expect(completed).not.toHaveProperty('EventId');
  });

  it('waits for the result when timeout and pollingInterval are given', async () => {
    const response = await call('POST', '/durabletask/orchestrators/fanOutFanIn?timeout=10&pollingInterval=1', '4');
    expect(response).toMatchObject({ status: 200, body: 20 });
  });

  it('rejects bad requests with the extension’s status codes', async () => {
    expect((await call('POST', '/durabletask/orchestrators/noSuchOrchestrator', '')).status).toBe(400);
    expect((await call('POST', '/durabletask/orchestrators/sayHello', '')).status).toBe(400);
    expect((await call('POST', '/durabletask/orchestrators/helloSequence', '{not json')).body).toEqual({
      message: 'Invalid JSON content',
    });
    expect((await call('POST', '/durabletask/orchestrators/helloSequence/%40entity', '')).status).toBe(400);
    await call('POST', '/durabletask/orchestrators/approval/busy', '');
    expect((await call('POST', '/durabletask/orchestrators/approval/busy', '')).status).toBe(500);
    expect((await call('POST', '/durabletask/instances/busy/raiseEvent/approve', '1')).status).toBe(400);
    expect((await call('GET', '/durabletask/instances/nobody')).status).toBe(404);
    expect(
      (await call('POST', '/durabletask/instances/nobody/raiseEvent/x', '1', { 'content-type': 'application/json' }))
        .status,
    ).toBe(404);
    expect((await call('DELETE', '/durabletask/instances/')).status).toBe(400);
    expect((await call('POST', '/durabletask/instances/busy/rewind?reason=x')).status).toBe(501);
    expect((await call('GET', '/durabletask/instances/?runtimeStatus=Sleeping')).status).toBe(400);
    await call('POST', '/durabletask/instances/busy/terminate?reason=cleanup');
  });

  it('restarts a finished instance with its input under a new id, and purges by creation time and status', async () => {
    await call('POST', '/durabletask/orchestrators/fanOutFanIn/restart-source', '3');
    await runtime.waitForInstance('restart-source');
    const restarted = await call('POST', '/durabletask/instances/restart-source/restart');
    expect(restarted.status).toBe(202);
    const newId = (restarted.body as { id: string }).id;
    expect(newId).not.toBe('restart-source');
    expect(await runtime.waitForInstance(newId)).toMatchObject({ input: 3, output: 12 });
    const purged = await call(
      'DELETE',
      `/durabletask/instances/?createdTimeFrom=2000-01-01T00:00:00Z&runtimeStatus=Completed`,
    );
    expect(purged.status).toBe(200);
    expect((purged.body as { instancesDeleted: number }).instancesDeleted).toBeGreaterThanOrEqual(2);
    expect((await call('GET', '/durabletask/instances/restart-source')).status).toBe(404);
  });

  it('pages instance lists with the x-ms-continuation-token header', async () => {
    for (let i = 0; i < 3; i++) await call('POST', `/durabletask/orchestrators/helloSequence/page-${i}`, '');
    const first = await call('GET', '/durabletask/instances/?instanceIdPrefix=page-&top=2');
    expect((first.body as unknown[]).length).toBe(2);
    const token = first.headers.get('x-ms-continuation-token');
    expect(token).toBeTruthy();
    const second = await call('GET', '/durabletask/instances/?instanceIdPrefix=page-&top=2', undefined, {
      'x-ms-continuation-token': token ?? '',
    });
    expect((second.body as unknown[]).length).toBe(1);
    expect(second.headers.get('x-ms-continuation-token')).toBeNull();
  });
});

describe('Durable HTTP API helpers', () => {
  it('formats status times without fractions', () => {
    expect(formatStatusTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678))).toBe('2026-01-02T03:04:05Z');
  });

  it('names the rule an invalid instance id breaks', () => {
    expect(instanceIdProblem('@counter@k')).toMatch(/'@'/);
    expect(instanceIdProblem('a/b')).toMatch(/\//);
    expect(instanceIdProblem('x'.repeat(257))).toMatch(/256/);
    expect(instanceIdProblem('abc:0')).toBeUndefined();
  });
});
