/** The host's one node:http server: turns node requests into HostRequest and HostResponse back. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ensureError } from '../../lib/errors';
import type { HostLogger } from './log';
import { jsonResponse, type HostRequest, type HostResponse } from './triggers/types';

/** Azure Functions' own request size limit (100 MB). */
export const MAX_REQUEST_BYTES = 100 * 1024 * 1024;

export type RequestHandler = (req: HostRequest) => Promise<HostResponse>;

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

class BodyTooLargeError extends Error {}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) {
        reject(new BodyTooLargeError(`request body exceeds ${MAX_REQUEST_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function headersOf(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

function send(res: ServerResponse, response: HostResponse): void {
  const body = typeof response.body === 'string' ? Buffer.from(response.body, 'utf8') : response.body;
  for (const [name, value] of Object.entries(response.headers)) {
    if (name.toLowerCase() === 'content-length' || name.toLowerCase() === 'transfer-encoding') continue;
    res.setHeader(name, value);
  }
  res.statusCode = response.status;
  res.setHeader('content-length', body.length);
  res.end(body);
}

export async function startServer(
  handler: RequestHandler,
  options: { port: number; hostname: string; logger: HostLogger },
): Promise<RunningServer> {
  let baseUrl = '';
  const server: Server = createServer((req, res) => {
    void (async () => {
      let response: HostResponse;
      try {
        const body = await readBody(req);
        const url = new URL(req.url ?? '/', baseUrl);
        response = await handler({ method: (req.method ?? 'GET').toUpperCase(), url, headers: headersOf(req), body });
      } catch (thrown) {
        const error = ensureError(thrown);
        if (error instanceof BodyTooLargeError) {
          response = jsonResponse(413, { error: error.message });
        } else {
          options.logger.log('error', `${req.method} ${req.url}: ${error.stack ?? error.message}`);
          response = jsonResponse(500, { error: 'internal host error; see the host log' });
        }
      }
      if (res.headersSent || res.destroyed) return;
      try {
        send(res, response);
      } catch (thrown) {
        // e.g. a header value the HTTP spec does not allow, set by a function
        options.logger.log(
          'error',
          `${req.method} ${req.url}: cannot send the response: ${ensureError(thrown).message}`,
        );
        if (!res.headersSent) {
          res.removeHeader('content-length');
          send(
            res,
            jsonResponse(500, { error: 'the function returned a response that cannot be sent; see the host log' }),
          );
        } else {
          res.destroy();
        }
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.hostname, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.hostname.includes(':') ? `[${options.hostname}]` : options.hostname;
  baseUrl = `http://${host}:${port}`;
  return {
    url: baseUrl,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Keep-alive clients that never go idle must not hold the host open.
        setTimeout(() => server.closeAllConnections(), 1000).unref();
      }),
  };
}
