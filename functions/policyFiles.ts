import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { app } from '@azure/functions';
import { appStores } from '../lib/azure/stores';
import { appConfig } from '../lib/config';
import { ensureError } from '../lib/errors';
import { parsePolicy, type Policy } from '../lib/policy';
import { ValidationError } from '../lib/validation';

/**
 * `RPO_POLICY_FILES`: policies kept as files next to the app (GitOps). Loaded at start into RpoPolicies; a file's
 * policy replaces the stored one of the same name, so the file is the source of truth for the names it holds.
 * Entries are paths or globs with `*` / `?` in the file name (`policies/*.json`), relative to the app folder.
 * A bad file is reported with its path and every problem, and stores nothing; the other files still load.
 */

function expand(entry: string, base: string): string[] {
  const full = path.resolve(base, entry);
  const dir = path.dirname(full);
  const name = path.basename(full);
  if (!/[*?]/.test(name)) return [full];
  const pattern = new RegExp(
    `^${name
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries
    .filter((file) => pattern.test(file))
    .sort()
    .map((file) => path.join(dir, file))
    .filter((file) => statSync(file).isFile());
}

export interface PolicyFileResult {
  readonly loaded: string[];
  readonly errors: { file: string; message: string }[];
}

export function readPolicyFiles(
  entries: readonly string[],
  base = process.cwd(),
): { policies: Policy[]; errors: PolicyFileResult['errors'] } {
  const policies: Policy[] = [];
  const errors: PolicyFileResult['errors'] = [];
  for (const file of entries.flatMap((entry) => expand(entry, base))) {
    try {
      const policy = parsePolicy(JSON.parse(readFileSync(file, 'utf8')) as unknown);
      if (policies.some((p) => p.name === policy.name)) {
        errors.push({ file, message: `policy ${policy.name} is defined by another file too; this one is ignored` });
      } else policies.push(policy);
    } catch (error) {
      const message =
        error instanceof ValidationError || error instanceof SyntaxError ? error.message : ensureError(error).message;
      errors.push({ file, message });
    }
  }
  return { policies, errors };
}

let loading: Promise<PolicyFileResult> | undefined;

/** Loads the files once per process (at start, and lazily by the first tick if start-up storage was not ready). */
export function ensurePolicyFilesLoaded(): Promise<PolicyFileResult> {
  loading ??= (async () => {
    const { policies, errors } = readPolicyFiles(appConfig().policyFiles);
    const stores = await appStores<Policy>();
    for (const policy of policies) await stores.policies.upsert(policy);
    return { loaded: policies.map((p) => p.name), errors };
  })();
  loading.catch(() => {
    loading = undefined;
  });
  return loading;
}

app.hook.appStart(async () => {
  try {
    const result = await ensurePolicyFilesLoaded();
    if (result.loaded.length > 0) console.log(`[rpo] policies from RPO_POLICY_FILES: ${result.loaded.join(', ')}`);
    for (const e of result.errors) console.error(`[rpo] policy file ${e.file} not loaded: ${e.message}`);
  } catch (error) {
    console.error(
      `[rpo] RPO_POLICY_FILES could not be loaded yet (${ensureError(error).message}); retried on the next tick`,
    );
  }
});
