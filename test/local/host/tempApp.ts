/** Throw-away Functions app folders for host tests; node_modules links to this repo's packages. */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const REPO_NODE_MODULES = path.resolve(__dirname, '../../../node_modules');

export interface TempApp {
  dir: string;
  remove(): void;
}

/** Writes `files` (path → content; objects are written as JSON) into a fresh folder. */
export function makeTempApp(files: Record<string, string | object>): TempApp {
  const dir = mkdtempSync(path.join(tmpdir(), 'rpo-host-app-'));
  symlinkSync(REPO_NODE_MODULES, path.join(dir, 'node_modules'), 'dir');
  for (const [file, content] of Object.entries(files)) {
    const target = path.join(dir, file);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
