/** The host's own view of an HTTP exchange, independent of node:http (so tests and the server share it). */
export interface HostRequest {
  method: string;
  url: URL;
  /** Lower-case header names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
}

export interface HostResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer | string;
}

export function jsonResponse(status: number, value: unknown, headers: Record<string, string> = {}): HostResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(value),
  };
}

/** The body sent when a function fails: which invocation to look up in the log, never the error text. */
export function invocationFailedResponse(functionName: string, invocationId: string): HostResponse {
  return jsonResponse(
    500,
    { error: `Function '${functionName}' failed; see the host log for details`, functionName, invocationId },
    { 'x-ms-invocation-id': invocationId },
  );
}
