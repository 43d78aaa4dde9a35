/**
 * Event Grid webhook, as the WebJobs Event Grid extension serves it at
 * `/runtime/webhooks/eventgrid?functionName={name}` (HttpRequestProcessor.cs): the subscription
 * validation handshake (Event Grid schema array, or CloudEvents object with double-encoded data),
 * the CloudEvents OPTIONS abuse-protection handshake, notifications (one invocation per event of a
 * batch), and Unsubscribe.
 */
import { InvocationError } from '../core/invoke';
import type { RegisteredFunction } from '../core/registry';
import type { LoadedFunctionsApp } from '../load/appLoader';
import { jsonResponse, type HostRequest, type HostResponse } from './types';

export const EVENT_GRID_PATH = '/runtime/webhooks/eventgrid';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function validationCode(body: unknown): string | undefined {
  if (Array.isArray(body)) {
    const data: unknown = isRecord(body[0]) ? body[0].data : undefined;
    return isRecord(data) && typeof data.validationCode === 'string' ? data.validationCode : undefined;
  }
  if (isRecord(body)) {
    let data = body.data;
    if (typeof data === 'string') {
      try {
        data = JSON.parse(data) as unknown; // CloudEvents subscription event: data is double-encoded
      } catch {
        return undefined;
      }
    }
    return isRecord(data) && typeof data.validationCode === 'string' ? data.validationCode : undefined;
  }
  return undefined;
}

export class EventGridTriggers {
  constructor(private readonly app: LoadedFunctionsApp) {}

  private find(name: string | null): RegisteredFunction | undefined {
    if (!name) return undefined;
    const fn = this.app.getFunction(name);
    return fn && fn.trigger.type.toLowerCase() === 'eventgridtrigger' ? fn : undefined;
  }

  has(name: string): boolean {
    return this.find(name) !== undefined;
  }

  async handle(req: HostRequest): Promise<HostResponse> {
    const name = req.url.searchParams.get('functionName');
    if (!name) return jsonResponse(400, { error: 'query parameter functionName is required' });
    const fn = this.find(name);
    if (!fn) return jsonResponse(404, { error: `No Event Grid-triggered function named '${name}'` });

    if (req.method === 'OPTIONS') {
      const origin = req.headers['webhook-request-origin'];
      if (!origin) return jsonResponse(400, { error: 'header WebHook-Request-Origin is required for the handshake' });
      return {
        status: 200,
        headers: { 'webhook-allowed-origin': origin, 'webhook-allowed-rate': '*', allow: 'POST, OPTIONS' },
        body: '',
      };
    }
    if (req.method !== 'POST') return jsonResponse(405, { error: 'Event Grid webhook accepts POST and OPTIONS' });

    let body: unknown;
    try {
      body = JSON.parse(req.body.toString('utf8')) as unknown;
    } catch {
      return jsonResponse(400, { error: 'the request body must be JSON (an event object or an array of events)' });
    }
    const eventType = (
      req.headers['aeg-event-type'] ??
      (/^application\/cloudevents/i.test(req.headers['content-type'] ?? '') ? 'Notification' : '')
    ).toLowerCase();

    switch (eventType) {
      case 'subscriptionvalidation': {
        const code = validationCode(body);
        if (code === undefined) {
          return jsonResponse(400, { error: 'the validation event has no data.validationCode string' });
        }
        return jsonResponse(200, { validationResponse: code });
      }
      case 'notification': {
        if (!Array.isArray(body) && !isRecord(body)) {
          return jsonResponse(400, { error: 'the request body must be an event object or an array of events' });
        }
        return this.deliver(fn, Array.isArray(body) ? body : [body]);
      }
      case 'unsubscribe':
        return { status: 202, headers: {}, body: '' };
      default:
        return jsonResponse(400, {
          error: 'header aeg-event-type must be SubscriptionValidation, Notification or Unsubscribe',
        });
    }
  }

  /** Invokes the function once per event, in order; 202 when all succeeded, else 500 naming the failed invocations. */
  async deliver(fn: RegisteredFunction, events: unknown[]): Promise<HostResponse> {
    const failed: string[] = [];
    const invocations: string[] = [];
    for (const event of events) {
      try {
        const result = await this.app.invoke(fn, {
          inputData: [{ name: fn.trigger.name, data: { json: JSON.stringify(event) } }],
          reason: `event ${isRecord(event) && typeof event.id === 'string' ? event.id : '?'}`,
        });
        invocations.push(result.invocationId);
      } catch (error) {
        if (!(error instanceof InvocationError)) throw error;
        failed.push(error.invocationId);
      }
    }
    if (failed.length > 0) {
      return jsonResponse(500, {
        error: `Function '${fn.name}' failed for ${failed.length} of ${events.length} event(s); see the host log`,
        functionName: fn.name,
        invocationId: failed[0],
        failedInvocationIds: failed,
      });
    }
    return { status: 202, headers: {}, body: '' };
  }
}
