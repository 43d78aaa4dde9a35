import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { byPrecedence, compileRoute } from '../../../../local/host/triggers/httpRoutes';

describe('compileRoute', () => {
  it('matches literal segments case-insensitively, with or without a trailing slash', () => {
    const route = compileRoute('orders/pending');
    expect(route.match('orders/pending')).toEqual({});
    expect(route.match('Orders/PENDING/')).toEqual({});
    expect(route.match('orders')).toBeUndefined();
    expect(route.match('orders/pending/x')).toBeUndefined();
  });

  it('captures {x} parameters URL-decoded', () => {
    expect(compileRoute('users/{id}/posts/{post}').match('users/a%20b/posts/7')).toEqual({ id: 'a b', post: '7' });
  });

  it('leaves an optional {x?} out when its segment is missing', () => {
    const route = compileRoute('hello/{name?}');
    expect(route.match('hello')).toEqual({});
    expect(route.match('hello/ann')).toEqual({ name: 'ann' });
    expect(route.match('hello/ann/more')).toBeUndefined();
  });

  it('enforces {x:int} and keeps optional constrained parameters optional', () => {
    const route = compileRoute('items/{id:int}');
    expect(route.match('items/12')).toEqual({ id: '12' });
    expect(route.match('items/-4')).toEqual({ id: '-4' });
    expect(route.match('items/1.5')).toBeUndefined();
    expect(route.match('items/abc')).toBeUndefined();
    // int is 32-bit and long 64-bit, as in ASP.NET: a value that does not fit does not match.
    expect(route.match('items/2147483647')).toEqual({ id: '2147483647' });
    expect(route.match('items/2147483648')).toBeUndefined();
    expect(route.match('items/-2147483648')).toEqual({ id: '-2147483648' });
    expect(compileRoute('big/{n:long}').match('big/9223372036854775807')).toEqual({ n: '9223372036854775807' });
    expect(compileRoute('big/{n:long}').match('big/9223372036854775808')).toBeUndefined();
    const optional = compileRoute('pages/{n:int?}');
    expect(optional.match('pages')).toEqual({});
    expect(optional.match('pages/x')).toBeUndefined();
  });

  it('supports the other ASP.NET constraints, chained', () => {
    expect(compileRoute('a/{v:bool}').match('a/TRUE')).toEqual({ v: 'TRUE' });
    expect(compileRoute('a/{v:alpha}').match('a/ab1')).toBeUndefined();
    expect(compileRoute('a/{v:guid}').match('a/3f2504e0-4f89-11d3-9a0c-0305e82c3301')).toBeDefined();
    expect(compileRoute('a/{v:int:min(10)}').match('a/9')).toBeUndefined();
    expect(compileRoute('a/{v:int:range(1,5)}').match('a/5')).toEqual({ v: '5' });
    expect(compileRoute('a/{v:maxlength(3)}').match('a/abcd')).toBeUndefined();
    expect(compileRoute('a/{v:regex(^x-\\d+$)}').match('a/x-12')).toEqual({ v: 'x-12' });
  });

  it('gives a catch-all {*rest} the remaining path, slashes kept, possibly empty', () => {
    const route = compileRoute('files/{*path}');
    expect(route.match('files/a/b/c.txt')).toEqual({ path: 'a/b/c.txt' });
    expect(route.match('files/a%2Fb/c')).toEqual({ path: 'a/b/c' });
    expect(route.match('files')).toEqual({});
  });

  it('matches parameters embedded in a segment', () => {
    expect(compileRoute('reports/{year:int}-{month:int}.csv').match('reports/2026-03.csv')).toEqual({
      year: '2026',
      month: '03',
    });
  });

  it('rejects bad templates with an error naming the route and the rule', () => {
    expect(() => compileRoute('a/{id:nosuch}')).toThrow(/route "a\/\{id:nosuch\}": unknown route constraint "nosuch"/);
    expect(() => compileRoute('a/{*rest}/b')).toThrow(/must be the last segment/);
    expect(() => compileRoute('a/{id}/{id}')).toThrow(/parameter "id" appears twice/);
    expect(() => compileRoute('a/{id')).toThrow(/unbalanced/);
  });

  it('orders literal segments before constrained, plain, optional and catch-all parameters', () => {
    const templates = ['x/{*rest}', 'x/{a?}', 'x/{a}', 'x/{a:int}', 'x/y'];
    const sorted = templates.map(compileRoute).sort(byPrecedence);
    expect(sorted.map((r) => r.template)).toEqual(['x/y', 'x/{a:int}', 'x/{a}', 'x/{a?}', 'x/{*rest}']);
  });

  it('round-trips any segment value through a {x} parameter', () => {
    const route = compileRoute('v/{value}');
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 30 }), (value) => {
        expect(route.match(`v/${encodeURIComponent(value)}`)).toEqual({ value });
      }),
    );
  });

  it('accepts exactly the integer strings for {x:int}', () => {
    const route = compileRoute('n/{x:int}');
    fc.assert(
      fc.property(fc.oneof(fc.integer().map(String), fc.stringMatching(/^[0-9a-z.+-]{1,8}$/)), (text) => {
        expect(route.match(`n/${text}`) !== undefined).toBe(/^-?\d+$/.test(text));
      }),
    );
  });
});
