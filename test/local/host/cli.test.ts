import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseHostArgs, UsageError } from '../../../local/host/cli';

describe('parseHostArgs', () => {
  const repo = '/repo';

  it('defaults to the given app folder and no explicit port', () => {
    expect(parseHostArgs([], repo)).toEqual({ appDir: repo, port: undefined, help: false });
  });

  it('reads --app and --port, as separate or inline values', () => {
    expect(parseHostArgs(['--app', 'some/app', '--port', '0'], repo)).toEqual({
      appDir: path.resolve('some/app'),
      port: 0,
      help: false,
    });
    expect(parseHostArgs(['--port=8080', '--app=/x'], repo)).toMatchObject({ appDir: '/x', port: 8080 });
  });

  it('rejects an unknown flag, a missing value and a bad port, naming the flag', () => {
    expect(() => parseHostArgs(['--bogus'], repo)).toThrow(new UsageError('unknown flag "--bogus"'));
    expect(() => parseHostArgs(['--app'], repo)).toThrow('--app needs a value');
    expect(() => parseHostArgs(['--app', '--port', '1'], repo)).toThrow('--app needs a value');
    expect(() => parseHostArgs(['--port', 'x'], repo)).toThrow('--port must be an integer from 0 to 65535, got "x"');
    expect(() => parseHostArgs(['--port', '70000'], repo)).toThrow('--port must be an integer');
  });
});
