/** The request and response shapes the router hands to operation handlers. */
export interface ArmRequest {
  method: string;
  /** Path without the query string, percent-decoded per segment. */
  path: string;
  query: URLSearchParams;
  /** Path parameters of the matched route template, e.g. `resourceGroupName`. */
  params: Record<string, string>;
  /** Parsed JSON body (undefined when there was none). */
  body: unknown;
  apiVersion: string;
  /** `https://127.0.0.1:8443`: absolute URLs (LRO headers, nextLink) point back at the emulator. */
  baseUrl: string;
}

export interface ArmResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export function param(request: ArmRequest, name: string): string {
  const value = request.params[name];
  if (value === undefined) throw new Error(`route has no parameter ${name}`);
  return value;
}
