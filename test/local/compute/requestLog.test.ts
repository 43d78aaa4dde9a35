import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RequestLog } from '../../../local/compute/requestLog';

describe('RequestLog', () => {
  it('keeps the last `limit` entries, oldest first, for any number of requests', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 60 }), (limit, total) => {
        const log = new RequestLog(limit);
        for (let i = 0; i < total; i++) log.add('PUT', `/p/${i}`, 200 + (i % 300), i * 1000);
        const entries = log.entries();
        const expected = Array.from({ length: Math.min(limit, total) }, (_, k) => total - Math.min(limit, total) + k);
        expect(entries.map((e) => e.path)).toEqual(expected.map((i) => `/p/${i}`));
        expect(entries.map((e) => e.time)).toEqual(expected.map((i) => new Date(i * 1000).toISOString()));
      }),
    );
  });

  it('records method, path (UTF-8) and status, and forgets everything on clear', () => {
    const log = new RequestLog(3);
    log.add('delete', '/subscriptions/s/resourceGroups/rg-é/x', 204, 0);
    expect(log.entries()).toEqual([
      {
        method: 'DELETE',
        path: '/subscriptions/s/resourceGroups/rg-é/x',
        status: 204,
        time: '1970-01-01T00:00:00.000Z',
      },
    ]);
    log.clear();
    expect(log.entries()).toEqual([]);
  });

  it('logs nothing with a limit of 0', () => {
    const log = new RequestLog(0);
    log.add('GET', '/x', 200, 0);
    expect(log.entries()).toEqual([]);
  });
});
