import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EmulatorSnapshot } from './emulator';

/** Optional JSON snapshot of the emulator's state, so a restart keeps the fleet. */
export async function readSnapshot(file: string): Promise<EmulatorSnapshot | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as EmulatorSnapshot;
  } catch (error) {
    throw new SyntaxError(
      `compute snapshot ${file} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
}

/** Writes atomically (temporary file + rename), so a crash never leaves half a snapshot. */
export async function writeSnapshot(file: string, snapshot: EmulatorSnapshot): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(snapshot));
  await rename(temporary, file);
}
