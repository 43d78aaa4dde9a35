/**
 * `npm run bench`: runs every benchmark under bench/ in turn (or those named on the command line,
 * e.g. `npm run bench -- emulator`) and lets each print its own figures.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';

interface BenchModule {
  main?: () => Promise<void>;
}

async function run(): Promise<void> {
  const wanted = process.argv.slice(2);
  const names = readdirSync(__dirname)
    .filter((file) => file.endsWith('.ts') && file !== 'run.ts')
    .map((file) => file.slice(0, -'.ts'.length))
    .filter((name) => wanted.length === 0 || wanted.includes(name))
    .sort();
  const unknown = wanted.filter((name) => !names.includes(name));
  if (unknown.length > 0) {
    console.error(`bench: no benchmark named ${unknown.join(', ')} (have: ${names.join(', ') || 'none'})`);
    process.exitCode = 2;
    return;
  }
  for (const name of names) {
    console.log(`\n=== bench/${name}.ts ===`);
    const started = process.hrtime.bigint();
    const module = (await import(path.join(__dirname, `${name}.ts`))) as BenchModule;
    if (typeof module.main !== 'function') throw new Error(`bench/${name}.ts does not export main()`);
    await module.main();
    console.log(`(bench/${name}.ts took ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s)`);
  }
}

run().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
