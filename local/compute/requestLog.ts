/**
 * The request log of `GET /_emulator/requests`, as a fixed ring of bytes and typed arrays: logging
 * allocates no object per request, so a long run does not fill the old generation with log
 * entries that die a few thousand requests later.
 */
export interface RequestLogEntry {
  method: string;
  path: string;
  status: number;
  /** Clock time of the request (ISO 8601). */
  time: string;
}

const METHODS = ['GET', 'PUT', 'POST', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
/** Longer paths are cut (ARM paths of the implemented operations stay well below). */
const MAX_PATH_BYTES = 1024;

export class RequestLog {
  private readonly paths: Buffer;
  private readonly pathLengths: Uint16Array;
  private readonly statuses: Uint16Array;
  private readonly methods: Uint8Array;
  private readonly times: Float64Array;
  private next = 0;
  private count = 0;

  constructor(readonly limit: number) {
    this.paths = Buffer.alloc(limit * MAX_PATH_BYTES);
    this.pathLengths = new Uint16Array(limit);
    this.statuses = new Uint16Array(limit);
    this.methods = new Uint8Array(limit);
    this.times = new Float64Array(limit);
  }

  add(method: string, path: string, status: number, timeMs: number): void {
    if (this.limit === 0) return;
    const slot = this.next;
    const known = METHODS.indexOf(method.toUpperCase() as (typeof METHODS)[number]);
    this.methods[slot] = known < 0 ? 255 : known;
    this.pathLengths[slot] = this.paths.write(path, slot * MAX_PATH_BYTES, MAX_PATH_BYTES, 'utf8');
    this.statuses[slot] = status;
    this.times[slot] = timeMs;
    this.next = (slot + 1) % this.limit;
    this.count = Math.min(this.count + 1, this.limit);
  }

  /** Entries, oldest first. */
  entries(): RequestLogEntry[] {
    const result: RequestLogEntry[] = [];
    const first = this.count < this.limit ? 0 : this.next;
    for (let i = 0; i < this.count; i++) {
      const slot = (first + i) % this.limit;
      const start = slot * MAX_PATH_BYTES;
      result.push({
        method: METHODS[this.methods[slot] ?? 255] ?? 'OTHER',
        path: this.paths.toString('utf8', start, start + (this.pathLengths[slot] ?? 0)),
        status: this.statuses[slot] ?? 0,
        time: new Date(this.times[slot] ?? 0).toISOString(),
      });
    }
    return result;
  }

  clear(): void {
    this.next = 0;
    this.count = 0;
  }
}
