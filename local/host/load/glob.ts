/**
 * The package.json `main` glob, as the worker expands it with globby: `*`, `?`, `**` and `{a,b}`.
 * Node 20 has no fs.glob, and the pattern language needed here is small.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** `a/{b,c}/{d,e}.js` → the four plain patterns (nested braces included). */
export function expandBraces(pattern: string): string[] {
  const open = pattern.indexOf('{');
  if (open < 0) return [pattern];
  let depth = 0;
  for (let i = open; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '{') depth++;
    else if (ch === '}' && --depth === 0) {
      const inner = pattern.slice(open + 1, i);
      const alternatives = splitTopLevel(inner);
      const head = pattern.slice(0, open);
      const tail = pattern.slice(i + 1);
      return alternatives.flatMap((alt) => expandBraces(head + alt + tail));
    }
  }
  return [pattern]; // unbalanced: treat literally
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '{') depth++;
    else if (ch === '}') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** A brace-free pattern as a regular expression over `/`-separated relative paths. */
export function globToRegExp(pattern: string): RegExp {
  let source = '';
  const segments = pattern.split('/');
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    if (segment === '**') {
      source += last ? '.*' : '(?:[^/]+/)*';
      return;
    }
    for (const ch of segment) {
      if (ch === '*') source += '[^/]*';
      else if (ch === '?') source += '[^/]';
      else source += ch.replace(/[.+^$()|[\]\\]/g, '\\$&');
    }
    if (!last) source += '/';
  });
  return new RegExp(`^${source}$`);
}

export function hasMagic(pattern: string): boolean {
  return /[*?{]/.test(pattern);
}

/** Files under `cwd` matching `pattern`, relative paths with `/`, sorted; node_modules and dot folders skipped. */
export function globFiles(cwd: string, pattern: string): string[] {
  const normalized = pattern.replace(/\\/g, '/').replace(/^\.\//, '');
  const found = new Set<string>();
  for (const plain of expandBraces(normalized)) {
    if (!hasMagic(plain)) {
      if (isFile(path.join(cwd, plain))) found.add(plain);
      continue;
    }
    const segments = plain.split('/');
    const firstMagic = segments.findIndex((s) => /[*?]/.test(s));
    const base = segments.slice(0, firstMagic).join('/');
    const regex = globToRegExp(plain);
    for (const file of walk(cwd, base)) if (regex.test(file)) found.add(file);
  }
  return [...found].sort();
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function* walk(cwd: string, relDir: string): Generator<string> {
  let entries;
  try {
    entries = readdirSync(path.join(cwd, relDir), { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      yield* walk(cwd, rel);
    } else if (entry.isFile()) {
      yield rel;
    }
  }
}
