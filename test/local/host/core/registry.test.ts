import { describe, expect, it } from 'vitest';
import { bindingsOfType, Disposable, FunctionRegistry } from '../../../../local/host/core/registry';

const httpMetadata = (name: string) => ({
  name,
  bindings: {
    httpTrigger1: { type: 'httpTrigger', direction: 'in' as const, route: 'r' },
    durableClientInput1: { type: 'durableClient', direction: 'in' as const },
    $return: { type: 'http', direction: 'out' as const },
  },
});

describe('FunctionRegistry', () => {
  it('keeps the trigger binding and the raw binding lines the worker would send', () => {
    const registry = new FunctionRegistry();
    registry.registerFunction(httpMetadata('Start'), () => undefined);
    const fn = registry.get('start');
    expect(fn?.trigger).toMatchObject({ name: 'httpTrigger1', type: 'httpTrigger', route: 'r' });
    expect(fn?.rawBindings[0]).toBe('{"type":"httpTrigger","direction":"in","route":"r","name":"httpTrigger1"}');
    expect(bindingsOfType(fn!, 'DURABLECLIENT').map((b) => b.name)).toEqual(['durableClientInput1']);
    expect(bindingsOfType(fn!, 'http', 'out').map((b) => b.name)).toEqual(['$return']);
  });

  it('rejects a function without a trigger binding, naming it', () => {
    const registry = new FunctionRegistry();
    expect(() =>
      registry.registerFunction({ name: 'lonely', bindings: { x: { type: 'table', direction: 'in' } } }, () => 1),
    ).toThrow('Function "lonely" has no trigger binding');
  });

  it('lets a registration be disposed during startup but not after the lock', () => {
    const registry = new FunctionRegistry();
    registry.registerFunction(httpMetadata('a'), () => undefined).dispose();
    expect(registry.get('a')).toBeUndefined();
    const b = registry.registerFunction(httpMetadata('b'), () => undefined);
    registry.lock();
    expect(() => b.dispose()).toThrow('A function can only be disposed during app startup.');
    expect(() => registry.registerFunction(httpMetadata('c'), () => undefined)).toThrow(
      'A function can only be registered during app startup.',
    );
  });

  it('keeps hooks in registration order and removes one when its disposable is disposed', () => {
    const registry = new FunctionRegistry();
    const first = (): void => undefined;
    const second = (): void => undefined;
    const disposable = registry.registerHook('preInvocation', first);
    registry.registerHook('preInvocation', second);
    expect(registry.hooks.preInvocation).toEqual([first, second]);
    disposable.dispose();
    disposable.dispose(); // a second dispose does nothing
    expect(registry.hooks.preInvocation).toEqual([second]);
  });
});

describe('Disposable', () => {
  it('disposes everything it was made from, once', () => {
    const calls: string[] = [];
    const all = Disposable.from({ dispose: () => calls.push('a') }, { dispose: () => calls.push('b') });
    all.dispose();
    all.dispose();
    expect(calls).toEqual(['a', 'b']);
  });
});
