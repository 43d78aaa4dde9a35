/** `npm run host -- [--app <folder>] [--port <n>]`: the local Functions + Durable host on its own. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ensureError } from '../../lib/errors';
import { parseHostArgs, UsageError, USAGE } from './cli';
import { startHost } from './host';
import { readLocalSettings } from './load/settings';

async function main(): Promise<void> {
  let options;
  try {
    options = parseHostArgs(process.argv.slice(2), path.resolve(__dirname, '..', '..'));
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`host: ${error.message}\n\n${USAGE}`);
      process.exit(2);
    }
    throw error;
  }
  if (options.help) {
    console.log(USAGE);
    return;
  }
  if (!existsSync(path.join(options.appDir, 'package.json'))) {
    console.error(`host: --app ${options.appDir} is not a Functions app folder (no package.json)`);
    process.exit(2);
  }
  const storage = process.env.AzureWebJobsStorage ?? readLocalSettings(options.appDir).values.AzureWebJobsStorage;
  if (!storage) console.warn('host: AzureWebJobsStorage is not set; Durable state is kept in memory only');

  const host = await startHost({
    appDir: options.appDir,
    ...(options.port === undefined ? {} : { port: options.port }),
    store: storage ? 'azurite' : 'memory',
  });

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) {
      console.error(`host: ${signal} again, exiting now`);
      process.exit(1);
    }
    stopping = true;
    host.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`host: stop failed: ${ensureError(error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((thrown: unknown) => {
  const error = ensureError(thrown) as Error & { code?: string };
  if (error.code === 'EADDRINUSE') {
    console.error(`host: the port is already in use (${error.message}); try --port`);
  } else if (/ECONNREFUSED/.test(error.message)) {
    console.error(
      `host: cannot reach the app's storage (AzureWebJobsStorage): ${error.message}. Is Azurite running? Start it with: npm run azurite`,
    );
  } else {
    console.error(`host: ${error.stack ?? error.message}`);
  }
  process.exit(1);
});
