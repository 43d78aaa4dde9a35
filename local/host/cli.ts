/** Command-line flags of `npm run host -- [--app <folder>] [--port <n>]`. */
import path from 'node:path';

export interface HostCliOptions {
  appDir: string;
  port: number | undefined;
  help: boolean;
}

/** A bad command line: the message names the flag; the CLI exits with status 2. */
export class UsageError extends Error {}

export const USAGE = `Usage: npm run host -- [--app <folder>] [--port <n>]

  --app <folder>  Functions app folder to host (default: this repository's built app)
  --port <n>      port on 127.0.0.1 (default 7071, or local.settings.json Host.LocalHttpPort; 0 = any free port)
  --help          show this text

Storage comes from the app's AzureWebJobsStorage setting (UseDevelopmentStorage=true = Azurite's
default ports); without it, Durable state is kept in memory. RPO_CLOCK_SCALE speeds up time.`;

export function parseHostArgs(argv: readonly string[], defaultAppDir: string): HostCliOptions {
  const options: HostCliOptions = { appDir: defaultAppDir, port: undefined, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '' || (inline === undefined && v.startsWith('--'))) {
        throw new UsageError(`${flag} needs a value`);
      }
      return v;
    };
    switch (flag) {
      case '--app':
        options.appDir = path.resolve(value());
        break;
      case '--port': {
        const text = value();
        const port = Number(text);
        if (!/^\d+$/.test(text) || port > 65535) {
          throw new UsageError(`--port must be an integer from 0 to 65535, got "${text}"`);
        }
        options.port = port;
        break;
      }
      case '--help':
      case '-h':
        options.help = true;
        break;
      default:
        throw new UsageError(`unknown flag "${arg}"`);
    }
  }
  return options;
}
