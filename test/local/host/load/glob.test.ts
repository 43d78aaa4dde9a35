import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandBraces, globFiles, globToRegExp } from '../../../../local/host/load/glob';

describe('expandBraces', () => {
  it('expands every alternative, nested braces included', () => {
    expect(expandBraces('dist/{functions,orchestrations}/**/*.js')).toEqual([
      'dist/functions/**/*.js',
      'dist/orchestrations/**/*.js',
    ]);
    expect(expandBraces('{a,b{c,d}}.js')).toEqual(['a.js', 'bc.js', 'bd.js']);
    expect(expandBraces('plain.js')).toEqual(['plain.js']);
  });
});

describe('globToRegExp', () => {
  it('lets * stay within a segment and ** span any number of folders', () => {
    expect(globToRegExp('src/*.js').test('src/a.js')).toBe(true);
    expect(globToRegExp('src/*.js').test('src/x/a.js')).toBe(false);
    expect(globToRegExp('src/**/*.js').test('src/a.js')).toBe(true);
    expect(globToRegExp('src/**/*.js').test('src/x/y/a.js')).toBe(true);
    expect(globToRegExp('src/**/*.js').test('src/a.ts')).toBe(false);
  });
});

describe('globFiles', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'rpo-glob-'));
    for (const file of [
      'dist/functions/a.js',
      'dist/functions/deep/b.js',
      'dist/orchestrations/c.js',
      'dist/lib/d.js',
    ]) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), '');
    }
    mkdirSync(path.join(dir, 'dist/functions/node_modules'), { recursive: true });
    writeFileSync(path.join(dir, 'dist/functions/node_modules/e.js'), '');
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the files of the package.json main pattern, sorted, skipping node_modules', () => {
    expect(globFiles(dir, 'dist/{functions,orchestrations}/**/*.js')).toEqual([
      'dist/functions/a.js',
      'dist/functions/deep/b.js',
      'dist/orchestrations/c.js',
    ]);
  });

  it('returns a plain path only when the file exists, and nothing for a folder that does not', () => {
    expect(globFiles(dir, './dist/lib/d.js')).toEqual(['dist/lib/d.js']);
    expect(globFiles(dir, 'dist/missing.js')).toEqual([]);
    expect(globFiles(dir, 'nowhere/**/*.js')).toEqual([]);
  });
});
