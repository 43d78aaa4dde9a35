/**
 * The durableClient binding data (protocol doc §6.1) and the Durable HTTP API routes the
 * durable-functions client calls (§6.2), served under both `/runtime/webhooks/durabletask/` and
 * the rpc base `/durabletask/`. Status payloads follow StatusResponsePayload.cs (§6.3).
 */
import { randomUUID } from 'node:crypto';
import { ConflictError, type DurableEngine, type DurableFunctionInvoker } from './engine';
import { PayloadTooLargeError } from './limits';
import { EventType, isRuntimeStatus, isTerminal, parseJsonText, type HistoryEvent } from './protocol';
import type { InstanceRecord } from './store';

export interface DurableHttpRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: string;
}

export interface DurableHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const WEBHOOK_PREFIX = '/runtime/webhooks/durabletask';
const RPC_PREFIX = '/durabletask';
const CONNECTION = 'Storage';

/** `yyyy-MM-ddTHH:mm:ssZ`, as the extension formats status times. */
export function formatStatusTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function managementUrls(base: string, hubName: string, id: string): Record<string, string> {
  const root = `${base}${WEBHOOK_PREFIX}/instances/${id}`;
  const query = `taskHub=${hubName}&connection=${CONNECTION}`;
  return {
    id,
    statusQueryGetUri: `${root}?${query}`,
    sendEventPostUri: `${root}/raiseEvent/{eventName}?${query}`,
    terminatePostUri: `${root}/terminate?reason={text}&${query}`,
    rewindPostUri: `${root}/rewind?reason={text}&${query}`,
    purgeHistoryDeleteUri: `${root}?${query}`,
    restartPostUri: `${root}/restart?${query}`,
    suspendPostUri: `${root}/suspend?reason={text}&${query}`,
    resumePostUri: `${root}/resume?reason={text}&${query}`,
  };
}

/** The JSON the `durableClient` input binding carries (what `df.getClient` parses). */
export function clientBindingData(hubName: string, base: string): string {
  const orchestrators = `${base}${WEBHOOK_PREFIX}/orchestrators/{functionName}[/{instanceId}]`;
  return JSON.stringify({
    taskHubName: hubName,
    creationUrls: {
      createNewInstancePostUri: orchestrators,
      createAndWaitOnNewInstancePostUri: `${orchestrators}?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}`,
    },
    managementUrls: managementUrls(base, hubName, 'INSTANCEID'),
    baseUrl: `${base}${WEBHOOK_PREFIX}`,
    requiredQueryStringParameters: '',
    rpcBaseUrl: `${base}${RPC_PREFIX}/`,
  });
}

export interface StatusOptions {
  showInput?: boolean;
  history?: readonly HistoryEvent[];
  showHistoryOutput?: boolean;
}

/** §6.3: `input` and `output` are always present (the JS client rejects a payload without them). */
export function statusPayload(record: InstanceRecord, options: StatusOptions = {}): Record<string, unknown> {
  const payload: Record<string, unknown> = {
    name: record.name,
    instanceId: record.instanceId,
    runtimeStatus: record.runtimeStatus,
    input: options.showInput === false ? null : parseJsonText(record.input),
    customStatus: parseJsonText(record.customStatus),
    output: parseJsonText(record.output),
    createdTime: formatStatusTime(record.createdTime),
    lastUpdatedTime: formatStatusTime(record.lastUpdatedTime),
  };
  if (options.history) {
    payload.historyEvents = summarizeHistory(options.history, options.showInput !== false, options.showHistoryOutput);
  }
  return payload;
}

const HIDDEN_IN_HISTORY = new Set([
  EventType.OrchestratorStarted,
  EventType.OrchestratorCompleted,
  EventType.TaskScheduled,
  EventType.SubOrchestrationInstanceCreated,
  EventType.EventSent,
  EventType.GenericEvent,
]);

