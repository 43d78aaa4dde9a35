import path from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..', '..');

/** Lints `code` as if it were a file under orchestrations/, with the repo's own config. */
async function lintOrchestrator(code: string): Promise<string[]> {
  const eslint = new ESLint({
    cwd: ROOT,
    // The probe is not a file of the TypeScript project, so lint it without type information.
    overrideConfig: [
      { languageOptions: { parserOptions: { project: null, projectService: false } } },
      tseslint.configs.disableTypeChecked,
    ],
  });
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, 'orchestrations', 'probe.ts') });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`);
}

describe('the determinism rule for orchestrations/', () => {
  it.each([
    ['Date.now()', 'export const t = Date.now();'],
    ['new Date() without arguments', 'export const t = new Date();'],
    ['Date() called as a function', 'export const t = Date();'],
    ['Math.random()', 'export const r = Math.random();'],
    ['setTimeout', 'setTimeout(() => undefined, 1);'],
    ['setInterval', 'setInterval(() => undefined, 1);'],
    ['fetch', "export const p = fetch('https://example.invalid');"],
    ['globalThis', 'export const f = globalThis.fetch;'],
    ['crypto', 'export const id = crypto.randomUUID();'],
    ['performance.now()', 'export const t = performance.now();'],
    ['process.env', 'export const e = process.env.X;'],
    ['a Node built-in', "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;"],
    ['an Azure SDK', "import { TableClient } from '@azure/data-tables';\nexport const c = TableClient;"],
    ['require()', "export const m: unknown = require('x');"],
  ])('refuses %s', async (_what, code) => {
    const messages = await lintOrchestrator(code);
    expect(messages.some((m) => /^no-restricted-(syntax|globals|imports)/.test(m))).toBe(true);
  });

  it('accepts deterministic control flow that takes time from the context', async () => {
    const code = [
      "import type * as df from 'durable-functions';",
      'export function* run(context: df.OrchestrationContext): Generator<unknown, string, unknown> {',
      '  const at = new Date(context.df.currentUtcDateTime.getTime() + 60_000);',
      '  yield context.df.createTimer(at);',
      '  return at.toISOString();',
      '}',
    ].join('\n');
    expect(await lintOrchestrator(code)).toEqual([]);
  });
});
