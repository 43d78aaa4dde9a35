/** The host's routes: which part of the host answers a request. */
import { InvocationError } from './core/invoke';
import type { DurableRuntime } from './durable';
import { durableKind, type LoadedFunctionsApp } from './load/appLoader';
import type { HostLogger } from './log';
import { EVENT_GRID_PATH, type EventGridTriggers } from './triggers/eventGrid';
import type { HttpTriggers } from './triggers/http';
import type { TimerTriggers } from './triggers/timer';
import { invocationFailedResponse, jsonResponse, type HostRequest, type HostResponse } from './triggers/types';

export interface RouteContext {
  app: LoadedFunctionsApp;
  http: HttpTriggers;
  timers: TimerTriggers;
  eventGrid: EventGridTriggers;
  durable: DurableRuntime | undefined;
  logger: HostLogger;
}

/** Dispatches a request: Event Grid webhook, Durable HTTP API, admin routes, then HTTP triggers; else 404. */
export async function route(req: HostRequest, ctx: RouteContext): Promise<HostResponse> {
  const path = req.url.pathname;
  const lower = path.toLowerCase();
  if (lower === EVENT_GRID_PATH || lower === `${EVENT_GRID_PATH}/`) return ctx.eventGrid.handle(req);
  if (lower.startsWith('/runtime/webhooks/durabletask/') || lower.startsWith('/durabletask/')) {
    if (!ctx.durable) return jsonResponse(404, { error: 'this app has no Durable functions' });
    const result = await ctx.durable.handleHttp({
      method: req.method,
      url: req.url,
      headers: req.headers,
      body: req.body.toString('utf8'),
    });
    return result ?? jsonResponse(404, { error: `no Durable HTTP API route ${req.method} ${path}` });
  }
  const admin = /^\/admin\/functions\/([^/]+)\/?$/i.exec(path);
  if (admin) return adminInvoke(req, decodeURIComponent(admin[1] ?? ''), ctx);
  if (lower === '/admin/host/status') return jsonResponse(200, { state: 'Running' });
  const response = await ctx.http.handle(req);
  return response ?? jsonResponse(404, { error: `No function matches ${req.method} ${path}` });
}

/** Core Tools' manual run of a non-HTTP function: `POST /admin/functions/{name}` with `{"input": "..."}` → 202. */
async function adminInvoke(req: HostRequest, name: string, ctx: RouteContext): Promise<HostResponse> {
  if (req.method !== 'POST') return jsonResponse(405, { error: 'admin invoke takes POST' });
  const fn = ctx.app.getFunction(name);
  if (!fn) return jsonResponse(404, { error: `No function named '${name}'` });
  let input: unknown;
  const text = req.body.toString('utf8').trim();
  if (text !== '') {
    try {
      input = (JSON.parse(text) as { input?: unknown }).input;
    } catch {
      return jsonResponse(400, { error: 'the body must be JSON like {"input": "..."}' });
    }
  }
  try {
    const type = fn.trigger.type.toLowerCase();
    if (type === 'timertrigger') {
      await ctx.timers.trigger(fn.name);
    } else if (type === 'eventgridtrigger') {
      const event = typeof input === 'string' && input.trim() !== '' ? (JSON.parse(input) as unknown) : (input ?? {});
      const response = await ctx.eventGrid.deliver(fn, [event]);
      if (response.status !== 202) return response;
    } else if (type === 'httptrigger') {
      return jsonResponse(400, { error: `'${fn.name}' is HTTP-triggered: call its route instead` });
    } else if (durableKind(fn) !== 'other') {
      return jsonResponse(400, { error: `'${fn.name}' is a Durable function: start it through a durable client` });
    } else {
      await ctx.app.invoke(fn, {
        inputData: [
          { name: fn.trigger.name, data: { string: typeof input === 'string' ? input : JSON.stringify(input) } },
        ],
        reason: 'admin',
      });
    }
  } catch (error) {
    if (error instanceof InvocationError) return invocationFailedResponse(fn.name, error.invocationId);
    if (error instanceof SyntaxError)
      return jsonResponse(400, { error: `input is not a JSON event: ${error.message}` });
    throw error;
  }
  return { status: 202, headers: {}, body: '' };
}