/** The extension's history summary: string EventType, no ids, function names on completions. */
export function summarizeHistory(
  history: readonly HistoryEvent[],
  showInput: boolean,
  showHistoryOutput = false,
): Array<Record<string, unknown>> {
  const scheduledById = new Map<number, HistoryEvent>();
  for (const event of history) {
    if (event.EventType === EventType.TaskScheduled || event.EventType === EventType.SubOrchestrationInstanceCreated) {
      scheduledById.set(event.EventId, event);
    }
  }
  return history
    .filter((event) => !HIDDEN_IN_HISTORY.has(event.EventType))
    .map((event) => {
      const { EventType: type, EventId: _id, IsPlayed: _played, Name, Result, Input, ...rest } = event;
      const summary: Record<string, unknown> = { EventType: EventType[type], ...rest };
      if (type === EventType.ExecutionStarted) {
        summary.FunctionName = Name;
        if (showInput) summary.Input = parseJsonText(Input);
      } else if (Name !== undefined) {
        summary.Name = Name;
      }
      if (type === EventType.EventRaised && showInput) summary.Input = parseJsonText(Input);
      const scheduled = event.TaskScheduledId === undefined ? undefined : scheduledById.get(event.TaskScheduledId);
      if (scheduled) {
        summary.FunctionName = scheduled.Name;
        summary.ScheduledTime = scheduled.Timestamp;
        if (showInput) summary.Input = parseJsonText(scheduled.Input);
      }
      if (showHistoryOutput && Result !== undefined) summary.Result = parseJsonText(Result);
      return summary;
    });
}

