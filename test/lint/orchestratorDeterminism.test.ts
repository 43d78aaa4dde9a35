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
    ['a dynamic import()', "export const m = import('../lib/policy');"],
  ])('refuses %s', async (_what, code) => {
    const messages = await lintOrchestrator(code);
    expect(messages.some((m) => /^(@typescript-eslint\/)?no-restricted-(syntax|globals|imports)/.test(m))).toBe(true);
  });

  it.each([
    ['lib/config (reads process.env)', '../lib/config', 'lib/config reads process.env'],
    ['lib/config with an extension', '../lib/config.js', 'lib/config reads process.env'],
    ['lib/clock (reads Date.now)', '../lib/clock', 'lib/clock reads the real clock'],
    ['lib/clock from a nested orchestrator folder', '../../lib/clock', 'lib/clock reads the real clock'],
    ['lib/azure', '../lib/azure', 'orchestrators do no I/O'],
    ['a module under lib/azure', '../lib/azure/compute', 'orchestrators do no I/O'],
    ['lib/tables', '../lib/tables', 'orchestrators do no I/O'],
    ['a module under lib/tables', '../lib/tables/outcomeStore', 'orchestrators do no I/O'],
    ['a module under local/', '../local/clock', 'local/ is the local stack'],
    ['local/ itself', '../local', 'local/ is the local stack'],
  ])('refuses importing values from %s', async (_what, specifier, words) => {
    for (const code of [
      `import * as m from '${specifier}';\nexport const x = m;`,
      `import { now, type Clock } from '${specifier}';\nexport const x: Clock = now;`,
      `import '${specifier}';`,
      `export { x } from '${specifier}';`,
    ]) {
      const messages = await lintOrchestrator(code);
      expect(messages, code).toContainEqual(
        expect.stringMatching(new RegExp(`^@typescript-eslint/no-restricted-imports: .*${words}`)),
      );
    }
  });

  it.each([
    ['lib/tables', '../lib/tables/outcomeStore'],
    ['lib/config', '../lib/config'],
    ['lib/clock', '../lib/clock'],
    ['an Azure SDK', '@azure/arm-compute'],
    ['a Node built-in', 'node:fs'],
  ])('allows type-only imports from %s (erased before the orchestrator runs)', async (_what, specifier) => {
    for (const code of [
      `import type { X } from '${specifier}';\nexport type Y = X;`,
      `import { type X } from '${specifier}';\nexport type Y = X;`,
      `export type { X } from '${specifier}';`,
    ]) {
      expect(await lintOrchestrator(code), code).toEqual([]);
    }
  });

  it.each([
    ['lib/policy', "import { parsePolicy } from '../lib/policy';\nexport const p = parsePolicy;"],
    ['lib/schedule', "import { slotsBetween } from '../lib/schedule';\nexport const s = slotsBetween;"],
    ['a sibling contract module', "import type * as contracts from './contracts';\nexport type C = typeof contracts;"],
    ['lib/redact (pure)', "import { redactSecrets } from '../lib/redact';\nexport const r = redactSecrets;"],
    [
      'the Functions library',
      "import type { InvocationContext } from '@azure/functions';\nexport type C = InvocationContext;",
    ],
  ])('allows importing %s', async (_what, code) => {
    expect(await lintOrchestrator(code)).toEqual([]);
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
