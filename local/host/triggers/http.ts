/** HTTP triggers: `/{routePrefix}/{route}` → the function's RpcHttpData in, its `$return` http data out. */
import { InvocationError } from '../core/invoke';
import type { RegisteredFunction } from '../core/registry';
import type { RpcHttpCookie, RpcHttpData, RpcTypedData } from '../core/rpcTypes';
import type { LoadedFunctionsApp } from '../load/appLoader';
import { byPrecedence, compileRoute, type CompiledRoute } from './httpRoutes';
import { invocationFailedResponse, type HostRequest, type HostResponse } from './types';

interface HttpRoute {
  fn: RegisteredFunction;
  route: CompiledRoute;
  /** Upper-case; empty = any method. */
  methods: Set<string>;
}

export class HttpTriggers {
  private readonly routes: HttpRoute[];
  private readonly prefix: string;

  constructor(private readonly app: LoadedFunctionsApp) {
    this.prefix = app.hostSettings.routePrefix.toLowerCase();
    this.routes = app.functions
      .filter((fn) => fn.trigger.type.toLowerCase() === 'httptrigger')
      .map((fn) => {
        const template = typeof fn.trigger.route === 'string' && fn.trigger.route !== '' ? fn.trigger.route : fn.name;
        let route: CompiledRoute;
        try {
          route = compileRoute(template);
        } catch (error) {
          throw new Error(`Function '${fn.name}': ${(error as Error).message}`, { cause: error });
        }
        const methods = Array.isArray(fn.trigger.methods) ? fn.trigger.methods.map((m) => String(m).toUpperCase()) : [];
        return { fn, route, methods: new Set(methods) };
      })
      .sort((a, b) => byPrecedence(a.route, b.route));
  }

  /** One line per route, for the startup log. */
  describe(baseUrl: string): string[] {
    return this.routes.map((r) => {
      const methods = r.methods.size > 0 ? [...r.methods].join(',') : 'ANY';
      const path = [this.prefix, r.route.template.replace(/^\/+/, '')].filter((p) => p !== '').join('/');
      return `${r.fn.name}: [${methods}] ${baseUrl}/${path}`;
    });
  }

  /** The route's path relative to the prefix, or undefined when the path is outside the prefix. */
  private relativePath(pathname: string): string | undefined {
    const path = pathname.replace(/^\/+/, '');
    if (this.prefix === '') return path;
    const lower = path.toLowerCase();
    if (lower === this.prefix) return '';
    if (lower.startsWith(`${this.prefix}/`)) return path.slice(this.prefix.length + 1);
    return undefined;
  }

  /** Serves the request if it is an HTTP-trigger route; undefined when no function matches. */
  async handle(req: HostRequest): Promise<HostResponse | undefined> {
    const relative = this.relativePath(req.url.pathname);
    if (relative === undefined) return undefined;
    const method = req.method.toUpperCase();
    for (const candidate of this.routes) {
      if (candidate.methods.size > 0 && !candidate.methods.has(method)) continue;
      const params = candidate.route.match(relative);
      if (params) return this.invoke(candidate.fn, req, params);
    }
    return undefined;
  }

  private async invoke(
    fn: RegisteredFunction,
    req: HostRequest,
    params: Record<string, string>,
  ): Promise<HostResponse> {
    const http: RpcHttpData = {
      method: req.method.toUpperCase(),
      url: req.url.toString(),
      headers: req.headers,
      query: queryOf(req.url),
      params,
      body: req.body.length > 0 ? { bytes: req.body } : undefined,
    };
    try {
      const result = await this.app.invoke(fn, {
        inputData: [{ name: fn.trigger.name, data: { http } }],
        reason: `${http.method} ${req.url.pathname}`,
      });
      return toHostResponse(result.response.returnValue);
    } catch (error) {
      if (error instanceof InvocationError) return invocationFailedResponse(fn.name, error.invocationId);
      throw error;
    }
  }
}

/** Repeated query keys arrive comma-joined, as the host's ASP.NET query collection gives them. */
function queryOf(url: URL): Record<string, string> {
  const query: Record<string, string> = {};
  for (const key of new Set(url.searchParams.keys())) query[key] = url.searchParams.getAll(key).join(',');
  return query;
}

function toHostResponse(data: RpcTypedData | null | undefined): HostResponse {
  const http = data?.http;
  // A handler that returns nothing leaves $return empty: no content.
  if (!http) return { status: 204, headers: {}, body: '' };
  const headers: Record<string, string | string[]> = { ...(http.headers ?? {}) };
  const cookies = (http.cookies ?? []).map(serializeCookie);
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  const body = http.body?.bytes
    ? Buffer.from(http.body.bytes)
    : http.body?.string !== undefined && http.body?.string !== null
      ? http.body.string
      : '';
  return { status: Number(http.statusCode ?? '200') || 200, headers, body };
}

function serializeCookie(cookie: RpcHttpCookie): string {
  const parts = [`${cookie.name ?? ''}=${cookie.value ?? ''}`];
  if (cookie.domain?.value) parts.push(`Domain=${cookie.domain.value}`);
  if (cookie.path?.value) parts.push(`Path=${cookie.path.value}`);
  const expires = cookie.expires?.value;
  if (expires?.seconds !== undefined && expires.seconds !== null) {
    parts.push(`Expires=${new Date(Number(expires.seconds) * 1000).toUTCString()}`);
  }
  if (cookie.maxAge?.value !== undefined && cookie.maxAge.value !== null) parts.push(`Max-Age=${cookie.maxAge.value}`);
  if (cookie.secure?.value) parts.push('Secure');
  if (cookie.httpOnly?.value) parts.push('HttpOnly');
  const sameSite = cookie.sameSite;
  if (sameSite && sameSite !== 'none') parts.push(`SameSite=${sameSite === 'explicitNone' ? 'None' : sameSite}`);
  return parts.join('; ');
}