/** Instance ids the extension rejects (§6.2). */
export function instanceIdProblem(id: string): string | undefined {
  if (id.length === 0) return 'instance id must not be empty';
  if (id.length > 256) return 'instance id must be at most 256 characters';
  if (id.startsWith('@')) return "instance id must not start with '@'";
  // eslint-disable-next-line no-control-regex
  if (/[/\\#?\u0000-\u001f\u007f-\u009f]/.test(id))
    return 'instance id must not contain /, \\, #, ? or control characters';
  return undefined;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): DurableHttpResponse {
  return {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}

function problem(status: number, message: string): DurableHttpResponse {
  return json(status, { message });
}

function header(headers: Record<string, string>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

function isTrue(value: string | null): boolean {
  return value !== null && value.toLowerCase() === 'true';
}

/** Body text → JSON text for storage; '' means null input. */
function jsonBody(body: string): { ok: true; value: string | null } | { ok: false } {
  const text = body.trim();
  if (text === '') return { ok: true, value: null };
  try {
    JSON.parse(text);
    return { ok: true, value: text };
  } catch {
    return { ok: false };
  }
}

function parseTime(value: string | null): number | undefined | 'invalid' {
  if (value === null || value === '') return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : 'invalid';
}

export class DurableHttpApi {
  constructor(
    private readonly engine: DurableEngine,
    private readonly invoker: DurableFunctionInvoker,
    private readonly hubName: string,
    private readonly baseUrl: () => string,
  ) {}

  /** Answers a Durable HTTP API request, or undefined when the path is not one of ours. */
  async handle(req: DurableHttpRequest): Promise<DurableHttpResponse | undefined> {
    const path = req.url.pathname;
    const prefix = [WEBHOOK_PREFIX, RPC_PREFIX].find((p) => path === p || path.startsWith(`${p}/`));
    if (prefix === undefined) return undefined;
    let segments: string[];
    try {
      segments = path
        .slice(prefix.length + 1)
        .split('/')
        .map((s) => decodeURIComponent(s));
    } catch {
      return problem(400, 'the request path is not valid percent-encoding');
    }
    const method = req.method.toUpperCase();
    const [area, first, action, extra] = segments;
    if (area === 'orchestrators' && first) {
      if (method !== 'POST') return problem(405, 'orchestrators/{functionName} accepts POST only');
      return this.startNew(req, first, action);
    }
    if (area === 'instances') {
      if (!first) {
        if (method === 'GET') return this.list(req);
        if (method === 'DELETE') return this.purgeBy(req);
        return problem(405, 'instances/ accepts GET and DELETE');
      }
      if (action === undefined) {
        if (method === 'GET') return this.status(req, first);
        if (method === 'DELETE') return this.purge(first);
        return problem(405, 'instances/{id} accepts GET and DELETE');
      }
      if (method !== 'POST') return problem(405, `instances/{id}/${action} accepts POST only`);
      switch (action) {
        case 'raiseEvent':
          return extra ? this.raiseEvent(req, first, extra) : problem(404, 'raiseEvent needs an event name');
        case 'terminate':
          return this.terminate(req, first);
        case 'restart':
          return this.restart(req, first);
        case 'suspend':
        case 'resume':
          return this.suspendOrResume(req, first, action === 'suspend');
        case 'rewind':
          return problem(501, `${action} is not supported by the local host`);
        default:
          return problem(404, `unknown instance operation '${action}'`);
      }
    }
    if (area === 'entities') return problem(501, 'Durable entities are not supported by the local host');
    return problem(404, `no Durable HTTP API route for ${method} ${path}`);
  }

  private checkStatusResponse(record: InstanceRecord): DurableHttpResponse {
    const urls = managementUrls(this.baseUrl(), this.hubName, encodeURIComponent(record.instanceId));
    const body = { ...urls, id: record.instanceId };
    return json(202, body, { Location: urls.statusQueryGetUri ?? '', 'Retry-After': '10' });
  }

  private async startNew(req: DurableHttpRequest, functionName: string, requestedId: string | undefined) {
    if (this.invoker.kindOf(functionName) !== 'orchestration') {
      return problem(
        400,
        `The function '${functionName}' doesn't exist, is disabled, or is not an orchestrator function.`,
      );
    }
    const body = jsonBody(req.body);
    if (!body.ok) return problem(400, 'Invalid JSON content');
    const instanceId = requestedId ?? randomUUID().replace(/-/g, '');
    const idProblem = instanceIdProblem(instanceId);
    if (idProblem) return problem(400, idProblem);
    let record: InstanceRecord;
    try {
      record = await this.engine.startOrchestration(
        functionName,
        instanceId,
        body.value,
        req.url.searchParams.get('version') ?? '',
      );
    } catch (error) {
      if (error instanceof ConflictError) return problem(500, error.message);
      if (error instanceof PayloadTooLargeError) return problem(400, error.message);
      throw error;
    }
    const timeout = Number(req.url.searchParams.get('timeout'));
    const polling = req.url.searchParams.get('pollingInterval');
    if (timeout > 0 && polling !== null) {
      try {
        const finished = await this.engine.waitForFinish(instanceId, timeout * 1000);
        if (finished.runtimeStatus === 'Completed') return json(200, parseJsonText(finished.output));
        return json(200, statusPayload(finished));
      } catch {
        return this.checkStatusResponse(record);
      }
    }
    return this.checkStatusResponse(record);
  }

  private async status(req: DurableHttpRequest, instanceId: string): Promise<DurableHttpResponse> {
    const record = await this.engine.getInstance(instanceId);
    if (!record) return problem(404, `No instance with ID '${instanceId}' found.`);
    const query = req.url.searchParams;
    const showHistory = isTrue(query.get('showHistory'));
    const payload = statusPayload(record, {
      showInput: query.get('showInput') === null ? true : isTrue(query.get('showInput')),
      history: showHistory ? await this.engine.historyOf(record) : undefined,
      showHistoryOutput: isTrue(query.get('showHistoryOutput')),
    });
    if (!isTerminal(record.runtimeStatus)) {
      return json(202, payload, { Location: req.url.href, 'Retry-After': '5' });
    }
    if (record.runtimeStatus === 'Failed' && isTrue(query.get('returnInternalServerErrorOnFailure'))) {
      return json(500, payload);
    }
    return json(200, payload);
  }

  private async filtered(query: URLSearchParams): Promise<InstanceRecord[] | DurableHttpResponse> {
    const from = parseTime(query.get('createdTimeFrom'));
    const to = parseTime(query.get('createdTimeTo'));
    if (from === 'invalid') return problem(400, 'createdTimeFrom must be an ISO-8601 date');
    if (to === 'invalid') return problem(400, 'createdTimeTo must be an ISO-8601 date');
    const statuses = (query.get('runtimeStatus') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const wanted = new Set<string>();
    for (const status of statuses) {
      const match = [
        'Running',
        'Completed',
        'ContinuedAsNew',
        'Failed',
        'Canceled',
        'Terminated',
        'Pending',
        'Suspended',
      ].find((name) => name.toLowerCase() === status.toLowerCase());
      if (!match || !isRuntimeStatus(match)) return problem(400, `runtimeStatus '${status}' is not a runtime status`);
      wanted.add(match);
    }
    const prefix = query.get('instanceIdPrefix') ?? '';
    return (await this.engine.listInstances())
      .filter(
        (r) =>
          (from === undefined || r.createdTime >= from) &&
          (to === undefined || r.createdTime <= to) &&
          (wanted.size === 0 || wanted.has(r.runtimeStatus)) &&
          r.instanceId.startsWith(prefix),
      )
      .sort((a, b) => a.createdTime - b.createdTime || a.instanceId.localeCompare(b.instanceId));
  }

  private async list(req: DurableHttpRequest): Promise<DurableHttpResponse> {
    const query = req.url.searchParams;
    const records = await this.filtered(query);
    if (!Array.isArray(records)) return records;
    const showInput = query.get('showInput') === null ? true : isTrue(query.get('showInput'));
    const top = Number(query.get('top') ?? '0');
    const offset = Number(header(req.headers, 'x-ms-continuation-token') ?? '0') || 0;
    const page = top > 0 ? records.slice(offset, offset + top) : records.slice(offset);
    const headers: Record<string, string> = {};
    if (top > 0 && offset + top < records.length) headers['x-ms-continuation-token'] = String(offset + top);
    return json(
      200,
      page.map((r) => statusPayload(r, { showInput })),
      headers,
    );
  }

  private async purge(instanceId: string): Promise<DurableHttpResponse> {
    const deleted = await this.engine.purge(instanceId);
    if (!deleted) return problem(404, `No instance with ID '${instanceId}' found.`);
    return json(200, { instancesDeleted: 1 });
  }

  private async purgeBy(req: DurableHttpRequest): Promise<DurableHttpResponse> {
    if (!req.url.searchParams.get('createdTimeFrom'))
      return problem(400, 'createdTimeFrom is required to purge by filter');
    const records = await this.filtered(req.url.searchParams);
    if (!Array.isArray(records)) return records;
    let deleted = 0;
    for (const record of records) if (await this.engine.purge(record.instanceId)) deleted++;
    if (deleted === 0) return problem(404, 'no instance matched the filter');
    return json(200, { instancesDeleted: deleted });
  }

  private async raiseEvent(req: DurableHttpRequest, instanceId: string, eventName: string) {
    const record = await this.engine.getInstance(instanceId);
    if (!record) return problem(404, `No instance with ID '${instanceId}' found.`);
    if (isTerminal(record.runtimeStatus)) {
      return problem(410, `instance '${instanceId}' is ${record.runtimeStatus} and takes no more events`);
    }
    const contentType = header(req.headers, 'content-type') ?? '';
    if (!contentType.toLowerCase().includes('application/json')) {
      return problem(400, 'raiseEvent needs Content-Type: application/json');
    }
    const body = jsonBody(req.body);
    if (!body.ok) return problem(400, 'Invalid JSON content');
    try {
      await this.engine.raiseEvent(record, eventName, body.value);
    } catch (error) {
      if (error instanceof PayloadTooLargeError) return problem(400, error.message);
      throw error;
    }
    return { status: 202, headers: {}, body: '' };
  }

  private async terminate(req: DurableHttpRequest, instanceId: string): Promise<DurableHttpResponse> {
    const record = await this.engine.getInstance(instanceId);
    if (!record) return problem(404, `No instance with ID '${instanceId}' found.`);
    if (isTerminal(record.runtimeStatus)) {
      return problem(410, `instance '${instanceId}' is already ${record.runtimeStatus}`);
    }
    await this.engine.terminate(record, req.url.searchParams.get('reason') ?? '');
    return { status: 202, headers: {}, body: '' };
  }

  private async suspendOrResume(req: DurableHttpRequest, instanceId: string, suspend: boolean) {
    const record = await this.engine.getInstance(instanceId);
    if (!record) return problem(404, `No instance with ID '${instanceId}' found.`);
    if (isTerminal(record.runtimeStatus)) {
      return problem(410, `instance '${instanceId}' is already ${record.runtimeStatus}`);
    }
    await this.engine.suspendOrResume(record, suspend, req.url.searchParams.get('reason') ?? '');
    return { status: 202, headers: {}, body: '' };
  }

  private async restart(req: DurableHttpRequest, instanceId: string): Promise<DurableHttpResponse> {
    const record = await this.engine.getInstance(instanceId);
    if (!record) return problem(404, `No instance with ID '${instanceId}' found.`);
    const newId = req.url.searchParams.get('restartWithNewInstanceId')?.toLowerCase() !== 'false';
    try {
      const started = await this.engine.startOrchestration(
        record.name,
        newId ? randomUUID().replace(/-/g, '') : instanceId,
        record.input,
        record.version,
      );
      return this.checkStatusResponse(started);
    } catch (error) {
      if (error instanceof ConflictError) return problem(500, error.message);
      throw error;
    }
  }
}
