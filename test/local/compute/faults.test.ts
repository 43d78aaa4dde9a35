import { describe, expect, it } from 'vitest';
import { FaultInjector, parseFaultSpec } from '../../../local/compute/faults';

describe('parseFaultSpec', () => {
  it('accepts the DESIGN §6 fields', () => {
    expect(
      parseFaultSpec({
        method: 'PUT',
        pathPattern: '/restorePoints/',
        status: 409,
        code: 'OperationNotAllowed',
        message: 'm',
        retryAfterSeconds: 5,
        times: 2,
      }),
    ).toEqual({
      method: 'PUT',
      pathPattern: '/restorePoints/',
      status: 409,
      code: 'OperationNotAllowed',
      message: 'm',
      retryAfterSeconds: 5,
      times: 2,
    });
  });

  it.each([
    [null, /JSON object/],
    [{}, /fault\.status/],
    [{ status: 99 }, /fault\.status/],
    [{ status: 429, times: 0 }, /fault\.times/],
    [{ status: 429, retryAfterSeconds: -1 }, /fault\.retryAfterSeconds/],
    [{ status: 429, method: 3 }, /fault\.method/],
    [{ status: 429, pathPattern: '(' }, /fault\.pathPattern/],
    [{ status: 429, phase: 'later' }, /fault\.phase/],
  ])('refuses %j naming the field', (input, message) => {
    expect(() => parseFaultSpec(input)).toThrow(message);
  });
});

describe('parseFaultSpec refusals', () => {
  it('refuses an unknown field, which would otherwise widen the fault to every request', () => {
    expect(() => parseFaultSpec({ path: '/restorePoints/', status: 500 })).toThrow(
      /unknown field "path"; allowed: method, pathPattern/,
    );
  });
});

describe('FaultInjector', () => {
  it('matches by method and case-insensitive path pattern, and is used up after `times`', () => {
    const faults = new FaultInjector();
    faults.add({ method: 'GET', pathPattern: '/virtualmachines/', status: 503, times: 2 });
    expect(faults.match('PUT', '/x/virtualMachines/vm', 'request')).toBeUndefined();
    expect(faults.match('GET', '/x/disks/d', 'request')).toBeUndefined();
    const first = faults.match('GET', '/x/virtualMachines/vm', 'request');
    expect(first?.status).toBe(503);
    expect(first?.code).toBe('ServiceUnavailable');
    expect(faults.match('GET', '/x/virtualMachines/vm', 'request')).toBeDefined();
    expect(faults.match('GET', '/x/virtualMachines/vm', 'request')).toBeUndefined();
    expect(faults.size).toBe(0);
  });

  it('keeps operation-phase faults apart from request-phase ones', () => {
    const faults = new FaultInjector();
    faults.add({ status: 500, phase: 'operation' });
    expect(faults.match('PUT', '/a', 'request')).toBeUndefined();
    expect(faults.match('PUT', '/a', 'operation')?.status).toBe(500);
  });
});
